package org.parley.transport;

import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.parley.identity.CertificateAuthority;
import org.parley.identity.CertificateVerifier;
import org.parley.identity.Keys;
import org.parley.identity.Policy;
import org.parley.identity.Role;

/** A throw-away network CA for transport tests. */
final class TestPki {
    final CertificateAuthority ca = new CertificateAuthority("testnet", Keys.newCaKeyPair());
    final CertificateVerifier verifier = new CertificateVerifier("testnet", ca.publicKey(), Clock.systemUTC());

    TlsIdentity identity(String user, Role role) {
        return identity(user, role, Duration.ofHours(1));
    }

    TlsIdentity identity(String user, Role role, Duration life) {
        KeyPair kp = Keys.newDeviceKeyPair();
        Instant now = Instant.now();
        return new TlsIdentity(kp.getPrivate(),
                ca.issueDevice(user, role, kp.getPublic(), Policy.DEFAULT, now.minusSeconds(60), now.plus(life)));
    }
}
