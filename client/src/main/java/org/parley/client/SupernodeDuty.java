package org.parley.client;

import java.time.Duration;
import org.parley.identity.HostPort;

/**
 * Whether and how this device may serve as a supernode (promotion; see {@link org.parley.overlay.Promotion}).
 *
 * @param optIn            the user agreed to supernode duty (default false: never promoted)
 * @param uplinkKbps       the device's upstream bandwidth in kbit/s as the user knows it (default 0 = unknown:
 *                         never promoted); duty uses at most a quarter of it
 * @param listen           UDP address of the supernode port while promoted (default: the client's host, any port)
 * @param minUptime        up this long before promotion (default 30 min)
 * @param checkEvery       how often eligibility is re-evaluated (default 60 s)
 * @param minConfirmations supernodes that must reach this device by dial-back (default 2)
 */
public record SupernodeDuty(boolean optIn, int uplinkKbps, HostPort listen, Duration minUptime, Duration checkEvery,
                            int minConfirmations) {
    public SupernodeDuty {
        if (uplinkKbps < 0) throw new IllegalArgumentException("uplink must not be negative");
        if (minUptime == null) minUptime = Duration.ofMinutes(30);
        if (checkEvery == null) checkEvery = Duration.ofSeconds(60);
        if (checkEvery.toMillis() < 100) throw new IllegalArgumentException("promotion check interval under 100 ms");
        if (minConfirmations < 1) throw new IllegalArgumentException("at least one dial-back confirmation is needed");
    }

    public static SupernodeDuty off() {
        return new SupernodeDuty(false, 0, null, null, null, 2);
    }

    public static SupernodeDuty optedIn(int uplinkKbps, HostPort listen) {
        return new SupernodeDuty(true, uplinkKbps, listen, null, null, 2);
    }

    public SupernodeDuty withTiming(Duration uptime, Duration every, int confirmations) {
        return new SupernodeDuty(optIn, uplinkKbps, listen, uptime, every, confirmations);
    }
}
