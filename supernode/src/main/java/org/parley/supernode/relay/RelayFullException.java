package org.parley.supernode.relay;

/** {@link UdpRelay#allocate} when the relay already holds {@link RelayConfig#maxSessions()} sessions. */
public final class RelayFullException extends Exception {
    private static final long serialVersionUID = 1L;

    public RelayFullException(int maxSessions) {
        super("relay full: " + maxSessions + " sessions in use");
    }
}
