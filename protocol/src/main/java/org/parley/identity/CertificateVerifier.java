package org.parley.identity;

import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.ASN1String;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;

/**
 * Offline verification of device certificates against the network CA public key, with an injected
 * clock: signature by the CA, validity window, network name, Parley fields. Never contacts the login server.
 */
public final class CertificateVerifier {
    private final String network;
    private final PublicKey caKey;
    private final Clock clock;

    public CertificateVerifier(String network, PublicKey caKey, Clock clock) {
        this.network = network;
        this.caKey = caKey;
        this.clock = clock;
    }

    public static CertificateVerifier of(NetworkFile nf, Clock clock) {
        return new CertificateVerifier(nf.name(), nf.caPublicKey(), clock);
    }

    public Clock clock() {
        return clock;
    }

    public DeviceCertificate verify(byte[] der) throws CertificateRejectedException {
        DeviceCertificate known = cached(der);
        if (known != null) return known;
        X509Certificate x;
        try {
            x = Keys.certificate(der);
        } catch (IllegalArgumentException e) {
            throw new CertificateRejectedException(CertificateRejectedException.Reason.MALFORMED,
                    "certificate is not valid X.509");
        }
        return verify(x);
    }

    /**
     * Certificates whose CA signature and fields already checked out, by SHA-256 of their DER: the
     * Ed25519 check costs about a millisecond and every handshake and routed frame needs it. Dates are
     * still checked against the clock on every call. Bounded; cleared when full.
     */
    private final java.util.Map<String, DeviceCertificate> checked = new java.util.concurrent.ConcurrentHashMap<>();
    private static final int CACHE_LIMIT = 16_384;

    public DeviceCertificate verify(X509Certificate x) throws CertificateRejectedException {
        byte[] der;
        try {
            der = x.getEncoded();
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new CertificateRejectedException(CertificateRejectedException.Reason.MALFORMED,
                    "certificate cannot be encoded");
        }
        DeviceCertificate known = cached(der);
        if (known != null) return known;
        DeviceCertificate c = verifyUncached(x);
        if (checked.size() >= CACHE_LIMIT) checked.clear();
        checked.put(fingerprint(der), c);
        return c;
    }

    private static String fingerprint(byte[] der) {
        return java.util.HexFormat.of().formatHex(Keys.sha256(der));
    }

    /** A certificate verified before, with its dates checked again now; null when not seen yet. */
    private DeviceCertificate cached(byte[] der) throws CertificateRejectedException {
        DeviceCertificate known = checked.get(fingerprint(der));
        if (known != null) checkDates(known.notBefore(), known.notAfter());
        return known;
    }

    private void checkDates(Instant nb, Instant na) throws CertificateRejectedException {
        Instant now = clock.instant();
        if (now.isBefore(nb.minusSeconds(300))) {
            throw new CertificateRejectedException(CertificateRejectedException.Reason.NOT_YET_VALID,
                    "certificate is not valid before " + nb);
        }
        if (now.isAfter(na)) {
            throw new CertificateRejectedException(CertificateRejectedException.Reason.EXPIRED,
                    "certificate expired at " + na);
        }
    }

    private DeviceCertificate verifyUncached(X509Certificate x) throws CertificateRejectedException {
        try {
            x.verify(caKey);
        } catch (Exception e) {
            throw new CertificateRejectedException(CertificateRejectedException.Reason.FOREIGN_CA,
                    "certificate was not issued by the CA of network '" + network + "'");
        }
        Instant nb = x.getNotBefore().toInstant();
        Instant na = x.getNotAfter().toInstant();
        checkDates(nb, na);
        X500Name subject = X500Name.getInstance(x.getSubjectX500Principal().getEncoded());
        String o = rdn(subject, BCStyle.O);
        String cn = rdn(subject, BCStyle.CN);
        if (!network.equals(o)) {
            throw new CertificateRejectedException(CertificateRejectedException.Reason.WRONG_NETWORK,
                    "certificate belongs to network '" + o + "', not '" + network + "'");
        }
        byte[] ext = x.getExtensionValue(CertificateFields.OID);
        if (ext == null || cn == null || !UserNames.isValid(cn)) {
            throw new CertificateRejectedException(CertificateRejectedException.Reason.MALFORMED,
                    "certificate is not a Parley device certificate");
        }
        CertificateFields.Decoded f;
        try {
            ASN1Primitive inner = ASN1Primitive.fromByteArray(ASN1OctetString.getInstance(ext).getOctets());
            f = CertificateFields.decode(((ASN1String) inner).getString());
        } catch (Exception e) {
            throw new CertificateRejectedException(CertificateRejectedException.Reason.MALFORMED,
                    "certificate has unreadable Parley fields");
        }
        return new DeviceCertificate(x, o, cn, f.role(), Keys.deviceId(x.getPublicKey()), f.policy(), nb, na);
    }

    /**
     * Verifies a certificate as of a past (or present) time rather than now: CA signature, network and fields,
     * and {@code at} inside its validity (5 minutes of slack before notBefore). Used for signed conversation
     * events, which stay valid after their author's short-lived certificate has expired.
     */
    public DeviceCertificate verifyAt(byte[] der, Instant at) throws CertificateRejectedException {
        String fp = fingerprint(der);
        DeviceCertificate c = checkedAnyTime.get(fp);
        if (c == null) {
            X509Certificate x;
            try {
                x = Keys.certificate(der);
            } catch (IllegalArgumentException e) {
                throw new CertificateRejectedException(CertificateRejectedException.Reason.MALFORMED,
                        "certificate is not valid X.509");
            }
            c = new CertificateVerifier(network, caKey, Clock.fixed(x.getNotBefore().toInstant(), java.time.ZoneOffset.UTC))
                    .verifyUncached(x);
            if (checkedAnyTime.size() >= CACHE_LIMIT) checkedAnyTime.clear();
            checkedAnyTime.put(fp, c);
        }
        if (at.isBefore(c.notBefore().minusSeconds(300))) {
            throw new CertificateRejectedException(CertificateRejectedException.Reason.NOT_YET_VALID,
                    "certificate is not valid before " + c.notBefore());
        }
        if (at.isAfter(c.notAfter())) {
            throw new CertificateRejectedException(CertificateRejectedException.Reason.EXPIRED,
                    "certificate expired at " + c.notAfter());
        }
        return c;
    }

    private final java.util.Map<String, DeviceCertificate> checkedAnyTime = new java.util.concurrent.ConcurrentHashMap<>();

    /** Verifies and additionally requires the given user name. */
    public DeviceCertificate verifyUser(byte[] der, String expectedUser) throws CertificateRejectedException {
        DeviceCertificate c = verify(der);
        if (!c.user().equals(expectedUser)) {
            throw new CertificateRejectedException(CertificateRejectedException.Reason.WRONG_USER,
                    "certificate is for user '" + c.user() + "', expected '" + expectedUser + "'");
        }
        return c;
    }

    /** Verifies and additionally requires the given role. */
    public DeviceCertificate verifyRole(X509Certificate x, Role role) throws CertificateRejectedException {
        DeviceCertificate c = verify(x);
        if (c.role() != role) {
            throw new CertificateRejectedException(CertificateRejectedException.Reason.WRONG_ROLE,
                    "certificate has role " + c.role().wireName() + ", expected " + role.wireName());
        }
        return c;
    }

    private static String rdn(X500Name name, org.bouncycastle.asn1.ASN1ObjectIdentifier oid) {
        RDN[] r = name.getRDNs(oid);
        if (r.length == 0) return null;
        var v = r[0].getFirst().getValue();
        return v instanceof ASN1String s ? s.getString() : IETFUtils.valueToString(v);
    }
}
