package org.parley.supernode.relay;

import java.net.InetSocketAddress;
import java.util.Arrays;

/**
 * One relay session: two sides, each with its token and (once bound) its source address, and the session's
 * limits. Addresses are written under the relay's lock and read by the forwarding path without it; the
 * counters and the token bucket are guarded by this object's monitor (the two directions may be served by
 * different event loops).
 */
final class RelaySession {
    /** A session token as a map key (16 bytes as two longs). */
    record Token(long hi, long lo) {
        static Token of(byte[] t) {
            long hi = 0;
            long lo = 0;
            for (int i = 0; i < 8; i++) hi = hi << 8 | (t[i] & 0xff);
            for (int i = 8; i < 16; i++) lo = lo << 8 | (t[i] & 0xff);
            return new Token(hi, lo);
        }
    }

    /** One side of a session. */
    static final class Side {
        final RelaySession session;
        final boolean isA;
        final byte[] token;
        final Token key;
        volatile InetSocketAddress address;

        Side(RelaySession session, boolean isA, byte[] token) {
            this.session = session;
            this.isA = isA;
            this.token = token;
            this.key = Token.of(token);
        }

        Side peer() {
            return isA ? session.b : session.a;
        }
    }

    static final int OK = 0;
    static final int RATE = 1;
    static final int LIMIT = 2;

    final long id;
    final String deviceA;
    final String deviceB;
    final Side a;
    final Side b;
    final long createdMillis;
    /** Set (under the relay's lock) when both sides have been bound at least once. */
    volatile boolean everBound;
    volatile boolean removed;
    volatile long lastActiveMillis;

    // guarded by this
    private double tokens;
    private long refillMillis;
    private long total;
    private long bytesAB;
    private long packetsAB;
    private long bytesBA;
    private long packetsBA;
    private long droppedRate;

    RelaySession(long id, String deviceA, String deviceB, byte[] tokenA, byte[] tokenB, long nowMillis, long burst) {
        this.id = id;
        this.deviceA = deviceA;
        this.deviceB = deviceB;
        this.a = new Side(this, true, Arrays.copyOf(tokenA, tokenA.length));
        this.b = new Side(this, false, Arrays.copyOf(tokenB, tokenB.length));
        this.createdMillis = nowMillis;
        this.lastActiveMillis = nowMillis;
        this.tokens = burst;
        this.refillMillis = nowMillis;
    }

    /**
     * Admits one datagram of {@code len} bytes from side A ({@code fromA}) or B: {@link #OK} (counted, to
     * forward), {@link #RATE} (over the rate: drop) or {@link #LIMIT} (it would exceed the session's bytes).
     */
    synchronized int admit(boolean fromA, int len, long nowMillis, RelayConfig c) {
        if (nowMillis > refillMillis) {
            tokens = Math.min(c.burstBytes(), tokens + (nowMillis - refillMillis) * (c.bytesPerSecond() / 1000.0));
            refillMillis = nowMillis;
        }
        if (total + len > c.maxSessionBytes()) return LIMIT;
        if (tokens < len) {
            droppedRate++;
            return RATE;
        }
        tokens -= len;
        total += len;
        if (fromA) {
            bytesAB += len;
            packetsAB++;
        } else {
            bytesBA += len;
            packetsBA++;
        }
        if (nowMillis > lastActiveMillis) lastActiveMillis = nowMillis;
        return OK;
    }

    synchronized SessionInfo info() {
        return new SessionInfo(id, deviceA, deviceB, a.address, b.address, bytesAB, packetsAB, bytesBA, packetsBA,
                droppedRate, java.time.Instant.ofEpochMilli(createdMillis), java.time.Instant.ofEpochMilli(lastActiveMillis));
    }
}
