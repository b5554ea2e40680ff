package org.parley.transport;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicConnectionPathStats;
import io.netty.handler.codec.quic.QuicStreamChannel;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import org.parley.identity.DeviceCertificate;
import org.parley.protocol.Frame;
import org.parley.protocol.FrameCodec;

/**
 * One authenticated QUIC connection with its control stream. {@link #peer()} is the verified
 * certificate the peer presented in the TLS handshake.
 */
public final class Connection {
    private final QuicChannel quic;
    private final boolean outbound;
    private final DeviceCertificate peer;
    private final InetSocketAddress remote;
    private final Channel datagram;
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    volatile QuicStreamChannel control;
    volatile ConnectionHandler handler;
    private volatile Object attachment;
    private final InetSocketAddress relay;

    Connection(QuicChannel quic, boolean outbound, DeviceCertificate peer, InetSocketAddress remote, Channel datagram,
               InetSocketAddress relay) {
        this.quic = quic;
        this.relay = relay;
        this.outbound = outbound;
        this.peer = peer;
        this.remote = remote;
        this.datagram = datagram;
    }

    public DeviceCertificate peer() {
        return peer;
    }

    /** The UDP address of the peer as this node sees it. */
    public InetSocketAddress remoteAddress() {
        return remote;
    }

    /** The relay this connection runs through, or null for a direct connection. */
    public InetSocketAddress relayAddress() {
        return relay;
    }

    Channel datagramChannel() {
        return datagram;
    }

    public boolean outbound() {
        return outbound;
    }

    public boolean isOpen() {
        return quic.isActive() && !closed.isDone();
    }

    /** Sends a frame on the control stream; the future completes when it was written to the connection. */
    public CompletableFuture<Void> send(Frame f) {
        CompletableFuture<Void> r = new CompletableFuture<>();
        QuicStreamChannel s = control;
        if (s == null || !s.isActive()) {
            r.completeExceptionally(new java.io.IOException("connection to " + peer.label() + " is closed"));
            return r;
        }
        s.writeAndFlush(Unpooled.wrappedBuffer(FrameCodec.encode(f))).addListener(fut -> {
            if (fut.isSuccess()) r.complete(null);
            else r.completeExceptionally(fut.cause());
        });
        return r;
    }

    /** Smoothed round-trip time of the active path in milliseconds, or -1 when unknown. */
    /**
     * Sends one QUIC DATAGRAM frame (unreliable: it may be lost, and is dropped when the send queue is full or the
     * datagram is larger than the path allows). Returns false if the connection is closed. The accepting side takes
     * datagrams only once it knows the connection, i.e. after the dialer's first frame.
     */
    public boolean sendDatagram(byte[] data) {
        if (!quic.isActive()) return false;
        quic.writeAndFlush(Unpooled.wrappedBuffer(data)).addListener(f -> {
            if (!f.isSuccess()) datagramsDropped.incrementAndGet();
        });
        return true;
    }

    /** Datagrams the QUIC stack refused to send (queue full, too large, no DATAGRAM support at the peer). */
    public long datagramsDropped() {
        return datagramsDropped.get();
    }

    private final java.util.concurrent.atomic.AtomicLong datagramsDropped = new java.util.concurrent.atomic.AtomicLong();

    public CompletableFuture<Long> rttMillis() {
        CompletableFuture<Long> r = new CompletableFuture<>();
        quic.collectPathStats(0).addListener(f -> {
            if (f.isSuccess()) r.complete(((QuicConnectionPathStats) f.getNow()).rtt() / 1_000_000L);
            else r.complete(-1L);
        });
        return r;
    }

    /** Bytes sent and received on this connection: {sent, received}. */
    public CompletableFuture<long[]> byteCounts() {
        CompletableFuture<long[]> r = new CompletableFuture<>();
        quic.collectStats().addListener(f -> {
            if (f.isSuccess()) {
                var s = (io.netty.handler.codec.quic.QuicConnectionStats) f.getNow();
                r.complete(new long[] {s.sentBytes(), s.recvBytes()});
            } else {
                r.complete(new long[] {-1, -1});
            }
        });
        return r;
    }

    public Object attachment() {
        return attachment;
    }

    public void attach(Object o) {
        attachment = o;
    }

    public CompletableFuture<Void> closeFuture() {
        return closed;
    }

    public void close() {
        quic.close();
        if (datagram != null) datagram.close();
    }

    void markClosed() {
        if (closed.complete(null)) {
            if (datagram != null) datagram.close();
            ConnectionHandler h = handler;
            if (h != null) h.closed(this);
        }
    }

    @Override
    public String toString() {
        return (outbound ? "to " : "from ") + peer.label() + "@" + remote;
    }
}
