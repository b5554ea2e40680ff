package org.parley.overlay;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.List;
import java.util.function.LongSupplier;
import org.parley.protocol.DeviceRecord;
import org.parley.protocol.Limits;

/**
 * A stand-in for device certificates and signatures that costs microseconds: the "certificate" names user and
 * device, the "signature" is SHA-256 over a per-device secret and the record's signed bytes. The validator
 * mirrors {@code DirectoryRecords.check}: expiry, lifetime limit, certificate naming user and device, signature.
 */
final class FakePki {
    private FakePki() {}

    static byte[] certificate(String user, String deviceId) {
        return ("fakecert|" + user + "|" + deviceId).getBytes(StandardCharsets.UTF_8);
    }

    static byte[] secretOf(String deviceId) {
        return ("secret-of-" + deviceId).getBytes(StandardCharsets.UTF_8);
    }

    static byte[] sign(DeviceRecord unsigned, byte[] secret) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(secret);
            md.update(unsigned.signedBytes());
            return md.digest();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A validly signed record of {@code user}'s {@code deviceId}. */
    static DeviceRecord record(String user, String deviceId, long sequence, long expiresAt, String observedAddress) {
        DeviceRecord r = new DeviceRecord(deviceId, user, "online", observedAddress, List.of("10.0.0.1:5000"),
                certificate(user, deviceId), expiresAt - Limits.RECORD_TTL_MILLIS, List.of("sn:7000"), List.of("chat"),
                sequence, expiresAt, new byte[0]);
        return r.withSignature(sign(r, secretOf(deviceId)));
    }

    /** Same record, re-signed with a key that is not the device's. */
    static DeviceRecord signedByWrongKey(DeviceRecord r) {
        return r.withSignature(sign(r.withSignature(new byte[0]), secretOf("someone-else")));
    }

    /** Same signature, one field changed. */
    static DeviceRecord tampered(DeviceRecord r, String observedAddress) {
        return new DeviceRecord(r.deviceId(), r.user(), r.presence(), observedAddress, r.localAddresses(), r.certificate(),
                r.sinceMillis(), r.supernodes(), r.capabilities(), r.sequence(), r.expiresAtMillis(), r.signature());
    }

    static RecordStore.Validator validator(LongSupplier clock) {
        return r -> {
            long now = clock.getAsLong();
            if (r.expiresAtMillis() <= now) return "expired";
            if (r.expiresAtMillis() > now + Limits.MAX_RECORD_TTL_MILLIS) return "lifetime over the limit";
            if (!Arrays.equals(r.certificate(), certificate(r.user(), r.deviceId()))) return "certificate names another device";
            byte[] expected = sign(r.withSignature(new byte[0]), secretOf(r.deviceId()));
            if (!Arrays.equals(expected, r.signature())) return "bad signature";
            return null;
        };
    }
}
