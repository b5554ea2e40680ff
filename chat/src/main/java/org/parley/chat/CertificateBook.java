package org.parley.chat;

import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.parley.identity.CertificateRejectedException;
import org.parley.identity.CertificateVerifier;
import org.parley.identity.DeviceCertificate;
import org.parley.identity.Keys;
import org.parley.protocol.ChatEvent;
import org.parley.protocol.HybridClock;

/**
 * The author certificates a replica knows, and the {@link AuthorVerifier} built on them: an event is authentic
 * when a certificate of its device, issued by the network CA to its author, covers the event's time and the
 * device key verifies the signature. Events written offline stay acceptable for {@link #OFFLINE_GRACE_MILLIS}
 * after the certificate expired (a device on a long flight cannot renew).
 */
public final class CertificateBook implements AuthorVerifier {
    public static final long OFFLINE_GRACE_MILLIS = 7L * 24 * 3600 * 1000;
    private final CertificateVerifier verifier;
    private final EventStore store;
    private final Map<String, List<DeviceCertificate>> byDevice = new ConcurrentHashMap<>();

    public CertificateBook(CertificateVerifier verifier, EventStore store) {
        this.verifier = verifier;
        this.store = store;
    }

    /** Verifies a certificate (at any time in its life) and remembers it; returns it, or null if it is not one of this network's. */
    public DeviceCertificate learn(byte[] der) {
        DeviceCertificate c;
        try {
            c = verifier.verifyAt(der, notBefore(der));
        } catch (CertificateRejectedException | IllegalArgumentException e) {
            return null;
        }
        List<DeviceCertificate> l = certs(c.deviceId());
        synchronized (l) {
            for (DeviceCertificate k : l) if (java.util.Arrays.equals(k.encoded(), der)) return k;
            l.add(c);
        }
        return c;
    }

    private static Instant notBefore(byte[] der) {
        return Keys.certificate(der).getNotBefore().toInstant();
    }

    /** The certificates known for a device (from memory, else from the store). */
    public List<DeviceCertificate> certs(String deviceHex) {
        return byDevice.computeIfAbsent(deviceHex, d -> {
            List<DeviceCertificate> l = new ArrayList<>();
            for (byte[] der : store.certificates(d)) {
                try {
                    l.add(verifier.verifyAt(der, notBefore(der)));
                } catch (CertificateRejectedException | IllegalArgumentException ignored) {
                    // not of this network
                }
            }
            return l;
        });
    }

    @Override
    public String check(ChatEvent e, byte[] canonicalBytes) {
        String device = HexFormat.of().formatHex(e.device());
        List<DeviceCertificate> l = certs(device);
        if (l.isEmpty()) return "no certificate of device " + device;
        long at = HybridClock.millis(e.hlc());
        String why = "no certificate of " + e.author() + "/" + device + " covers the event's time";
        List<DeviceCertificate> snapshot;
        synchronized (l) {
            snapshot = List.copyOf(l); // verify outside the lock: events of one device are checked in parallel
        }
        {
            for (DeviceCertificate c : snapshot) {
                if (!c.user().equals(e.author())) {
                    why = "device " + device + " belongs to " + c.user() + ", not " + e.author();
                    continue;
                }
                if (at < c.notBefore().toEpochMilli() - 300_000 || at > c.notAfter().toEpochMilli() + OFFLINE_GRACE_MILLIS) continue;
                return verify(e, canonicalBytes, c) ? null : "bad signature";
            }
        }
        return why;
    }

    private static boolean verify(ChatEvent e, byte[] canonical, DeviceCertificate c) {
        try {
            Signature s = Signature.getInstance(Keys.signatureAlgorithm(c.publicKey().getAlgorithm()));
            s.initVerify(c.publicKey());
            s.update(canonical);
            return s.verify(e.signature());
        } catch (GeneralSecurityException | IllegalArgumentException ex) {
            return false;
        }
    }

    /** Signs an event with a device key. */
    public static ChatEvent sign(ChatEvent unsigned, PrivateKey key) {
        try {
            Signature s = Signature.getInstance(Keys.signatureAlgorithm(key.getAlgorithm()));
            s.initSign(key);
            s.update(unsigned.canonicalBytes());
            return unsigned.withSignature(s.sign());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign an event: " + e.getMessage(), e);
        }
    }
}
