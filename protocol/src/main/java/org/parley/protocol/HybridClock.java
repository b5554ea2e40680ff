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

    /** Largest lead over the local wall clock that a remote time may have; later times are ignored. */
    public static final long MAX_DRIFT_MILLIS = 24L * 3600 * 1000;

    /**
     * Moves this clock past a time seen in a received message. Times more than {@link #MAX_DRIFT_MILLIS}
     * ahead of the local wall clock are ignored (a hostile or broken peer cannot push the clock to overflow).
     * @return false if the time was ignored as implausible
     */
    public synchronized boolean observe(long remote) {
        if (!plausible(remote)) return false;
        if (remote > last) last = remote;
        return true;
    }

    /** True if {@code remote} is not negative and at most {@link #MAX_DRIFT_MILLIS} ahead of the wall clock. */
    public boolean plausible(long remote) {
        return remote >= 0 && millis(remote) <= clock.millis() + MAX_DRIFT_MILLIS;
    }

    public static long millis(long hlc) {
        return hlc >>> 16;
    }
}
