package org.parley.protocol;

import java.time.Clock;

/**
 * Hybrid logical clock (Kulkarni et al.): a long whose high 48 bits are wall-clock milliseconds and low
 * 16 bits a counter. Never goes backwards, and moves past every time it observes, so an answer is
 * always ordered after the message it answers even when the two machines' clocks disagree.
 */
public final class HybridClock {
    private final Clock clock;
    private long last;

    public HybridClock(Clock clock) {
        this.clock = clock;
    }

    public synchronized long now() {
        long phys = clock.millis() << 16;
        last = Math.max(last + 1, phys);
        return last;
    }

    /** Moves this clock past a time seen in a received message. */
    public synchronized void observe(long remote) {
        if (remote > last) last = remote;
    }

    public static long millis(long hlc) {
        return hlc >>> 16;
    }
}
