package org.parley.login;

import java.time.Duration;
import org.parley.identity.HostPort;
import org.parley.identity.NetworkFile;

/**
 * Settings of a running login server. Start from {@link #defaults(NetworkFile)} and adjust with the
 * {@code with...} methods.
 *
 * @param listen              where to accept HTTPS connections; default: the login server address in
 *                            network.json. Port 0 picks a free port (see {@link LoginServer#port()}).
 * @param certificateLifetime lifetime of issued device certificates; default {@link #DEFAULT_CERTIFICATE_LIFETIME}
 *                            (24 h), at least 10 s, at most 366 days
 * @param maxFailures         failed logins per account and per source address before lockouts begin; default 5
 * @param failureWindow       failures older than this are forgotten; default 15 min
 * @param maxLockout          longest lockout (lockouts start at 1 s and double); default 15 min
 * @param allowPromotion      the network's policy on supernode duty: whether eligible, opted-in clients of user
 *                            accounts may obtain a supernode certificate ({@code /v1/promote}); default false
 */
public record LoginServerConfig(HostPort listen, Duration certificateLifetime, int maxFailures, Duration failureWindow,
                                Duration maxLockout, boolean allowPromotion) {
    public static final Duration DEFAULT_CERTIFICATE_LIFETIME = Duration.ofHours(24);
    public static final Duration MIN_CERTIFICATE_LIFETIME = Duration.ofSeconds(10);
    public static final Duration MAX_CERTIFICATE_LIFETIME = Duration.ofDays(366);
    public static final int DEFAULT_MAX_FAILURES = 5;
    public static final Duration DEFAULT_FAILURE_WINDOW = Duration.ofMinutes(15);
    public static final Duration DEFAULT_MAX_LOCKOUT = Duration.ofMinutes(15);

    public LoginServerConfig {
        if (listen == null) throw new IllegalArgumentException("listen address is missing");
        if (certificateLifetime == null || certificateLifetime.compareTo(MIN_CERTIFICATE_LIFETIME) < 0) {
            throw new IllegalArgumentException("certificate lifetime must be at least 10 seconds");
        }
        if (certificateLifetime.compareTo(MAX_CERTIFICATE_LIFETIME) > 0) {
            throw new IllegalArgumentException("certificate lifetime must be at most 366 days");
        }
        if (maxFailures < 1 || maxFailures > 1000) {
            throw new IllegalArgumentException("maxFailures must be between 1 and 1000");
        }
        if (failureWindow == null || failureWindow.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException("failure window must be at least 1 second");
        }
        if (maxLockout == null || maxLockout.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException("maxLockout must be at least 1 second");
        }
    }

    /** The defaults, listening on the network file's login server address. */
    public static LoginServerConfig defaults(NetworkFile network) {
        return new LoginServerConfig(network.loginServer(), DEFAULT_CERTIFICATE_LIFETIME, DEFAULT_MAX_FAILURES,
                DEFAULT_FAILURE_WINDOW, DEFAULT_MAX_LOCKOUT, false);
    }

    public LoginServerConfig withListen(HostPort hp) {
        return new LoginServerConfig(hp, certificateLifetime, maxFailures, failureWindow, maxLockout, allowPromotion);
    }

    public LoginServerConfig withCertificateLifetime(Duration d) {
        return new LoginServerConfig(listen, d, maxFailures, failureWindow, maxLockout, allowPromotion);
    }

    public LoginServerConfig withRateLimits(int failures, Duration window, Duration lockout) {
        return new LoginServerConfig(listen, certificateLifetime, failures, window, lockout, allowPromotion);
    }

    public LoginServerConfig withAllowPromotion(boolean allow) {
        return new LoginServerConfig(listen, certificateLifetime, maxFailures, failureWindow, maxLockout, allow);
    }
}
