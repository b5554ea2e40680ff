package org.parley.protocol;

import java.nio.ByteBuffer;

/**
 * One media datagram of a call, sent as a QUIC DATAGRAM frame on the peer session (direct or relayed; the QUIC
 * connection encrypts it). Layout, big-endian:
 * {@code version u8 (1) | kind u8 (1 = audio) | flags u8 (bit 0: low-bandwidth) | reserved u8 |
 * call u64 (the first 8 bytes of the call id) | sequence u32 | timestamp u32 (48 kHz samples) | payload}, the
 * payload being one Opus packet of 1 to {@link #MAX_PAYLOAD} bytes. Unknown kinds at version 1 decode to null (skip).
 */
public record MediaPacket(int flags, long call, long sequence, long timestamp, byte[] payload) {
    public static final int VERSION = 1;
    public static final int KIND_AUDIO = 1;
    public static final int FLAG_LOW_BANDWIDTH = 1;
    public static final int HEADER_BYTES = 20;
    /** The largest Opus packet (RFC 6716). */
    public static final int MAX_PAYLOAD = 1275;

    public MediaPacket {
        if (payload == null || payload.length < 1 || payload.length > MAX_PAYLOAD) {
            throw new IllegalArgumentException("media payload of " + (payload == null ? 0 : payload.length) + " bytes (1.." + MAX_PAYLOAD + ")");
        }
        if (sequence < 0 || sequence > 0xffffffffL || timestamp < 0 || timestamp > 0xffffffffL) {
            throw new IllegalArgumentException("sequence and timestamp are u32");
        }
    }

    /** The call field for a 16-byte call id. */
    public static long callField(byte[] callId) {
        return ByteBuffer.wrap(callId, 0, 8).getLong();
    }

    public boolean lowBandwidth() {
        return (flags & FLAG_LOW_BANDWIDTH) != 0;
    }

    public byte[] encode() {
        ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES + payload.length);
        b.put((byte) VERSION).put((byte) KIND_AUDIO).put((byte) flags).put((byte) 0).putLong(call)
                .putInt((int) sequence).putInt((int) timestamp).put(payload);
        return b.array();
    }

    /** Decodes a datagram; null for a kind this version does not know (skip it). */
    public static MediaPacket decode(byte[] d) throws WireFormatException {
        if (d.length < HEADER_BYTES + 1) throw new WireFormatException("media datagram of " + d.length + " bytes is too short");
        if (d.length > HEADER_BYTES + MAX_PAYLOAD) throw new WireFormatException("media datagram of " + d.length + " bytes is too long");
        ByteBuffer b = ByteBuffer.wrap(d);
        int version = b.get() & 0xff;
        if (version != VERSION) throw new WireFormatException("unsupported media version " + version);
        int kind = b.get() & 0xff;
        if (kind != KIND_AUDIO) return null;
        int flags = b.get() & 0xff;
        b.get();
        long call = b.getLong();
        long seq = b.getInt() & 0xffffffffL;
        long ts = b.getInt() & 0xffffffffL;
        byte[] payload = new byte[b.remaining()];
        b.get(payload);
        return new MediaPacket(flags, call, seq, ts, payload);
    }
}
