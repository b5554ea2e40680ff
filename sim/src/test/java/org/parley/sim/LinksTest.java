package org.parley.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.parley.protocol.Frame;

class LinksTest {
    private static final Frame PING = new Frame.Ping(7);

    @Test
    void deliversWithRegionLatency() {
        Engine e = new Engine();
        Links l = new Links(e, new SplittableRandom(1), 0, 1);
        Probe a = new Probe(e, 0, 0), b = new Probe(e, 3, 0);
        for (int i = 0; i < 100; i++) l.send(a, b, PING);
        e.runFor(1000);
        assertThat(b.received()).hasSize(100);
        int base = Geography.baseMillis(0, 3);
        assertThat(b.receivedAt()).allSatisfy(t -> assertThat(t - Engine.EPOCH).isBetween((long) base, base + 10L));
        assertThat(l.wireChecked()).isEqualTo(100);
        assertThat(l.wireErrors()).isZero();
    }

    @Test
    void dropsAcrossAPartitionAndHeals() {
        Engine e = new Engine();
        Links l = new Links(e, new SplittableRandom(1), 0, 0);
        Probe a = new Probe(e, 2, 0), same = new Probe(e, 2, 0), other = new Probe(e, 2, 1);
        l.partitioned(true);
        l.send(a, same, PING);
        l.send(a, other, PING);
        l.sendReliable(a, other, PING);
        e.runFor(1000);
        assertThat(same.received()).hasSize(1);
        assertThat(other.received()).isEmpty();
        assertThat(l.lostPartition()).isEqualTo(2);
        l.partitioned(false);
        l.send(a, other, PING);
        e.runFor(1000);
        assertThat(other.received()).hasSize(1);
    }

    @Test
    void messagesInFlightWhenThePartitionStartsAreDropped() {
        Engine e = new Engine();
        Links l = new Links(e, new SplittableRandom(1), 0, 0);
        Probe a = new Probe(e, 0, 0), b = new Probe(e, 3, 1);
        l.send(a, b, PING);
        l.partitioned(true);
        e.runFor(1000);
        assertThat(b.received()).isEmpty();
    }

    @Test
    void messagesToACrashedNodeVanishAndCrashedNodesSendNothing() {
        Engine e = new Engine();
        Links l = new Links(e, new SplittableRandom(1), 0, 0);
        Probe a = new Probe(e, 0, 0), b = new Probe(e, 1, 0);
        l.send(a, b, PING);
        b.up(false);
        e.runFor(1000);
        assertThat(b.received()).isEmpty();
        assertThat(l.lostDead()).isEqualTo(1);
        l.send(b, a, PING);
        e.runFor(1000);
        assertThat(a.received()).isEmpty();
    }

    @Test
    void randomLossIsAboutTheConfiguredRateAndReliableFramesAreOnlyDelayed() {
        Engine e = new Engine();
        Links l = new Links(e, new SplittableRandom(5), 0.05, 0);
        Probe a = new Probe(e, 2, 0), b = new Probe(e, 2, 0);
        for (int i = 0; i < 20_000; i++) l.send(a, b, PING);
        e.runFor(1000);
        assertThat(b.received().size()).isBetween(18_700, 19_300);
        Probe c = new Probe(e, 2, 0);
        for (int i = 0; i < 2_000; i++) l.sendReliable(a, c, PING);
        e.runFor(5000);
        assertThat(c.received()).hasSize(2_000);
        assertThat(l.retransmitted()).isBetween(50L, 160L);
    }
}
