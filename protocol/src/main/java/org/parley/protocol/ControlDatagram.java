package org.parley.protocol;

import java.nio.ByteBuffer;
import java.util.HexFormat;

/**
 * The few UDP datagrams Parley sends outside QUIC: hole-punching probes between clients and the
 * binding handshake with a supernode's relay port. Layout: {@code magic "\0PLY" (4 bytes) | type u8 | body}.
 * The first byte 0x00 has QUIC's fixed bit (0x40) clear, so no QUIC v1 packet can be mistaken for one
 * (the same trick RFC 9443 uses to multiplex STUN, TURN and QUIC on one port). Bodies are fixed-size;
 * a datagram of a known type with the wrong size, or with the wrong magic, is a {@link WireFormatException}.
 *
 * <pre>
 * type 1 PUNCH       attempt id (16) | sender device id (16 raw bytes)        37 bytes in all
 * type 2 RELAY_BIND  token (16)                                               21 bytes
 * type 3 RELAY_BOUND token (16) | flags u8 (bit 0: the other side is bound)   22 bytes
 * type 4 RELAY_DENY  token (16) | reason u8 (1 unknown or expired token,
 *                                 2 session byte or rate limit exceeded)     22 bytes
 * </pre>
 */
public sealed interface ControlDatagram {
    byte[] MAGIC = {0x00, 'P', 'L', 'Y'};
    int HEADER = 5;
    int ID_BYTES = 16;

    int TYPE_PUNCH = 1;
    int TYPE_RELAY_BIND = 2;
    int TYPE_RELAY_BOUND = 3;
    int TYPE_RELAY_DENY = 4;

    int DENY_UNKNOWN_TOKEN = 1;
    int DENY_LIMIT = 2;

    /** A hole-punching probe: "device {@code senderDevice} is trying attempt {@code attemptId} with you". */
    record Punch(byte[] attemptId, byte[] senderDevice) implements ControlDatagram {
        public Punch {
            check(attemptId);
            check(senderDevice);
        }

        public String senderDeviceHex() {
            return HexFormat.of().formatHex(senderDevice);
        }
    }

    /** A client binds its source address to one side of a relay session. Repeated as a keepalive. */
    record RelayBind(byte[] token) implements ControlDatagram {
        public RelayBind {
            check(token);
        }
    }

    /** The relay's answer to a bind; {@code peerBound} once the other side has bound too. */
    record RelayBound(byte[] token, boolean peerBound) implements ControlDatagram {
        public RelayBound {
            check(token);
        }
    }

    /** The relay refuses a bind or stops forwarding for a session. */
    record RelayDeny(byte[] token, int reason) implements ControlDatagram {
        public RelayDeny {
            check(token);
        }
    }

    private static void check(byte[] id) {
        if (id == null || id.length != ID_BYTES) throw new IllegalArgumentException("id must be 16 bytes");
    }

    /** True when the datagram starts with the magic (it is not QUIC); cheap, reads 4 bytes. */
    public static boolean isControl(ByteBuffer b) {
        int p = b.position();
        return b.remaining() >= HEADER && b.get(p) == 0x00 && b.get(p + 1) == 'P' && b.get(p + 2) == 'L' && b.get(p + 3) == 'Y';
    }

    public static byte[] encode(ControlDatagram d) {
        ByteBuffer b = switch (d) {
            case Punch p -> header(TYPE_PUNCH, 32).put(p.attemptId()).put(p.senderDevice());
            case RelayBind r -> header(TYPE_RELAY_BIND, 16).put(r.token());
            case RelayBound r -> header(TYPE_RELAY_BOUND, 17).put(r.token()).put((byte) (r.peerBound() ? 1 : 0));
            case RelayDeny r -> header(TYPE_RELAY_DENY, 17).put(r.token()).put((byte) r.reason());
        };
        return b.array();
    }

    private static ByteBuffer header(int type, int body) {
        return ByteBuffer.allocate(HEADER + body).put(MAGIC).put((byte) type);
    }

    /**
     * Decodes one datagram (from the buffer's position to its limit, not moving the position).
     * Returns null for a well-formed datagram of an unknown type (receivers skip it).
     */
    public static ControlDatagram decode(ByteBuffer in) throws WireFormatException {
        ByteBuffer b = in.duplicate();
        if (!isControl(b)) throw new WireFormatException("not a Parley control datagram");
        b.position(b.position() + 4);
        int type = b.get() & 0xff;
        int body = b.remaining();
        return switch (type) {
            case TYPE_PUNCH -> {
                size(body, 32, "PUNCH");
                yield new Punch(take(b), take(b));
            }
            case TYPE_RELAY_BIND -> {
                size(body, 16, "RELAY_BIND");
                yield new RelayBind(take(b));
            }
            case TYPE_RELAY_BOUND -> {
                size(body, 17, "RELAY_BOUND");
                byte[] t = take(b);
                int flags = b.get() & 0xff;
                yield new RelayBound(t, (flags & 1) != 0);
            }
            case TYPE_RELAY_DENY -> {
                size(body, 17, "RELAY_DENY");
                yield new RelayDeny(take(b), b.get() & 0xff);
            }
            default -> null;
        };
    }

    public static ControlDatagram decode(byte[] bytes) throws WireFormatException {
        return decode(ByteBuffer.wrap(bytes));
    }

    private static void size(int body, int want, String name) throws WireFormatException {
        if (body != want) throw new WireFormatException(name + " body is " + body + " bytes, expected " + want);
    }

    private static byte[] take(ByteBuffer b) {
        byte[] out = new byte[ID_BYTES];
        b.get(out);
        return out;
    }

    /** Parses a 32-hex-digit device id into its 16 raw bytes. */
    public static byte[] deviceBytes(String deviceIdHex) {
        byte[] r = HexFormat.of().parseHex(deviceIdHex);
        if (r.length != ID_BYTES) throw new IllegalArgumentException("device id must be 32 hex digits");
        return r;
    }
}
