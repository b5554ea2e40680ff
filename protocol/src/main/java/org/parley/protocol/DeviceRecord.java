package org.parley.protocol;

import java.util.List;

/**
 * What the directory holds about one online device: its id and user, presence, the UDP address its
 * supernode observes, the addresses it sees on its own interfaces, its certificate and when it attached.
 */
public record DeviceRecord(String deviceId, String user, String presence, String observedAddress,
                           List<String> localAddresses, byte[] certificate, long sinceMillis) {}
