package org.parley.overlay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class BackoffTest {
    @Test
    void delaysDoubleWithinJitterBoundsUpToTheCap() {
        Backoff b = new Backoff(Duration.ofMillis(500), Duration.ofSeconds(30), new Random(1));
        long ceiling = 500;
        for (int i = 0; i < 12; i++) {
            long d = b.next().toMillis();
            assertThat(d).isBetween(ceiling / 2, ceiling);
            ceiling = Math.min(30_000, ceiling * 2);
        }
        assertThat(b.attempts()).isEqualTo(12);
        b.reset();
        assertThat(b.next().toMillis()).isBetween(250L, 500L);
    }

    @Test
    void jitterSpreadsClientsApart() {
        Set<Long> seen = new HashSet<>();
        for (int seed = 0; seed < 50; seed++) {
            Backoff b = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(60), new Random(seed));
            b.next();
            b.next();
            seen.add(b.next().toMillis());
        }
        assertThat(seen.size()).isGreaterThan(40);
    }

    @Test
    void sameSeedSameSchedule() {
        Backoff a = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(5), new Random(9));
        Backoff b = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(5), new Random(9));
        for (int i = 0; i < 10; i++) assertThat(a.next()).isEqualTo(b.next());
    }

    @Test
    void rejectsBadBounds() {
        assertThatThrownBy(() -> new Backoff(Duration.ZERO, Duration.ofSeconds(1), new Random()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1), new Random()))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
