package org.parley.supernode.relay;

import java.time.Duration;

/**
 * Limits and sizing of a {@link UdpRelay}. Every field is validated; invalid values throw an
 * {@link IllegalArgumentException} with a one-line message.
 *
 * @param maxSessions       sessions allocated at once, bound or not (default 1,000); beyond it
 *                          {@link UdpRelay#allocate} throws {@link RelayFullException}
 * @param bytesPerSecond    forwarded bytes per second per session, both directions counted together
 *                          (default 1,000,000 = 8 Mbit/s); datagrams over the rate are dropped
 * @param burstBytes        bytes a session may send at once above the rate (default 256 KiB); at least
 *                          {@link UdpRelay#MAX_DATAGRAM_BYTES} so that any datagram can pass
 * @param maxSessionBytes   forwarded bytes per session in all (default 2 GiB); the datagram that would go
 *                          beyond it ends the session with {@code RELAY_DENY} (reason 2) to both sides
 * @param idleTimeout       a bound session that forwarded nothing for this long is removed (default 60 s)
 * @param bindTimeout       a session not bound by both sides this long after its allocation is removed
 *                          (default 30 s)
 * @param threads           event loops, each with its own SO_REUSEPORT socket on the relay port
 *                          (default: the number of available processors)
 */
public record RelayConfig(int maxSessions, long bytesPerSecond, long burstBytes, long maxSessionBytes,
                          Duration idleTimeout, Duration bindTimeout, int threads) {
    public static final int DEFAULT_MAX_SESSIONS = 1000;
    public static final long DEFAULT_BYTES_PER_SECOND = 1_000_000L;
    public static final long DEFAULT_BURST_BYTES = 256 * 1024L;
    public static final long DEFAULT_MAX_SESSION_BYTES = 2L * 1024 * 1024 * 1024;
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(60);
    public static final Duration DEFAULT_BIND_TIMEOUT = Duration.ofSeconds(30);
    /** Upper bound of {@link #threads()}. */
    public static final int MAX_THREADS = 256;

    public RelayConfig {
        if (maxSessions < 1) throw new IllegalArgumentException("relay maxSessions must be at least 1, got " + maxSessions);
        if (bytesPerSecond < 1) throw new IllegalArgumentException("relay bytesPerSecond must be at least 1, got " + bytesPerSecond);
        if (burstBytes < UdpRelay.MAX_DATAGRAM_BYTES) {
            throw new IllegalArgumentException("relay burstBytes must be at least " + UdpRelay.MAX_DATAGRAM_BYTES
                    + " (one datagram), got " + burstBytes);
        }
        if (maxSessionBytes < 1) throw new IllegalArgumentException("relay maxSessionBytes must be at least 1, got " + maxSessionBytes);
        checkDuration(idleTimeout, "idleTimeout");
        checkDuration(bindTimeout, "bindTimeout");
        if (threads < 1 || threads > MAX_THREADS) {
            throw new IllegalArgumentException("relay threads must be from 1 to " + MAX_THREADS + ", got " + threads);
        }
    }

    private static void checkDuration(Duration d, String name) {
        if (d == null) throw new IllegalArgumentException("relay " + name + " is missing");
        if (d.compareTo(Duration.ofSeconds(1)) < 0) throw new IllegalArgumentException("relay " + name + " must be at least 1 s, got " + d);
        if (d.compareTo(Duration.ofDays(1)) > 0) throw new IllegalArgumentException("relay " + name + " must be at most 1 day, got " + d);
    }

    /** The documented defaults. */
    public static RelayConfig defaults() {
        return new RelayConfig(DEFAULT_MAX_SESSIONS, DEFAULT_BYTES_PER_SECOND, DEFAULT_BURST_BYTES, DEFAULT_MAX_SESSION_BYTES,
                DEFAULT_IDLE_TIMEOUT, DEFAULT_BIND_TIMEOUT, Math.min(MAX_THREADS, Math.max(1, Runtime.getRuntime().availableProcessors())));
    }

    public RelayConfig withMaxSessions(int n) {
        return new RelayConfig(n, bytesPerSecond, burstBytes, maxSessionBytes, idleTimeout, bindTimeout, threads);
    }

    public RelayConfig withRate(long bytesPerSecond, long burstBytes) {
        return new RelayConfig(maxSessions, bytesPerSecond, burstBytes, maxSessionBytes, idleTimeout, bindTimeout, threads);
    }

    public RelayConfig withMaxSessionBytes(long n) {
        return new RelayConfig(maxSessions, bytesPerSecond, burstBytes, n, idleTimeout, bindTimeout, threads);
    }

    public RelayConfig withTimeouts(Duration idle, Duration bind) {
        return new RelayConfig(maxSessions, bytesPerSecond, burstBytes, maxSessionBytes, idle, bind, threads);
    }

    public RelayConfig withThreads(int n) {
        return new RelayConfig(maxSessions, bytesPerSecond, burstBytes, maxSessionBytes, idleTimeout, bindTimeout, n);
    }
}
