package org.parley.overlay;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.parley.protocol.DeviceRecord;
import org.parley.protocol.Limits;

/**
 * The directory records one supernode holds: per user, the latest signed record of each device (at most
 * {@link Limits#MAX_DEVICES_PER_USER}). Soft state: records vanish at their expiry unless their device
 * republishes. Every store is validated (signature, certificate, expiry) and a record never replaces one with a
 * higher sequence number, so a supernode relaying old records cannot roll a device back.
 */
public final class RecordStore {
    /** Checks a record; returns null if it is valid, otherwise why not. */
    @FunctionalInterface
    public interface Validator {
        String check(DeviceRecord r);
    }

    public enum Outcome { STORED, UNCHANGED, STALE, INVALID, FULL }

    private final Validator validator;
    private final int maxRecords;
    private final Map<String, List<DeviceRecord>> byUser = new HashMap<>();
    private int count;
    private long rejected;
    private String lastRejection;

    public RecordStore(Validator validator, int maxRecords) {
        this.validator = validator;
        this.maxRecords = maxRecords;
    }

    public Outcome put(DeviceRecord r) {
        List<DeviceRecord> l = byUser.get(r.user());
        if (l != null) {
            // cheap checks first: an older or equal sequence changes nothing and needs no signature check
            for (DeviceRecord old : l) {
                if (!old.deviceId().equals(r.deviceId())) continue;
                if (old.sequence() > r.sequence()) return Outcome.STALE;
                if (old.sequence() == r.sequence()) return Outcome.UNCHANGED;
            }
        }
        String why = validator.check(r);
        if (why != null) {
            rejected++;
            lastRejection = why;
            return Outcome.INVALID;
        }
        if (l == null) {
            if (count >= maxRecords) return Outcome.FULL;
            l = new ArrayList<>(2);
            byUser.put(r.user(), l);
        }
        for (int i = 0; i < l.size(); i++) {
            DeviceRecord old = l.get(i);
            if (!old.deviceId().equals(r.deviceId())) continue;
            l.set(i, r);
            return Outcome.STORED;
        }
        if (count >= maxRecords) return Outcome.FULL;
        if (l.size() >= Limits.MAX_DEVICES_PER_USER) {
            int oldest = 0;
            for (int i = 1; i < l.size(); i++) if (l.get(i).expiresAtMillis() < l.get(oldest).expiresAtMillis()) oldest = i;
            if (l.get(oldest).expiresAtMillis() > r.expiresAtMillis()) return Outcome.FULL;
            l.set(oldest, r);
            return Outcome.STORED;
        }
        l.add(r);
        count++;
        return Outcome.STORED;
    }

    /** The unexpired records of {@code user}. */
    public List<DeviceRecord> get(String user, long now) {
        List<DeviceRecord> l = byUser.get(user);
        if (l == null) return List.of();
        List<DeviceRecord> out = new ArrayList<>(l.size());
        for (DeviceRecord r : l) if (r.expiresAtMillis() > now) out.add(r);
        return out;
    }

    /** Drops expired records. */
    public int sweep(long now) {
        int dropped = 0;
        Iterator<Map.Entry<String, List<DeviceRecord>>> it = byUser.entrySet().iterator();
        while (it.hasNext()) {
            List<DeviceRecord> l = it.next().getValue();
            int before = l.size();
            l.removeIf(r -> r.expiresAtMillis() <= now);
            dropped += before - l.size();
            if (l.isEmpty()) it.remove();
        }
        count -= dropped;
        return dropped;
    }

    public Set<String> users() {
        return byUser.keySet();
    }

    public int size() {
        return count;
    }

    public long rejected() {
        return rejected;
    }

    public String lastRejection() {
        return lastRejection;
    }
}
