package org.parley.identity;

import java.security.PublicKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Instant;

/**
 * A verified device certificate: the network CA's binding of a user (and role) to a device public key,
 * valid until {@link #notAfter()}, carrying the account's {@link Policy}. Instances are only created by
 * {@link CertificateVerifier}, so holding one means the chain, dates and fields were checked.
 */
public record DeviceCertificate(X509Certificate x509, String network, String user, Role role, String deviceId,
                                Policy policy, Instant notBefore, Instant notAfter) {

    public PublicKey publicKey() {
        return x509.getPublicKey();
    }

    public byte[] encoded() {
        try {
            return x509.getEncoded();
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** "user/deviceId-prefix" for logs and status output. */
    public String label() {
        return user + "/" + deviceId.substring(0, 8);
    }
}
