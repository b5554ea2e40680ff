package org.parley.overlay;

/**
 * Overlay parameters.
 *
 * @param k                   bucket size and replication factor (default 8)
 * @param alpha               parallel requests per lookup (default 3)
 * @param requestTimeoutMillis an unanswered overlay request counts as failed after this (default 1,000 ms)
 * @param lookupDeadlineMillis a lookup ends with what it has after this (default 5,000 ms)
 * @param refreshMillis       interval of routing table refresh and replication checks (default 60 s)
 * @param cacheMillis         how long a supernode reuses a remote lookup's answer (default 2,000 ms; 0 = never)
 * @param maxRecords          most records one supernode stores (default 2,000,000)
 */
public record OverlayConfig(int k, int alpha, long requestTimeoutMillis, long lookupDeadlineMillis, long refreshMillis,
                            long cacheMillis, int maxRecords) {
    public OverlayConfig {
        if (k < 2 || k > org.parley.protocol.Limits.MAX_CONTACTS) throw new IllegalArgumentException("k must be 2.." + org.parley.protocol.Limits.MAX_CONTACTS);
        if (alpha < 1 || alpha > k) throw new IllegalArgumentException("alpha must be 1..k");
        if (requestTimeoutMillis < 10) throw new IllegalArgumentException("request timeout must be at least 10 ms");
        if (lookupDeadlineMillis < requestTimeoutMillis) throw new IllegalArgumentException("lookup deadline must be at least the request timeout");
        if (refreshMillis < 1000) throw new IllegalArgumentException("refresh interval must be at least 1 s");
        if (cacheMillis < 0) throw new IllegalArgumentException("cache time must not be negative");
        if (maxRecords < 1) throw new IllegalArgumentException("max records must be positive");
    }

    public static OverlayConfig defaults() {
        return new OverlayConfig(8, 3, 1000, 5000, 60_000, 2000, 2_000_000);
    }

    public OverlayConfig withCacheMillis(long c) {
        return new OverlayConfig(k, alpha, requestTimeoutMillis, lookupDeadlineMillis, refreshMillis, c, maxRecords);
    }

}
