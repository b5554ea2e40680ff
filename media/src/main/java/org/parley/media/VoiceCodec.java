package org.parley.media;

import io.github.jaredmdobson.concentus.OpusApplication;
import io.github.jaredmdobson.concentus.OpusBandwidth;
import io.github.jaredmdobson.concentus.OpusDecoder;
import io.github.jaredmdobson.concentus.OpusEncoder;
import io.github.jaredmdobson.concentus.OpusException;
import io.github.jaredmdobson.concentus.OpusSignal;

/**
 * Opus voice (Concentus, pure Java) at 48 kHz mono in 20 ms frames. Normal mode: 32 kbps, full band allowed. Low
 * bandwidth mode: 10 kbps, at most medium band (narrower audio, a third of the bits). In-band FEC is always on: each
 * packet carries a coarse copy of the previous frame, which the receiver uses when that frame's packet is lost.
 */
public final class VoiceCodec {
    public static final int SAMPLE_RATE = 48_000;
    public static final int FRAME_MILLIS = 20;
    public static final int FRAME_SAMPLES = SAMPLE_RATE * FRAME_MILLIS / 1000;
    public static final int NORMAL_BITRATE = 32_000;
    public static final int LOW_BANDWIDTH_BITRATE = 10_000;
    /** Encoder complexity (0-10): 1 keeps a call's codec work within a few percent of a core (docs/benchmarks.md). */
    static final int COMPLEXITY = Integer.getInteger("parley.opus.complexity", 1);

    private VoiceCodec() {
    }

    /** Encodes 20 ms frames. */
    public static final class Encoder {
        private final OpusEncoder opus;
        private final byte[] out = new byte[1275];

        public Encoder(boolean lowBandwidth) {
            try {
                opus = new OpusEncoder(SAMPLE_RATE, 1, OpusApplication.OPUS_APPLICATION_VOIP);
            } catch (OpusException e) {
                throw new IllegalStateException("cannot create the Opus encoder: " + e.getMessage(), e);
            }
            opus.setSignalType(OpusSignal.OPUS_SIGNAL_VOICE);
            opus.setComplexity(COMPLEXITY);
            opus.setUseInbandFEC(true);
            opus.setPacketLossPercent(10);
            opus.setUseDTX(false);
            setLowBandwidth(lowBandwidth);
        }

        public void setLowBandwidth(boolean low) {
            opus.setBitrate(low ? LOW_BANDWIDTH_BITRATE : NORMAL_BITRATE);
            opus.setMaxBandwidth(low ? OpusBandwidth.OPUS_BANDWIDTH_MEDIUMBAND : OpusBandwidth.OPUS_BANDWIDTH_FULLBAND);
        }

        /** Tells the encoder the loss the receiver reports, so FEC spends bits accordingly (0-30 %). */
        public void setExpectedLoss(int percent) {
            opus.setPacketLossPercent(Math.max(0, Math.min(30, percent)));
        }

        /** One Opus packet for exactly {@link #FRAME_SAMPLES} samples. */
        public byte[] encode(short[] frame) {
            if (frame.length != FRAME_SAMPLES) throw new IllegalArgumentException("a frame is " + FRAME_SAMPLES + " samples");
            try {
                int n = opus.encode(frame, 0, FRAME_SAMPLES, out, 0, out.length);
                return java.util.Arrays.copyOf(out, n);
            } catch (OpusException e) {
                throw new IllegalStateException("Opus encode failed: " + e.getMessage(), e);
            }
        }
    }

    /** Decodes packets, conceals lost frames (PLC) and recovers them from the next packet's FEC. */
    public static final class Decoder {
        private final OpusDecoder opus;

        public Decoder() {
            try {
                opus = new OpusDecoder(SAMPLE_RATE, 1);
            } catch (OpusException e) {
                throw new IllegalStateException("cannot create the Opus decoder: " + e.getMessage(), e);
            }
        }

        /** The frame in {@code packet}; a damaged packet is concealed instead. */
        public short[] decode(byte[] packet) {
            short[] pcm = new short[FRAME_SAMPLES];
            try {
                opus.decode(packet, 0, packet.length, pcm, 0, FRAME_SAMPLES, false);
                return pcm;
            } catch (OpusException | RuntimeException e) {
                return conceal();
            }
        }

        /** A frame in place of a lost one (packet loss concealment). */
        public short[] conceal() {
            short[] pcm = new short[FRAME_SAMPLES];
            try {
                opus.decode(null, 0, 0, pcm, 0, FRAME_SAMPLES, false);
            } catch (OpusException | RuntimeException e) {
                java.util.Arrays.fill(pcm, (short) 0);
            }
            return pcm;
        }

        /** The lost frame before {@code nextPacket}, from the FEC data in it (PLC if it has none). */
        public short[] recover(byte[] nextPacket) {
            short[] pcm = new short[FRAME_SAMPLES];
            try {
                opus.decode(nextPacket, 0, nextPacket.length, pcm, 0, FRAME_SAMPLES, true);
                return pcm;
            } catch (OpusException | RuntimeException e) {
                return conceal();
            }
        }
    }
}
