package org.parley.sim;

import org.parley.protocol.Frame;

/** Something at the end of a link: a supernode, a client, or a test probe. */
public sealed interface Endpoint permits SupernodeShell, ClientShell, Probe {
    /** Region index, see {@link Geography}. */
    int region();

    /** Partition side (0 or 1); only matters while {@link Links} is partitioned. */
    int side();

    /** False once crashed or offline: messages to it vanish, it sends nothing. */
    boolean up();

    /** A frame from {@code from} arrives. */
    void deliver(Endpoint from, Frame f);

    /** The connection from {@code from} closed (a client left or restarted). */
    default void connectionClosed(Endpoint from) {}
}
