package org.parley.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

class HybridClockTest {

    /** A clock the test moves by hand, forwards or backwards. */
    static final class MutableClock extends Clock {
        final AtomicLong millis;

        MutableClock(long millis) {
            this.millis = new AtomicLong(millis);
        }

        void set(long m) {
            millis.set(m);
        }

        @Override public ZoneId getZone() { return ZoneOffset.UTC; }
        @Override public Clock withZone(ZoneId zone) { return this; }
        @Override public long millis() { return millis.get(); }
        @Override public Instant instant() { return Instant.ofEpochMilli(millis.get()); }
    }

    @Test
    void firstReadingIsThePhysicalTimeShifted() {
        long t = 1_700_000_000_000L;
        HybridClock c = new HybridClock(new MutableClock(t));
        long h = c.now();
        assertThat(h).isEqualTo(t << 16);
        assertThat(HybridClock.millis(h)).isEqualTo(t);
    }

    @Test
    void strictlyIncreasingUnderAFrozenClock() {
        long t = 1_700_000_000_000L;
        HybridClock c = new HybridClock(Clock.fixed(Instant.ofEpochMilli(t), ZoneOffset.UTC));
        long prev = c.now();
        for (int i = 1; i <= 1000; i++) {
            long h = c.now();
            assertThat(h).isEqualTo(prev + 1);
            assertThat(HybridClock.millis(h)).isEqualTo(t);
            prev = h;
        }
    }

    @Test
    void monotonicWhenTheWallClockGoesBackwards() {
        MutableClock wall = new MutableClock(1_000_000L);
        HybridClock c = new HybridClock(wall);
        long a = c.now();
        wall.set(500_000L);
        long b = c.now();
        wall.set(0L);
        long d = c.now();
        assertThat(b).isGreaterThan(a);
        assertThat(d).isGreaterThan(b);
        assertThat(HybridClock.millis(d)).as("logical time stays at the highest wall time seen").isEqualTo(1_000_000L);
        // once the wall clock passes the old maximum, the physical part takes over again and the counter resets
        wall.set(1_000_001L);
        long e = c.now();
        assertThat(e).isEqualTo(1_000_001L << 16).isGreaterThan(d);
    }

    @Test
    void monotonicUnderARandomlyJumpingClock() {
        MutableClock wall = new MutableClock(1_700_000_000_000L);
        HybridClock c = new HybridClock(wall);
        java.util.Random rnd = new java.util.Random(7);
        long prev = Long.MIN_VALUE;
        for (int i = 0; i < 10_000; i++) {
            wall.set(1_700_000_000_000L + rnd.nextInt(2_000) - 1_000);
            long h = c.now();
            assertThat(h).isGreaterThan(prev);
            prev = h;
        }
    }

    @Test
    void observeMovesPastARemoteTimeAhead() {
        long t = 1_700_000_000_000L;
        HybridClock c = new HybridClock(new MutableClock(t));
        long local = c.now();
        long remote = ((t + 5_000) << 16) + 17; // a peer whose clock is 5 s ahead
        c.observe(remote);
        long answer = c.now();
        assertThat(answer).isGreaterThan(remote).isGreaterThan(local);
        assertThat(HybridClock.millis(answer)).isEqualTo(t + 5_000);
    }

    @Test
    void observeOfAnOlderTimeDoesNotMoveTheClockBack() {
        long t = 1_700_000_000_000L;
        HybridClock c = new HybridClock(new MutableClock(t));
        long a = c.now();
        c.observe((t - 60_000) << 16);
        c.observe(0);
        c.observe(-1);
        long b = c.now();
        assertThat(b).isEqualTo(a + 1);
    }

    @Test
    void millisExtraction() {
        assertThat(HybridClock.millis(0)).isZero();
        assertThat(HybridClock.millis((123L << 16) | 0xffff)).isEqualTo(123);
        assertThat(HybridClock.millis(123L << 16)).isEqualTo(123);
        long t = Instant.parse("2030-01-01T00:00:00Z").toEpochMilli();
        assertThat(HybridClock.millis(new HybridClock(Clock.fixed(Instant.ofEpochMilli(t), ZoneOffset.UTC)).now()))
                .isEqualTo(t);
        // unsigned shift: the sign bit is not smeared
        assertThat(HybridClock.millis(-1L)).isEqualTo((1L << 48) - 1);
    }

    @Test
    void concurrentReadingsAreUnique() throws Exception {
        HybridClock c = new HybridClock(Clock.fixed(Instant.ofEpochMilli(1_700_000_000_000L), ZoneOffset.UTC));
        int threads = 4;
        int per = 5_000;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<long[]>> fs = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                Callable<long[]> task = () -> {
                    long[] out = new long[per];
                    for (int j = 0; j < per; j++) out[j] = c.now();
                    return out;
                };
                fs.add(pool.submit(task));
            }
            Set<Long> all = new HashSet<>();
            for (Future<long[]> f : fs) {
                long prev = Long.MIN_VALUE;
                for (long v : f.get()) {
                    assertThat(v).isGreaterThan(prev);
                    prev = v;
                    all.add(v);
                }
            }
            assertThat(all).hasSize(threads * per);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void staysMonotonicAfterObservingAHostileRemoteTime() {
        HybridClock c = new HybridClock(new MutableClock(1_700_000_000_000L));
        c.observe(Long.MAX_VALUE - 1);
        long a = c.now();
        long b = c.now();
        long d = c.now();
        assertThat(b).isGreaterThan(a);
        assertThat(d).isGreaterThan(b);
    }
}
