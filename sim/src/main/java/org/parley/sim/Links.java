package org.parley.sim;

import java.util.Arrays;
import java.util.random.RandomGenerator;
import org.parley.protocol.Frame;
import org.parley.protocol.FrameCodec;
import org.parley.protocol.WireFormatException;

/**
 * In-memory message delivery. A message takes the {@link Geography} latency between its ends; it is lost at
 * random with probability {@code loss}; it vanishes if its sender is down, if its receiver is down when it
 * arrives, or if the links are partitioned and the ends are on different sides (checked when sent and when it
 * arrives). Overlay messages are datagram-like: a loss is final ({@link #send}). Client-supernode frames travel
 * on a QUIC stream: a loss costs a retransmission, not the frame ({@link #sendReliable}). Frames are passed as
 * objects; every {@code wireSampleEvery}-th one is encoded and decoded with {@link FrameCodec} to prove the
 * simulator only sends wire-valid frames.
 */
public final class Links {
    private final Engine engine;
    private final RandomGenerator rnd;
    private final double loss;
    private final int wireSampleEvery;
    private boolean partitioned;
    private long sent, delivered, lostRandom, lostPartition, lostDead, retransmitted;
    private long wireChecked, wireErrors;
    private String firstWireError;

    public Links(Engine engine, RandomGenerator rnd, double loss, int wireSampleEvery) {
        if (!(loss >= 0 && loss < 1)) throw new IllegalArgumentException("loss must be in [0, 1)");
        this.engine = engine;
        this.rnd = rnd;
        this.loss = loss;
        this.wireSampleEvery = wireSampleEvery;
    }

    /** Splits the network along {@link Endpoint#side()} (true) or heals it (false). */
    public void partitioned(boolean p) {
        partitioned = p;
    }

    public boolean partitioned() {
        return partitioned;
    }

    /** True if a message from {@code a} to {@code b} would cross the partition now. */
    public boolean cut(Endpoint a, Endpoint b) {
        return partitioned && a.side() != b.side();
    }

    /** Datagram-like delivery: lost at random, across a partition, or to a dead receiver. */
    public void send(Endpoint from, Endpoint to, Frame f) {
        if (!from.up()) return;
        sent++;
        check(f);
        if (cut(from, to)) {
            lostPartition++;
            return;
        }
        if (loss > 0 && rnd.nextDouble() < loss) {
            lostRandom++;
            return;
        }
        engine.after(Geography.oneWayMillis(from.region(), to.region(), rnd), () -> arrive(from, to, f));
    }

    /** Stream delivery: a random loss delays the frame by a retransmission timeout instead of dropping it. */
    public void sendReliable(Endpoint from, Endpoint to, Frame f) {
        if (!from.up()) return;
        sent++;
        check(f);
        if (cut(from, to)) {
            lostPartition++;
            return;
        }
        int delay = Geography.oneWayMillis(from.region(), to.region(), rnd);
        if (loss > 0 && rnd.nextDouble() < loss) {
            retransmitted++;
            delay += 200 + 2 * Geography.baseMillis(from.region(), to.region()) * 2; // PTO of about 2 RTT + 200 ms
        }
        engine.after(delay, () -> arrive(from, to, f));
    }

    /** The connection from {@code from} to {@code to} closes (reliable, one-way latency). */
    public void close(Endpoint from, Endpoint to) {
        if (cut(from, to)) return;
        engine.after(Geography.oneWayMillis(from.region(), to.region(), rnd), () -> {
            if (to.up() && !cut(from, to)) to.connectionClosed(from);
        });
    }

    private void arrive(Endpoint from, Endpoint to, Frame f) {
        if (!to.up()) {
            lostDead++;
            return;
        }
        if (cut(from, to)) {
            lostPartition++;
            return;
        }
        delivered++;
        to.deliver(from, f);
    }

    private void check(Frame f) {
        if (wireSampleEvery <= 0 || sent % wireSampleEvery != 0) return;
        wireChecked++;
        try {
            byte[] a = FrameCodec.encode(f);
            Frame back = FrameCodec.decode(a);
            if (back.getClass() != f.getClass() || !Arrays.equals(a, FrameCodec.encode(back))) {
                fail(f.getClass().getSimpleName() + " does not survive encode/decode");
            }
        } catch (WireFormatException | RuntimeException e) {
            fail(f.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    private void fail(String why) {
        wireErrors++;
        if (firstWireError == null) firstWireError = why;
    }

    public long sent() {
        return sent;
    }

    public long delivered() {
        return delivered;
    }

    public long lostRandom() {
        return lostRandom;
    }

    public long lostPartition() {
        return lostPartition;
    }

    public long lostDead() {
        return lostDead;
    }

    public long retransmitted() {
        return retransmitted;
    }

    public long wireChecked() {
        return wireChecked;
    }

    public long wireErrors() {
        return wireErrors;
    }

    public String firstWireError() {
        return firstWireError;
    }
}
