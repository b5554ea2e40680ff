package org.parley.sim;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import org.parley.overlay.RecordStore;
import org.parley.overlay.Scheduler;
import org.parley.protocol.DeviceRecord;
import org.parley.protocol.Limits;

/**
 * The simulator's stand-in for ECDSA record signatures: a record's signature is the first 16 bytes of
 * SHA-256(simulation key || {@link DeviceRecord#signedBytes()}). The validator recomputes it and checks the
 * expiry (after now, at most {@link Limits#MAX_RECORD_TTL_MILLIS} ahead), so a record altered after signing is
 * refused by every store and every lookup read, exactly where the real ECDSA check sits.
 */
public final class RecordSigner implements RecordStore.Validator {
    public static final int SIGNATURE_BYTES = 16;
    private final byte[] key;
    private final Scheduler clock;
    private final MessageDigest sha;
    private final java.util.HashMap<String, DeviceRecord[]> recent = new java.util.HashMap<>();
    private long checks, fullChecks;

    public RecordSigner(long seed, Scheduler clock) {
        this.key = ("parley-sim-key:" + seed).getBytes(StandardCharsets.UTF_8);
        this.clock = clock;
        try {
            this.sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }

    private byte[] mac(DeviceRecord r) {
        sha.reset();
        sha.update(key);
        return Arrays.copyOf(sha.digest(r.signedBytes()), SIGNATURE_BYTES);
    }

    /** The record with its simulated signature. */
    public DeviceRecord sign(DeviceRecord r) {
        DeviceRecord s = r.withSignature(mac(r));
        DeviceRecord[] last = recent.computeIfAbsent(s.deviceId(), k -> new DeviceRecord[4]);
        System.arraycopy(last, 0, last, 1, last.length - 1);
        last[0] = s;
        return s;
    }

    /**
     * True if {@code r} is the very instance {@link #sign} returned lately. Records are immutable and the
     * simulator never writes into their arrays, so such a record needs no new MAC computation; any other
     * instance (a tampered copy, a decoded frame) is checked in full.
     */
    private boolean signedHere(DeviceRecord r) {
        DeviceRecord[] last = recent.get(r.deviceId());
        if (last == null) return false;
        for (DeviceRecord x : last) if (x == r) return true;
        return false;
    }

    @Override
    public String check(DeviceRecord r) {
        checks++;
        if (r.signature().length != SIGNATURE_BYTES) return "bad signature length";
        if (!signedHere(r)) {
            fullChecks++;
            if (!MessageDigest.isEqual(mac(r), r.signature())) return "bad signature";
        }
        long now = clock.now();
        if (r.expiresAtMillis() <= now) return "expired";
        if (r.expiresAtMillis() > now + Limits.MAX_RECORD_TTL_MILLIS) return "expiry too far ahead";
        return null;
    }

    /** Validations done (one per store of a new record and per record read by a lookup). */
    public long checks() {
        return checks;
    }

    /** Validations that recomputed the MAC (records not signed by this signer lately). */
    public long fullChecks() {
        return fullChecks;
    }
}
