package org.parley.transport;

import org.parley.protocol.Frame;

/** Callbacks of one node's connections. Called on the connection's event loop: never block in them. */
public interface ConnectionHandler {
    /**
     * The connection is authenticated and its control stream is open. On the accepting side this happens
     * when the dialer's first frame arrives (QUIC announces a stream with its first bytes), just before
     * that frame is passed to {@link #frame}.
     */
    void connected(Connection c);

    void frame(Connection c, Frame f);

    void closed(Connection c);

    /**
     * A QUIC DATAGRAM frame arrived (unreliable, unordered: call media). The array is the handler's to keep.
     * Default: ignored.
     */
    default void datagram(Connection c, byte[] data) {
    }
}
