package org.parley.identity;

import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.time.Clock;
import java.util.List;
import org.parley.protocol.DeviceRecord;
import org.parley.protocol.Limits;

/**
 * Signing and verification of directory records with the device key (ECDSA P-256, SHA-256). Verification checks
 * the certificate chain against the network CA (offline, through {@link CertificateVerifier}, which caches
 * verified certificates), that the certificate names the record's user and device, the signature and the expiry.
 */
public final class DirectoryRecords {
    private static final String ALGORITHM = "SHA256withECDSA";

    private final CertificateVerifier verifier;
    private final Clock clock;

    public DirectoryRecords(CertificateVerifier verifier) {
        this.verifier = verifier;
        this.clock = verifier.clock();
    }

    /** Signs {@code unsigned} with the device's private key. */
    public static DeviceRecord sign(DeviceRecord unsigned, PrivateKey key) {
        try {
            Signature s = Signature.getInstance(algorithmFor(key.getAlgorithm()));
            s.initSign(key);
            s.update(unsigned.signedBytes());
            return unsigned.withSignature(s.sign());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign a directory record: " + e.getMessage(), e);
        }
    }

    private static String algorithmFor(String keyAlgorithm) {
        return Keys.signatureAlgorithm(keyAlgorithm);
    }

    /**
     * Checks a record.
     *
     * @return null if the record is valid now, otherwise why not (one line)
     */
    public String check(DeviceRecord r) {
        long now = clock.millis();
        if (r.expiresAtMillis() <= now) return "record of " + r.user() + "/" + r.deviceId() + " has expired";
        if (r.expiresAtMillis() > now + Limits.MAX_RECORD_TTL_MILLIS) return "record of " + r.user() + " claims a lifetime over the limit";
        if (r.supernodes().size() > 4 || r.localAddresses().size() > 8 || r.capabilities().size() > 16) {
            return "record of " + r.user() + " has too many addresses";
        }
        for (String s : List.of(r.deviceId(), r.user(), r.presence(), r.observedAddress())) {
            if (s.length() > Limits.MAX_STRING_BYTES) return "record of a device has a field over " + Limits.MAX_STRING_BYTES + " bytes";
        }
        DeviceCertificate c;
        try {
            c = verifier.verify(r.certificate());
        } catch (CertificateRejectedException e) {
            return "record of " + r.user() + " has a bad certificate: " + e.getMessage();
        }
        if (!c.user().equals(r.user()) || !c.deviceId().equals(r.deviceId())) {
            return "record of " + r.user() + "/" + r.deviceId() + " carries the certificate of " + c.label();
        }
        if (!verifySignature(r, c.publicKey())) return "record of " + r.user() + "/" + r.deviceId() + " has a bad signature";
        return null;
    }

    public boolean valid(DeviceRecord r) {
        return check(r) == null;
    }

    static boolean verifySignature(DeviceRecord r, PublicKey key) {
        try {
            Signature s = Signature.getInstance(algorithmFor(key.getAlgorithm()));
            s.initVerify(key);
            s.update(r.signedBytes());
            return s.verify(r.signature());
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false;
        }
    }
}
