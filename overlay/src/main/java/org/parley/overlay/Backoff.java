package org.parley.overlay;

import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * Jittered exponential backoff ("full jitter"): the n-th delay is uniform in [base*2^n / 2, base*2^n],
 * capped at {@code max}. Pure logic: the random source is injected.
 */
public final class Backoff {
    private final long baseMillis;
    private final long maxMillis;
    private final RandomGenerator random;
    private int attempt;

    public Backoff(Duration base, Duration max, RandomGenerator random) {
        if (base.isNegative() || base.isZero() || max.compareTo(base) < 0) throw new IllegalArgumentException("bad backoff bounds");
        this.baseMillis = base.toMillis();
        this.maxMillis = max.toMillis();
        this.random = random;
    }

    public Duration next() {
        long ceiling = Math.min(maxMillis, baseMillis << Math.min(attempt, 30));
        attempt++;
        long floor = ceiling / 2;
        return Duration.ofMillis(floor + (ceiling > floor ? random.nextLong(ceiling - floor + 1) : 0));
    }

    public void reset() {
        attempt = 0;
    }

    public int attempts() {
        return attempt;
    }
}
