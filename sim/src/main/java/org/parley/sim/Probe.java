package org.parley.sim;

import java.util.ArrayList;
import java.util.List;
import org.parley.protocol.Frame;

/** A passive endpoint that records what reaches it: for tests of the links. */
public final class Probe implements Endpoint {
    private final int region;
    private int side;
    private boolean up = true;
    private final List<Frame> received = new ArrayList<>();
    private final List<Long> at = new ArrayList<>();
    private final Engine engine;

    public Probe(Engine engine, int region, int side) {
        this.engine = engine;
        this.region = region;
        this.side = side;
    }

    @Override
    public int region() {
        return region;
    }

    @Override
    public int side() {
        return side;
    }

    public void side(int s) {
        side = s;
    }

    @Override
    public boolean up() {
        return up;
    }

    public void up(boolean u) {
        up = u;
    }

    @Override
    public void deliver(Endpoint from, Frame f) {
        received.add(f);
        at.add(engine.now());
    }

    public List<Frame> received() {
        return received;
    }

    public List<Long> receivedAt() {
        return at;
    }
}
