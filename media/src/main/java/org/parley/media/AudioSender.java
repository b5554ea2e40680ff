package org.parley.media;

import org.parley.protocol.MediaPacket;

/**
 * The sending half of a call: 20 ms PCM frames in, {@link MediaPacket}s out, with increasing sequence numbers and
 * 48 kHz timestamps. Not thread-safe: one media thread.
 */
public final class AudioSender {
    private final VoiceCodec.Encoder encoder;
    private final long call;
    private boolean lowBandwidth;
    private long sequence;
    private long timestamp;
    private long packets, payloadBytes;

    public AudioSender(long call, boolean lowBandwidth) {
        this.call = call;
        this.lowBandwidth = lowBandwidth;
        this.encoder = new VoiceCodec.Encoder(lowBandwidth);
    }

    public void setLowBandwidth(boolean low) {
        lowBandwidth = low;
        encoder.setLowBandwidth(low);
    }

    public void setExpectedLoss(int percent) {
        encoder.setExpectedLoss(percent);
    }

    /** Encodes one frame of {@link VoiceCodec#FRAME_SAMPLES} samples into the next packet. */
    public MediaPacket next(short[] frame) {
        byte[] opus = encoder.encode(frame);
        MediaPacket p = new MediaPacket(lowBandwidth ? MediaPacket.FLAG_LOW_BANDWIDTH : 0, call, sequence & 0xffffffffL,
                timestamp & 0xffffffffL, opus);
        sequence++;
        timestamp += VoiceCodec.FRAME_SAMPLES;
        packets++;
        payloadBytes += opus.length;
        return p;
    }

    public long packets() {
        return packets;
    }

    /** Average Opus bitrate so far, bits per second. */
    public long bitrate() {
        return packets == 0 ? 0 : payloadBytes * 8 * 1000 / (packets * VoiceCodec.FRAME_MILLIS);
    }
}
