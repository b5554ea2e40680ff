package org.parley.overlay;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;
import org.parley.protocol.Frame;
import org.parley.protocol.FrameCodec;
import org.parley.protocol.WireFormatException;

/**
 * An in-memory network over a {@link VirtualClock}: fixed latency, optional random loss, every frame goes through
 * the real wire codec (so what the overlay sends must fit the protocol limits), and a hook to tamper with or drop
 * frames in flight.
 */
final class SimNet {
    /** Sees every frame as it is sent; returns the frame to deliver (possibly altered) or null to drop it. */
    @FunctionalInterface
    interface Interceptor {
        Frame apply(String from, String to, Frame f);
    }

    private final VirtualClock clock;
    private final Random rnd;
    private final long latencyMillis;
    private double loss;
    private final Map<String, Consumer<Frame>> endpoints = new HashMap<>();
    private final Set<String> down = new HashSet<>();
    private Interceptor interceptor = (from, to, f) -> f;
    long sent, delivered, dropped;

    SimNet(VirtualClock clock, long seed, long latencyMillis, double loss) {
        this.clock = clock;
        this.rnd = new Random(seed);
        this.latencyMillis = latencyMillis;
        this.loss = loss;
    }

    void register(String address, Consumer<Frame> handler) {
        endpoints.put(address, handler);
        down.remove(address);
    }

    /** The address no longer answers (crashed or partitioned away). */
    void kill(String address) {
        down.add(address);
    }

    void setLoss(double loss) {
        this.loss = loss;
    }

    void intercept(Interceptor i) {
        this.interceptor = i;
    }

    OverlayNet from(String sender) {
        return (to, f) -> send(sender, to, f);
    }

    void send(String from, String to, Frame f) {
        sent++;
        if (down.contains(from)) {
            dropped++;
            return;
        }
        Frame g = interceptor.apply(from, to, f);
        if (g == null || (loss > 0 && rnd.nextDouble() < loss)) {
            dropped++;
            return;
        }
        byte[] wire = FrameCodec.encode(g); // encoded at send time: later changes to the sender's lists cannot leak
        clock.after(latencyMillis, () -> {
            Consumer<Frame> h = endpoints.get(to);
            if (h == null || down.contains(to)) {
                dropped++;
                return;
            }
            try {
                delivered++;
                h.accept(FrameCodec.decode(wire));
            } catch (WireFormatException e) {
                throw new AssertionError("overlay sent a frame that does not decode: " + e.getMessage(), e);
            }
        });
    }
}
