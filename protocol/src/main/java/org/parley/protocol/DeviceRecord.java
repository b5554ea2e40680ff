package org.parley.protocol;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A directory record: what the overlay holds about one online device. It is created and signed by the device
 * itself (ECDSA P-256 with the key of {@code certificate}), so no supernode can forge, alter or roll it back:
 * every store and every read checks the certificate chain, that the certificate names {@code user} and
 * {@code deviceId}, the signature over {@link #signedBytes()}, the expiry, and that {@code sequence} is not
 * older than what the holder already has.
 *
 * @param deviceId        32 hex digits, as in the certificate
 * @param user            account name, as in the certificate
 * @param presence        online, away, busy or invisible
 * @param observedAddress the UDP address the device's supernode observes (host:port), what peers punch to
 * @param localAddresses  the addresses the device sees on its own interfaces (at most 8)
 * @param certificate     the device certificate (DER)
 * @param sinceMillis     when the device attached to its current supernode
 * @param supernodes      the supernode(s) the device is attached to (host:port), through which it is reached
 * @param capabilities    what the device supports ("chat", "relay", "call", ...)
 * @param sequence        increases with every new record of this device; a lower one never replaces a higher
 * @param expiresAtMillis soft state: the record is dropped after this unless republished (see {@link Limits#RECORD_TTL_MILLIS})
 * @param signature       the device's signature over {@link #signedBytes()}
 */
public record DeviceRecord(String deviceId, String user, String presence, String observedAddress,
                           List<String> localAddresses, byte[] certificate, long sinceMillis,
                           List<String> supernodes, List<String> capabilities, long sequence, long expiresAtMillis,
                           byte[] signature) {
    /** Domain separation prefix of the signed bytes. */
    public static final String SIGNING_CONTEXT = "parley-directory-record/1";

    public DeviceRecord {
        localAddresses = List.copyOf(localAddresses);
        supernodes = List.copyOf(supernodes);
        capabilities = List.copyOf(capabilities);
        if (signature == null) signature = new byte[0];
    }

    /** An unsigned record (sequence 0, no expiry): for tests and for records a supernode builds for itself. */
    public DeviceRecord(String deviceId, String user, String presence, String observedAddress,
                        List<String> localAddresses, byte[] certificate, long sinceMillis) {
        this(deviceId, user, presence, observedAddress, localAddresses, certificate, sinceMillis, List.of(), List.of(),
                0, 0, new byte[0]);
    }

    public DeviceRecord withSignature(byte[] sig) {
        return new DeviceRecord(deviceId, user, presence, observedAddress, localAddresses, certificate, sinceMillis,
                supernodes, capabilities, sequence, expiresAtMillis, sig);
    }

    /** The canonical bytes the device signs: every field but the signature, in a fixed layout. */
    public byte[] signedBytes() {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(256 + certificate.length);
        java.io.DataOutputStream d = new java.io.DataOutputStream(out);
        try {
            putStr(d, SIGNING_CONTEXT);
            putStr(d, deviceId);
            putStr(d, user);
            putStr(d, presence);
            putStr(d, observedAddress);
            putStrs(d, localAddresses);
            d.writeInt(certificate.length);
            d.write(certificate);
            d.writeLong(sinceMillis);
            putStrs(d, supernodes);
            putStrs(d, capabilities);
            d.writeLong(sequence);
            d.writeLong(expiresAtMillis);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e); // cannot happen in memory
        }
        return out.toByteArray();
    }

    /** u16 length + UTF-8 (as on the wire); an over-long field is cut to 65,535 bytes here and refused by the codec. */
    private static void putStr(java.io.DataOutputStream d, String s) throws java.io.IOException {
        byte[] u = s.getBytes(StandardCharsets.UTF_8);
        int n = Math.min(u.length, 0xffff);
        d.writeShort(n);
        d.write(u, 0, n);
    }

    private static void putStrs(java.io.DataOutputStream d, List<String> l) throws java.io.IOException {
        d.writeShort(Math.min(l.size(), 0xffff));
        for (String s : l) putStr(d, s);
    }

    /** True if both records carry the same signed content (and signature). */
    public boolean sameAs(DeviceRecord o) {
        return o != null && sequence == o.sequence && java.util.Arrays.equals(signature, o.signature)
                && java.util.Arrays.equals(signedBytes(), o.signedBytes());
    }
}
