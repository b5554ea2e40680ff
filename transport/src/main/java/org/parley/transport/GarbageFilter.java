package org.parley.transport;

import io.micrometer.core.instrument.Counter;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DatagramPacket;
import java.net.InetSocketAddress;
import org.parley.protocol.ControlDatagram;
import org.parley.protocol.WireFormatException;

/**
 * Sits in front of every QUIC codec of a node. Parley control datagrams ({@link ControlDatagram}: hole
 * punches, relay binding answers) go to the node's control listener; datagrams that cannot be QUIC are
 * dropped and counted: QUIC fixed bit clear, long-header packets of an unknown version, and Initial
 * packets shorter than the 1200 bytes RFC 9000 requires. Whatever passes and still is not valid is
 * dropped silently by the codec.
 */
@ChannelHandler.Sharable
final class GarbageFilter extends ChannelInboundHandlerAdapter {
    /** Receives control datagrams; called on the event loop. */
    interface ControlSink {
        void control(ControlDatagram d, InetSocketAddress from, ChannelHandlerContext ctx);
    }

    private final Counter dropped;
    private final ControlSink sink;

    GarbageFilter(Counter dropped, ControlSink sink) {
        this.dropped = dropped;
        this.sink = sink;
    }

    static boolean plausibleQuic(ByteBuf b) {
        int n = b.readableBytes();
        if (n < 21) return false;
        int first = b.getUnsignedByte(b.readerIndex());
        if ((first & 0x40) == 0) return false;
        if ((first & 0x80) != 0) {
            long version = b.getUnsignedInt(b.readerIndex() + 1);
            if (version != 1 && version != 0) return false;
            boolean initial = ((first >> 4) & 0x3) == 0;
            if (initial && n < 1200) return false;
        }
        return true;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof DatagramPacket p && ControlDatagram.isControl(p.content().nioBuffer())) {
            try {
                ControlDatagram d = ControlDatagram.decode(p.content().nioBuffer());
                if (d != null) sink.control(d, p.sender(), ctx);
            } catch (WireFormatException | RuntimeException e) {
                dropped.increment();
            } finally {
                p.release();
            }
            return;
        }
        if (msg instanceof DatagramPacket p && !plausibleQuic(p.content())) {
            dropped.increment();
            p.release();
            return;
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof java.nio.channels.ClosedChannelException) return; // a socket we closed (e.g. relay ended)
        ctx.fireExceptionCaught(cause);
    }
}
