package org.parley.media;

import java.util.TreeMap;
import org.parley.protocol.MediaPacket;

/**
 * The adaptive jitter buffer of one incoming stream. Packets go in as they arrive ({@link #offer}); every 20 ms the
 * owner asks what to play ({@link #next}). Playout starts one target delay after the first packet. The target follows
 * the interarrival jitter (RFC 3550 estimate): about three times the jitter, at least one frame (so the next packet is
 * usually there to recover a lost one from its FEC) and at most {@link #MAX_TARGET_FRAMES} frames. It grows at once
 * when the buffer runs dry (the missing frame is concealed and playout waits) and shrinks slowly, one frame after
 * {@link #SHRINK_AFTER} ticks above target. Reordered packets take their place, duplicates and packets that come after
 * their playout time are dropped. Pure logic: times are the owner's milliseconds.
 */
public final class JitterBuffer {
    public static final int MAX_TARGET_FRAMES = 10;
    public static final int SHRINK_AFTER = 50;
    /** More than this many frames behind the newest packet is a restart (e.g. the peer's clock jumped): resync. */
    static final int MAX_GAP_FRAMES = 250;

    /** What to play for the next 20 ms. */
    public sealed interface Decision {
        /** Play this packet. */
        record Play(MediaPacket packet) implements Decision {}

        /** Its packet is lost; the next one is here: recover the frame from the next packet's FEC. */
        record Recover(MediaPacket next) implements Decision {}

        /** Its packet is lost (or the buffer is dry): conceal. */
        record Conceal(boolean dry) implements Decision {}

        /** Nothing received yet: silence. */
        record Silence() implements Decision {}
    }

    private final TreeMap<Long, MediaPacket> packets = new TreeMap<>();
    private final TreeMap<Long, Long> arrivals = new TreeMap<>();
    private long highest = -1;      // extended sequence of the newest packet
    private long nextSeq = -1;      // extended sequence to play next
    private long startAt = -1;      // playout start (owner millis)
    private long lastTransit;       // for the jitter estimate
    private boolean haveTransit;
    private double jitterMillis;
    private int aboveTarget;
    private long received, duplicates, late, lost, skipped, dryTicks;
    private double delaySum;
    private long delayCount;

    /** A packet arrived at {@code nowMillis}. */
    public void offer(MediaPacket p, long nowMillis) {
        long ext = extend(p.sequence());
        if (highest >= 0 && ext < highest - MAX_GAP_FRAMES || ext > highest + MAX_GAP_FRAMES && highest >= 0) {
            // far out of range: the stream restarted
            packets.clear();
            arrivals.clear();
            highest = -1;
            nextSeq = -1;
            startAt = -1;
            ext = p.sequence();
        }
        long transit = nowMillis - p.timestamp() * 1000 / VoiceCodec.SAMPLE_RATE;
        if (haveTransit) {
            long d = Math.abs(transit - lastTransit);
            jitterMillis += (d - jitterMillis) / 16.0;
        }
        lastTransit = transit;
        haveTransit = true;
        if (nextSeq >= 0 && ext < nextSeq) {
            late++;
            return;
        }
        if (packets.containsKey(ext)) {
            duplicates++;
            return;
        }
        received++;
        packets.put(ext, p);
        arrivals.put(ext, nowMillis);
        if (ext > highest) highest = ext;
        if (startAt < 0) {
            nextSeq = ext;
            startAt = nowMillis + (long) targetFrames() * VoiceCodec.FRAME_MILLIS;
        }
    }

    private long extend(long seq32) {
        if (highest < 0) return seq32;
        long base = highest & 0xffffffffL;
        int diff = (int) (seq32 - base);
        return highest + diff;
    }

    /** Target delay in frames from the current jitter estimate. */
    public int targetFrames() {
        int frames = 1 + (int) Math.ceil(3 * jitterMillis / VoiceCodec.FRAME_MILLIS);
        return Math.max(1, Math.min(MAX_TARGET_FRAMES, frames));
    }

    /** What to play for the 20 ms starting at {@code nowMillis}. */
    public Decision next(long nowMillis) {
        if (startAt < 0 || nowMillis < startAt) return new Decision.Silence();
        int depth = (int) Math.max(0, highest - nextSeq + 1);
        // shrink: sustained excess over the target drops one frame (the oldest), keeping latency low
        if (depth > targetFrames() + 1) {
            if (++aboveTarget >= SHRINK_AFTER && packets.containsKey(nextSeq)) {
                aboveTarget = 0;
                packets.remove(nextSeq);
                arrivals.remove(nextSeq);
                nextSeq++;
                skipped++;
            }
        } else {
            aboveTarget = 0;
        }
        MediaPacket p = packets.remove(nextSeq);
        Long arrived = arrivals.remove(nextSeq);
        if (p != null) {
            delaySum += nowMillis - arrived;
            delayCount++;
            nextSeq++;
            return new Decision.Play(p);
        }
        if (highest > nextSeq) {
            // lost: a later packet is here
            lost++;
            MediaPacket following = packets.get(nextSeq + 1);
            nextSeq++;
            return following != null ? new Decision.Recover(following) : new Decision.Conceal(false);
        }
        // dry: conceal and wait (the buffer grows by one frame)
        dryTicks++;
        return new Decision.Conceal(true);
    }

    public double jitterMillis() {
        return jitterMillis;
    }

    public long received() {
        return received;
    }

    public long duplicates() {
        return duplicates;
    }

    public long late() {
        return late;
    }

    /** Frames whose packet never came in time (recovered or concealed). */
    public long lost() {
        return lost;
    }

    /** Frames dropped to shrink the buffer. */
    public long skipped() {
        return skipped;
    }

    /** Ticks the buffer was dry (concealed and waited). */
    public long dryTicks() {
        return dryTicks;
    }

    /** Mean time played packets waited in the buffer, ms. */
    public double meanBufferDelayMillis() {
        return delayCount == 0 ? 0 : delaySum / delayCount;
    }

    /** Frames buffered now. */
    public int depth() {
        return packets.size();
    }
}
