package org.parley.supernode;

import java.time.Duration;
import org.parley.identity.HostPort;

/**
 * Supernode settings.
 *
 * @param listen        UDP address for QUIC (default 0.0.0.0:7700)
 * @param capacity      most attached clients before new ones are redirected (default 10,000)
 * @param keepalive     interval clients are told to ping at (default 10 s)
 * @param routeRate     routed frames per second per client (default 500; burst 2x)
 * @param metrics       where to serve Prometheus metrics over HTTP, or null for none
 */
public record SupernodeConfig(HostPort listen, int capacity, Duration keepalive, int routeRate, HostPort metrics) {
    public static final int DEFAULT_PORT = 7700;

    public SupernodeConfig {
        if (listen == null) listen = new HostPort("0.0.0.0", DEFAULT_PORT);
        if (capacity < 1) throw new IllegalArgumentException("capacity must be at least 1");
        if (keepalive == null) keepalive = Duration.ofSeconds(10);
        if (keepalive.toMillis() < 500) throw new IllegalArgumentException("keepalive must be at least 500 ms");
        if (routeRate < 1) throw new IllegalArgumentException("route rate must be at least 1 per second");
    }

    public static SupernodeConfig defaults(HostPort listen) {
        return new SupernodeConfig(listen, 10_000, Duration.ofSeconds(10), 500, null);
    }

    public SupernodeConfig withCapacity(int c) {
        return new SupernodeConfig(listen, c, keepalive, routeRate, metrics);
    }

    public SupernodeConfig withMetrics(HostPort m) {
        return new SupernodeConfig(listen, capacity, keepalive, routeRate, m);
    }
}
