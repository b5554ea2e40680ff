package org.parley.supernode;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.parley.protocol.DeviceRecord;

/** In-memory directory of the devices attached to this supernode. */
public final class LocalDirectory implements Directory {
    private final Map<String, DeviceRecord> byDevice = new ConcurrentHashMap<>();
    private final Map<String, Map<String, DeviceRecord>> byUser = new ConcurrentHashMap<>();

    @Override
    public synchronized void register(DeviceRecord r) {
        DeviceRecord old = byDevice.put(r.deviceId(), r);
        if (old != null && !old.user().equals(r.user())) {
            Map<String, DeviceRecord> m = byUser.get(old.user());
            if (m != null) m.remove(r.deviceId());
        }
        byUser.computeIfAbsent(r.user(), u -> new ConcurrentHashMap<>()).put(r.deviceId(), r);
    }

    @Override
    public synchronized void unregister(String deviceId, long sinceMillis) {
        DeviceRecord r = byDevice.get(deviceId);
        if (r == null || r.sinceMillis() != sinceMillis) return;
        byDevice.remove(deviceId);
        Map<String, DeviceRecord> m = byUser.get(r.user());
        if (m != null) {
            m.remove(deviceId);
            if (m.isEmpty()) byUser.remove(r.user());
        }
    }

    @Override
    public List<DeviceRecord> lookup(String user) {
        Map<String, DeviceRecord> m = byUser.get(user);
        return m == null ? List.of() : List.copyOf(m.values());
    }

    @Override
    public Optional<DeviceRecord> device(String deviceId) {
        return Optional.ofNullable(byDevice.get(deviceId));
    }

    @Override
    public int size() {
        return byDevice.size();
    }
}
