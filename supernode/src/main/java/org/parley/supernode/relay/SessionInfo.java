package org.parley.supernode.relay;

import java.net.InetSocketAddress;
import java.time.Instant;

/**
 * A snapshot of one relay session for status pages and metrics.
 *
 * @param addressA     side A's bound source address, or null while it has not bound
 * @param addressB     side B's bound source address, or null while it has not bound
 * @param bytesAToB    bytes forwarded from A to B (datagram payloads)
 * @param droppedRate  datagrams of this session dropped by its rate limit
 * @param lastActive   the last forwarded datagram (or the allocation, before any)
 */
public record SessionInfo(long id, String deviceA, String deviceB, InetSocketAddress addressA, InetSocketAddress addressB,
                          long bytesAToB, long packetsAToB, long bytesBToA, long packetsBToA, long droppedRate,
                          Instant created, Instant lastActive) {
    /** Both sides have bound: datagrams are forwarded. */
    public boolean bound() {
        return addressA != null && addressB != null;
    }
}
