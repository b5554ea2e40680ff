/**
 * QUIC transport over Netty's QUIC codec: one UDP port per node that both accepts (server codec on an
 * unconnected SO_REUSEPORT socket) and dials (one connect()ed SO_REUSEPORT socket per outgoing
 * connection, bound to the same port), mutual TLS 1.3 with device certificates checked offline against
 * the network CA, the stream frame codec adapter, and the garbage filter in front of the server codec.
 * Other modules use {@link org.parley.transport.QuicNode}, {@link org.parley.transport.Connection} and
 * {@link org.parley.transport.ConnectionHandler} only.
 */
package org.parley.transport;
