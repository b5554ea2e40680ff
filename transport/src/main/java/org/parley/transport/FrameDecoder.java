package org.parley.transport;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;
import org.parley.protocol.FrameCodec;
import org.parley.protocol.Limits;

/** Splits a stream into frames and decodes them; length and version are checked before buffering the payload. */
final class FrameDecoder extends ByteToMessageDecoder {
    private boolean failed;

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        try {
            decodeFrames(in, out);
        } catch (Exception e) {
            failed = true;
            in.skipBytes(in.readableBytes());
            throw e;
        }
    }

    private void decodeFrames(ByteBuf in, List<Object> out) throws Exception {
        while (in.readableBytes() >= Limits.HEADER_BYTES) {
            int start = in.readerIndex();
            byte version = in.getByte(start);
            int type = in.getUnsignedByte(start + 1);
            int len = FrameCodec.payloadLength(version, in.getInt(start + 2));
            if (in.readableBytes() < Limits.HEADER_BYTES + len) return;
            byte[] payload = new byte[len];
            in.getBytes(start + Limits.HEADER_BYTES, payload);
            in.skipBytes(Limits.HEADER_BYTES + len);
            out.add(FrameCodec.decodePayload(type, java.nio.ByteBuffer.wrap(payload)));
        }
    }
}
