package org.parley.login;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.parley.identity.HostPort;
import org.parley.identity.Keys;
import org.parley.identity.NetworkFile;

class LoginServerConfigTest {
    private final NetworkFile nf = new NetworkFile("acme", Keys.newCaKeyPair().getPublic(),
            HostPort.parse("login.example.org:7443"), "sha256/x", List.of());

    @Test
    void defaultsFollowTheNetworkFile() {
        LoginServerConfig c = LoginServerConfig.defaults(nf);
        assertThat(c.listen()).isEqualTo(nf.loginServer());
        assertThat(c.certificateLifetime()).isEqualTo(Duration.ofHours(24));
        assertThat(c.maxFailures()).isEqualTo(5);
        assertThat(c.failureWindow()).isEqualTo(Duration.ofMinutes(15));
        assertThat(c.maxLockout()).isEqualTo(Duration.ofMinutes(15));
        assertThat(c.withListen(HostPort.parse("0.0.0.0:0")).listen()).isEqualTo(HostPort.parse("0.0.0.0:0"));
        assertThat(c.withCertificateLifetime(Duration.ofSeconds(10)).certificateLifetime()).isEqualTo(Duration.ofSeconds(10));
    }

    @Test
    void rejectsInvalidSettings() {
        LoginServerConfig c = LoginServerConfig.defaults(nf);
        assertThatThrownBy(() -> c.withCertificateLifetime(Duration.ofSeconds(9)))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("certificate lifetime must be at least 10 seconds");
        assertThatThrownBy(() -> c.withCertificateLifetime(Duration.ofDays(400)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> c.withListen(null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> c.withRateLimits(0, Duration.ofMinutes(1), Duration.ofMinutes(1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> c.withRateLimits(5, Duration.ZERO, Duration.ofMinutes(1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> c.withRateLimits(5, Duration.ofMinutes(1), Duration.ofMillis(1)))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
