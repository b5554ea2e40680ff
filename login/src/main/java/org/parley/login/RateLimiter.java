package org.parley.login;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Failed-login throttling, pure logic over a {@link Clock}. Each key (an account or a source address) may
 * fail {@code maxFailures} times within {@code window}; the failure that reaches the limit locks the key
 * for 1 s, and each further failure while the record lives doubles the lockout (2 s, 4 s, ...) up to
 * {@code maxLockout}. A key's record is forgotten once {@code window} has passed since its last failure
 * and it is no longer locked, or on {@link #success}. At most {@code maxKeys} keys are remembered: stale
 * records go first, then the least recently failed.
 */
final class RateLimiter {
    static final Duration BASE_LOCKOUT = Duration.ofSeconds(1);
    static final int DEFAULT_MAX_KEYS = 100_000;

    private final Clock clock;
    private final int maxFailures;
    private final long windowMs;
    private final long maxLockoutMs;
    private final int maxKeys;
    /** Insertion order = order of last failure (entries are re-inserted on every failure). */
    private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>();

    private static final class Entry {
        final ArrayDeque<Long> recent = new ArrayDeque<>();
        long lastFailure;
        long lockedUntil;
        int lockouts;
    }

    RateLimiter(Clock clock, int maxFailures, Duration window, Duration maxLockout, int maxKeys) {
        if (maxFailures < 1) throw new IllegalArgumentException("maxFailures must be at least 1");
        if (window.isNegative() || window.isZero()) throw new IllegalArgumentException("failure window must be positive");
        if (maxLockout.compareTo(BASE_LOCKOUT) < 0) throw new IllegalArgumentException("maxLockout must be at least 1 s");
        if (maxKeys < 1) throw new IllegalArgumentException("maxKeys must be at least 1");
        this.clock = clock;
        this.maxFailures = maxFailures;
        this.windowMs = window.toMillis();
        this.maxLockoutMs = maxLockout.toMillis();
        this.maxKeys = maxKeys;
    }

    RateLimiter(Clock clock, int maxFailures, Duration window, Duration maxLockout) {
        this(clock, maxFailures, window, maxLockout, DEFAULT_MAX_KEYS);
    }

    /** How long the key remains locked, or empty if it may try now. */
    synchronized Optional<Duration> blocked(String key) {
        Entry e = entries.get(key);
        if (e == null) return Optional.empty();
        long now = clock.millis();
        if (stale(e, now)) {
            entries.remove(key);
            return Optional.empty();
        }
        return e.lockedUntil > now ? Optional.of(Duration.ofMillis(e.lockedUntil - now)) : Optional.empty();
    }

    /** Records a failed attempt for the key. */
    synchronized void failure(String key) {
        long now = clock.millis();
        Entry e = entries.remove(key);
        if (e == null || stale(e, now)) {
            e = new Entry();
            makeRoom(now);
        }
        while (!e.recent.isEmpty() && e.recent.peekFirst() <= now - windowMs) e.recent.pollFirst();
        e.recent.addLast(now);
        while (e.recent.size() > maxFailures) e.recent.pollFirst();
        e.lastFailure = now;
        if (e.recent.size() >= maxFailures) {
            long lockout = e.lockouts >= 62 ? maxLockoutMs
                    : Math.min(maxLockoutMs, saturatedShift(BASE_LOCKOUT.toMillis(), e.lockouts));
            e.lockouts++;
            e.lockedUntil = Math.max(e.lockedUntil, now + lockout);
        }
        entries.put(key, e);
    }

    /** Forgets the key's failures (after a successful login). */
    synchronized void success(String key) {
        entries.remove(key);
    }

    /** Number of keys currently remembered (for tests and metrics). */
    synchronized int size() {
        return entries.size();
    }

    private boolean stale(Entry e, long now) {
        return now >= e.lockedUntil && now - e.lastFailure >= windowMs;
    }

    private void makeRoom(long now) {
        Iterator<Map.Entry<String, Entry>> it = entries.entrySet().iterator();
        // The eldest entries failed longest ago, so stale ones cluster at the head.
        while (it.hasNext()) {
            Entry e = it.next().getValue();
            if (!stale(e, now)) break;
            it.remove();
        }
        it = entries.entrySet().iterator();
        while (entries.size() >= maxKeys && it.hasNext()) {
            it.next();
            it.remove();
        }
    }

    private static long saturatedShift(long base, int shift) {
        long v = base << shift;
        return (v >> shift) == base && v > 0 ? v : Long.MAX_VALUE;
    }
}
