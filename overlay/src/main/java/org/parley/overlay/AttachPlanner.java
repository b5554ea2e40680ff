package org.parley.overlay;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * A client's attach logic as pure state: which supernodes to try in a round (redirect hints, then the host cache
 * ranked, then the seeds), what each outcome teaches the host cache, and how long to wait between rounds
 * (a redirect's jittered retry-after, otherwise jittered exponential backoff). The daemon and the simulator
 * drive it the same way: {@link #round}, then per candidate {@link #attached}, {@link #redirected} or
 * {@link #failed}, and after a round without success {@link #delayMillis}.
 */
public final class AttachPlanner {
    /** Candidates tried per round before backing off. */
    public static final int ROUND_SIZE = 6;

    private final HostCache cache;
    private final List<String> seeds;
    private final Backoff backoff;
    private final List<String> hints = new ArrayList<>();
    private long retryAfter;

    public AttachPlanner(HostCache cache, List<String> seeds, RandomGenerator rnd, Duration backoffBase, Duration backoffMax) {
        this.cache = cache;
        cache.tieBreak(rnd.nextLong() | 1);
        this.seeds = List.copyOf(seeds);
        this.backoff = new Backoff(backoffBase, backoffMax, rnd);
    }

    public HostCache cache() {
        return cache;
    }

    /** The supernodes to try now, in order. Consumes the redirect hints. */
    public List<String> round(long now) {
        List<String> order = cache.attachOrder(hints, seeds, now, ROUND_SIZE);
        hints.clear();
        retryAfter = 0;
        return order;
    }

    /** Attached to {@code address}, which named {@code others} for the host cache. */
    public void attached(String address, List<String> others, long now) {
        cache.success(address, now);
        for (String o : others) cache.learned(o, 0, 0, now);
        backoff.reset();
        hints.clear();
    }

    /** {@code address} is full: remember its alternatives for the next attempts and its retry-after. */
    public void redirected(String address, int retryAfterMillis, List<String> alternatives, long now) {
        for (String a : alternatives) {
            if (!a.equals(address) && !hints.contains(a) && hints.size() < 16) hints.add(a);
            cache.learned(a, 0, 0, now);
        }
        retryAfter = Math.max(retryAfter, retryAfterMillis);
    }

    /** Could not reach {@code address}, or the link to it broke. */
    public void failed(String address, long now) {
        cache.failure(address, now);
    }

    /**
     * The redirect hints to try at once, within the current round (keeps the round's retry-after, so that a
     * round ending in redirects still waits what the supernodes asked for).
     */
    public List<String> takeHints(long now) {
        List<String> out = cache.attachOrder(hints, List.of(), now, ROUND_SIZE).stream().filter(hints::contains).toList();
        hints.clear();
        return out;
    }

    /** True if redirect hints are waiting to be tried at once. */
    public boolean hasHints() {
        return !hints.isEmpty();
    }

    /**
     * The wait before the next round when this one found no supernode: a redirect is the supernode pacing us
     * (its retry-after is already jittered), failures grow the backoff.
     */
    public long delayMillis() {
        if (retryAfter > 0) return Math.min(retryAfter, 60_000);
        return backoff.next().toMillis();
    }
}
