/**
 * The supernode's UDP relay for clients that cannot hole-punch: a TURN-like forwarder on its own UDP port
 * ({@link org.parley.supernode.relay.UdpRelay}). It owns relay sessions — their allocation with two random
 * 16-byte tokens (one per side, handed to the clients over their authenticated control connections), the
 * binding of each side's source address with {@code RELAY_BIND} / {@code RELAY_BOUND} / {@code RELAY_DENY}
 * datagrams ({@link org.parley.protocol.ControlDatagram}), the byte-for-byte forwarding of every other
 * datagram between the two bound addresses, the per-session limits (rate, total bytes) and the expiry of
 * idle or never-bound sessions ({@link org.parley.supernode.relay.RelayConfig}), and the relay's metrics.
 * The forwarded datagrams are the two clients' end-to-end QUIC packets (mutual TLS 1.3 between their
 * device certificates): the relay never parses or changes them and cannot read them.
 */
package org.parley.supernode.relay;
