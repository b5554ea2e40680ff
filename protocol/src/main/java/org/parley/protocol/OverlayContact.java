package org.parley.protocol;

/**
 * A supernode as the overlay knows it: its node id (SHA-256 of its certificate's public key), the address it
 * serves QUIC on, and the load figures routing and redirects prefer stable, high-capacity nodes by.
 *
 * @param id            {@link Limits#NODE_ID_BYTES} bytes
 * @param address       host:port of the supernode's QUIC port
 * @param capacity      most clients it admits
 * @param load          clients attached now
 * @param uptimeSeconds how long it has been running
 */
public record OverlayContact(byte[] id, String address, int capacity, int load, int uptimeSeconds) {
    public OverlayContact {
        if (id.length != Limits.NODE_ID_BYTES) throw new IllegalArgumentException("node id must be " + Limits.NODE_ID_BYTES + " bytes");
    }

    /** Spare client slots (never negative). */
    public int spare() {
        return Math.max(0, capacity - load);
    }
}
