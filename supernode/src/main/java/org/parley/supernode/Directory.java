package org.parley.supernode;

import java.util.List;
import java.util.Optional;
import org.parley.protocol.DeviceRecord;

/**
 * The directory: user -> online device records. This supernode's attached devices are registered here;
 * the multi-supernode overlay implements the same interface to answer for devices attached elsewhere.
 */
public interface Directory {
    void register(DeviceRecord record);

    /** Removes the record if it is still the one registered for that device. */
    void unregister(String deviceId, long sinceMillis);

    List<DeviceRecord> lookup(String user);

    Optional<DeviceRecord> device(String deviceId);

    int size();
}
