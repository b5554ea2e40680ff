package org.parley.supernode;

import java.time.Duration;
import org.parley.identity.HostPort;
import org.parley.overlay.AdmissionConfig;
import org.parley.overlay.OverlayConfig;
import org.parley.supernode.relay.RelayConfig;

/**
 * Supernode settings.
 *
 * @param listen        UDP address for QUIC (default 0.0.0.0:7700)
 * @param capacity      most attached clients before new ones are redirected (default 10,000); a mega-supernode
 *                      is the same program with a large capacity
 * @param keepalive     interval clients are told to ping at (default 10 s)
 * @param routeRate     routed frames per second per client (default 500; burst 2x)
 * @param metrics       where to serve Prometheus metrics over HTTP, or null for none
 * @param relayListen   UDP address of the relay for peers that cannot go direct (default: the listen host,
 *                      listen port + 1, or any free port when the listen port is 0)
 * @param relay         relay limits (default {@link RelayConfig#defaults()})
 * @param relayEnabled  whether this supernode runs a relay at all (default true)
 * @param advertise     the address other supernodes and clients reach this one at (default: the listen
 *                      address, with a wildcard host replaced by this machine's first non-loopback IPv4 address)
 * @param attachRate    new client attachments per second before redirecting (default 500, burst 2x)
 * @param lookupRate    client directory lookups per second before answering Busy (default 50,000, burst 2x)
 * @param relayBandwidth relay bytes per second in all before new relay sessions are refused (default 100 MB/s)
 * @param overlay       Kademlia parameters (default {@link OverlayConfig#defaults()})
 */
public record SupernodeConfig(HostPort listen, int capacity, Duration keepalive, int routeRate, HostPort metrics,
                              HostPort relayListen, RelayConfig relay, boolean relayEnabled, HostPort advertise,
                              int attachRate, int lookupRate, long relayBandwidth, OverlayConfig overlay) {
    public static final int DEFAULT_PORT = 7700;

    public SupernodeConfig {
        if (listen == null) listen = new HostPort("0.0.0.0", DEFAULT_PORT);
        if (capacity < 1) throw new IllegalArgumentException("capacity must be at least 1");
        if (keepalive == null) keepalive = Duration.ofSeconds(10);
        if (keepalive.toMillis() < 500) throw new IllegalArgumentException("keepalive must be at least 500 ms");
        if (routeRate < 1) throw new IllegalArgumentException("route rate must be at least 1 per second");
        if (relayListen == null) {
            relayListen = new HostPort(listen.host(), listen.port() == 0 ? 0 : listen.port() + 1);
        }
        if (relay == null) relay = RelayConfig.defaults();
        if (attachRate < 1) throw new IllegalArgumentException("attach rate must be at least 1 per second");
        if (lookupRate < 1) throw new IllegalArgumentException("lookup rate must be at least 1 per second");
        if (relayBandwidth < 0) throw new IllegalArgumentException("relay bandwidth must not be negative");
        if (overlay == null) overlay = OverlayConfig.defaults();
    }

    public static SupernodeConfig defaults(HostPort listen) {
        return new SupernodeConfig(listen, 10_000, Duration.ofSeconds(10), 500, null, null, null, true, null,
                500, 50_000, 100_000_000L, null);
    }

    /** The admission limits these settings give. */
    public AdmissionConfig admission() {
        return new AdmissionConfig(capacity, attachRate, lookupRate, relayBandwidth);
    }

    /** With a relay at {@code relayAt} (null: derived from the listen address) and these limits. */
    public SupernodeConfig withRelay(HostPort relayAt, RelayConfig r, boolean enabled) {
        return new SupernodeConfig(listen, capacity, keepalive, routeRate, metrics, relayAt, r, enabled, advertise,
                attachRate, lookupRate, relayBandwidth, overlay);
    }

    public SupernodeConfig withRouteRate(int rate) {
        return new SupernodeConfig(listen, capacity, keepalive, rate, metrics, relayListen, relay, relayEnabled, advertise,
                attachRate, lookupRate, relayBandwidth, overlay);
    }

    public SupernodeConfig withCapacity(int c) {
        return new SupernodeConfig(listen, c, keepalive, routeRate, metrics, relayListen, relay, relayEnabled, advertise,
                attachRate, lookupRate, relayBandwidth, overlay);
    }

    public SupernodeConfig withMetrics(HostPort m) {
        return new SupernodeConfig(listen, capacity, keepalive, routeRate, m, relayListen, relay, relayEnabled, advertise,
                attachRate, lookupRate, relayBandwidth, overlay);
    }

    public SupernodeConfig withKeepalive(Duration k) {
        return new SupernodeConfig(listen, capacity, k, routeRate, metrics, relayListen, relay, relayEnabled, advertise,
                attachRate, lookupRate, relayBandwidth, overlay);
    }

    public SupernodeConfig withAdvertise(HostPort a) {
        return new SupernodeConfig(listen, capacity, keepalive, routeRate, metrics, relayListen, relay, relayEnabled, a,
                attachRate, lookupRate, relayBandwidth, overlay);
    }

    public SupernodeConfig withRates(int attaches, int lookups, long relayBytes) {
        return new SupernodeConfig(listen, capacity, keepalive, routeRate, metrics, relayListen, relay, relayEnabled, advertise,
                attaches, lookups, relayBytes, overlay);
    }

    public SupernodeConfig withOverlay(OverlayConfig o) {
        return new SupernodeConfig(listen, capacity, keepalive, routeRate, metrics, relayListen, relay, relayEnabled, advertise,
                attachRate, lookupRate, relayBandwidth, o);
    }
}
