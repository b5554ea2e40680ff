package org.parley.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.parley.overlay.Scheduler;

class EngineTest {
    @Test
    void runsEventsByTimeThenBySchedulingOrder() {
        Engine e = new Engine();
        List<String> log = new ArrayList<>();
        e.after(20, () -> log.add("b@" + e.elapsed()));
        e.after(10, () -> log.add("a@" + e.elapsed()));
        e.after(20, () -> log.add("c@" + e.elapsed()));
        e.after(0, () -> {
            log.add("now@" + e.elapsed());
            e.after(5, () -> log.add("nested@" + e.elapsed()));
        });
        e.runUntil(Engine.EPOCH + 100);
        assertThat(log).containsExactly("now@0", "nested@5", "a@10", "b@20", "c@20");
        assertThat(e.elapsed()).isEqualTo(100);
        assertThat(e.processed()).isEqualTo(5);
    }

    @Test
    void cancelledEventsDoNotRun() {
        Engine e = new Engine();
        List<Integer> log = new ArrayList<>();
        Scheduler.Cancellable c = e.after(10, () -> log.add(1));
        e.after(5, c::cancel);
        e.after(15, () -> log.add(2));
        e.runFor(50);
        assertThat(log).containsExactly(2);
    }

    @Test
    void manyRandomEventsComeOutSorted() {
        Engine e = new Engine();
        java.util.SplittableRandom r = new java.util.SplittableRandom(3);
        List<Long> seen = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) e.after(r.nextLong(5_000), () -> seen.add(e.now()));
        e.runFor(10_000);
        assertThat(seen).hasSize(20_000).isSorted();
    }

    @Test
    void stopsAtTheRequestedTime() {
        Engine e = new Engine();
        List<Integer> log = new ArrayList<>();
        e.after(100, () -> log.add(1));
        e.runFor(99);
        assertThat(log).isEmpty();
        e.runFor(1);
        assertThat(log).containsExactly(1);
    }
}
