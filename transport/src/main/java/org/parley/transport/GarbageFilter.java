package org.parley.transport;

import io.micrometer.core.instrument.Counter;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DatagramPacket;

/**
 * Drops datagrams that cannot be QUIC before they reach the codec, and counts them: QUIC fixed bit
 * clear, long-header packets of an unknown version, and Initial packets shorter than the 1200 bytes
 * RFC 9000 requires. Whatever passes and still is not valid is dropped silently by the codec.
 */
@ChannelHandler.Sharable
final class GarbageFilter extends ChannelInboundHandlerAdapter {
    private final Counter dropped;

    GarbageFilter(Counter dropped) {
        this.dropped = dropped;
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
        if (msg instanceof DatagramPacket p && !plausibleQuic(p.content())) {
            dropped.increment();
            p.release();
            return;
        }
        ctx.fireChannelRead(msg);
    }
}
