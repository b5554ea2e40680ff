package org.parley.overlay;

import org.parley.protocol.Frame;

/** How an overlay node's messages leave: QUIC connections between supernodes, or the simulator's links. */
public interface OverlayNet {
    /** Sends {@code frame} to the supernode at {@code address}; loss is reported only by the absence of an answer. */
    void send(String address, Frame frame);
}
