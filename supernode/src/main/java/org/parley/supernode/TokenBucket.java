package org.parley.supernode;

/** Pure token bucket (no I/O): {@code rate} tokens per second, at most {@code burst} saved. Time is passed in. */
public final class TokenBucket {
    private final double rate;
    private final double burst;
    private double tokens;
    private long lastNanos;

    public TokenBucket(double rate, double burst, long nowNanos) {
        this.rate = rate;
        this.burst = burst;
        this.tokens = burst;
        this.lastNanos = nowNanos;
    }

    public synchronized boolean tryTake(long nowNanos) {
        double elapsed = Math.max(0, nowNanos - lastNanos) / 1e9;
        lastNanos = Math.max(lastNanos, nowNanos);
        tokens = Math.min(burst, tokens + elapsed * rate);
        if (tokens >= 1) {
            tokens -= 1;
            return true;
        }
        return false;
    }
}
