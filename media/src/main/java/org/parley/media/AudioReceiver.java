package org.parley.media;

import org.parley.protocol.MediaPacket;

/**
 * The receiving half of a call: packets in (any order, any time), one 20 ms PCM frame out per playout tick. Plays what
 * arrived, recovers a lost frame from the next packet's in-band FEC when that packet is already here, conceals it
 * otherwise. Not thread-safe: the owner serialises offer and pull.
 */
public final class AudioReceiver {
    private final JitterBuffer buffer = new JitterBuffer();
    private final VoiceCodec.Decoder decoder = new VoiceCodec.Decoder();
    private long played, recovered, concealed, payloadBytes;
    private long firstArrival = -1, lastArrival;

    /** The figures of one stream so far. */
    public record Stats(long received, long duplicates, long late, long lost, long recovered, long concealed, long played,
                        double jitterMillis, int targetDelayMillis, double meanBufferDelayMillis, long bitrate) {
        /** Lost share of the frames that should have arrived, in percent. */
        public double lossPercent() {
            long expected = received + lost;
            return expected == 0 ? 0 : 100.0 * lost / expected;
        }
    }

    public void offer(MediaPacket p, long nowMillis) {
        if (firstArrival < 0) firstArrival = nowMillis;
        lastArrival = nowMillis;
        payloadBytes += p.payload().length;
        buffer.offer(p, nowMillis);
    }

    /** The next 20 ms to play. */
    public short[] pull(long nowMillis) {
        return switch (buffer.next(nowMillis)) {
            case JitterBuffer.Decision.Play p -> {
                played++;
                yield decoder.decode(p.packet().payload());
            }
            case JitterBuffer.Decision.Recover r -> {
                recovered++;
                yield decoder.recover(r.next().payload());
            }
            case JitterBuffer.Decision.Conceal c -> {
                concealed++;
                yield decoder.conceal();
            }
            case JitterBuffer.Decision.Silence s -> new short[VoiceCodec.FRAME_SAMPLES];
        };
    }

    public Stats stats() {
        long span = lastArrival - firstArrival;
        long bitrate = span <= 0 ? 0 : payloadBytes * 8 * 1000 / Math.max(VoiceCodec.FRAME_MILLIS, span);
        return new Stats(buffer.received(), buffer.duplicates(), buffer.late(), buffer.lost(), recovered, concealed, played,
                buffer.jitterMillis(), buffer.targetFrames() * VoiceCodec.FRAME_MILLIS, buffer.meanBufferDelayMillis(), bitrate);
    }
}
