package org.parley.client;

import java.time.Duration;
import org.parley.identity.HostPort;

/**
 * Client daemon settings.
 *
 * @param listen          UDP address for QUIC, shared by the supernode link and peer sessions (default 0.0.0.0:0)
 * @param apiPort         local API port on 127.0.0.1 (default 0 = any free port, written to api.json)
 * @param backoffBase     first reconnect delay (default 500 ms)
 * @param backoffMax      reconnect delay cap (default 30 s)
 * @param peerDialTimeout how long a direct dial may take before the message goes via the supernode (default 1.5 s)
 * @param resendAfter     how long to wait for an acknowledgement before sending a message again (default 3 s)
 * @param directSessions  whether peer sessions may go direct (default true); false keeps every peer session on a
 *                        supernode relay, so peers never learn this device's addresses
 * @param duty            supernode duty (promotion) settings (default {@link SupernodeDuty#off()})
 * @param mediaDropPercent share of outgoing call media datagrams to drop on purpose, 0-50 (default 0): a lossy-link
 *                        shim for tests and demonstrations of loss concealment
 */
public record ClientConfig(HostPort listen, int apiPort, Duration backoffBase, Duration backoffMax,
                           Duration peerDialTimeout, Duration resendAfter, boolean directSessions, SupernodeDuty duty,
                           double mediaDropPercent) {
    public ClientConfig {
        if (listen == null) listen = new HostPort("0.0.0.0", 0);
        if (apiPort < 0 || apiPort > 65535) throw new IllegalArgumentException("api port out of range");
        if (backoffBase == null) backoffBase = Duration.ofMillis(500);
        if (backoffMax == null) backoffMax = Duration.ofSeconds(30);
        if (peerDialTimeout == null) peerDialTimeout = Duration.ofMillis(1500);
        if (resendAfter == null) resendAfter = Duration.ofSeconds(3);
        if (backoffMax.compareTo(backoffBase) < 0) throw new IllegalArgumentException("backoff max below base");
        if (duty == null) duty = SupernodeDuty.off();
        if (mediaDropPercent < 0 || mediaDropPercent > 50) throw new IllegalArgumentException("media drop must be 0-50 %");
    }

    public static ClientConfig defaults() {
        return new ClientConfig(null, 0, null, null, null, null, true, null, 0);
    }

    public ClientConfig withListen(HostPort hp) {
        return new ClientConfig(hp, apiPort, backoffBase, backoffMax, peerDialTimeout, resendAfter, directSessions, duty, mediaDropPercent);
    }

    public ClientConfig withDirectSessions(boolean d) {
        return new ClientConfig(listen, apiPort, backoffBase, backoffMax, peerDialTimeout, resendAfter, d, duty, mediaDropPercent);
    }

    public ClientConfig withDuty(SupernodeDuty d) {
        return new ClientConfig(listen, apiPort, backoffBase, backoffMax, peerDialTimeout, resendAfter, directSessions, d, mediaDropPercent);
    }

    public ClientConfig withMediaDropPercent(double p) {
        return new ClientConfig(listen, apiPort, backoffBase, backoffMax, peerDialTimeout, resendAfter, directSessions, duty, p);
    }
}
