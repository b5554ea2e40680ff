package org.parley.sim;

import java.util.List;
import java.util.SplittableRandom;
import org.parley.overlay.Admission;
import org.parley.overlay.AdmissionConfig;
import org.parley.overlay.DirectoryService;
import org.parley.overlay.NodeId;
import org.parley.overlay.OverlayNode;
import org.parley.overlay.RecordStore;
import org.parley.protocol.Frame;

/**
 * One simulated supernode: the real {@link OverlayNode}, {@link DirectoryService} and {@link Admission}, wired to
 * the simulator's clock and links. The shell only turns client frames into directory calls and back, and keeps
 * load figures; every decision is the overlay code's.
 */
public final class SupernodeShell implements Endpoint {
    private final Simulation sim;
    final int index;
    final String address;
    final int region;
    int side;
    final boolean mega;
    final boolean seed;
    final Admission admission;
    final DirectoryService dir;
    final OverlayNode node;
    boolean up;
    final long createdAt;
    long crashedAt = -1;
    int peakAttached;
    private long attachSecond = -1, lookupSecond = -1;
    private int attachesThisSecond, lookupsThisSecond;
    int peakAttachesPerSecond, peakLookupsPerSecond;

    SupernodeShell(Simulation sim, int index, String address, NodeId id, int region, boolean mega, boolean seed,
                   AdmissionConfig cfg, SplittableRandom rnd, RecordStore.Validator validator) {
        this.sim = sim;
        this.index = index;
        this.address = address;
        this.region = region;
        this.mega = mega;
        this.seed = seed;
        this.createdAt = sim.engine().now();
        this.admission = new Admission(cfg, rnd, sim.engine().now());
        this.dir = new DirectoryService(admission, sim.engine(), rnd, sim.seeds());
        this.node = new OverlayNode(id, address, sim.config().overlay(), (to, f) -> sim.sendOverlay(this, to, f),
                sim.engine(), rnd, validator, dir);
        dir.bind(node);
    }

    /** Comes up and joins the overlay through {@code bootstrap}. */
    void start(List<String> bootstrap) {
        up = true;
        node.start(bootstrap);
    }

    /** Crashes: timers stop, messages to it vanish from now on. */
    void crash() {
        up = false;
        crashedAt = sim.engine().now();
        node.stop();
    }

    public String address() {
        return address;
    }

    public OverlayNode node() {
        return node;
    }

    public DirectoryService directory() {
        return dir;
    }

    public boolean mega() {
        return mega;
    }

    public int capacity() {
        return admission.config().maxClients();
    }

    @Override
    public int region() {
        return region;
    }

    @Override
    public int side() {
        return side;
    }

    @Override
    public boolean up() {
        return up;
    }

    @Override
    public void deliver(Endpoint from, Frame f) {
        switch (f) {
            case Frame.Hello h -> {
                if (from instanceof ClientShell c) hello(c);
            }
            case Frame.Publish p -> {
                if (from instanceof ClientShell c) {
                    dir.publish(p.record(), n -> sim.links().sendReliable(this, c, new Frame.Published(p.requestId(), n)));
                }
            }
            case Frame.Resolve r -> {
                if (from instanceof ClientShell c) resolve(c, r);
            }
            default -> node.onMessage(f);
        }
    }

    private void hello(ClientShell c) {
        DirectoryService.AttachDecision d = dir.attach(c.deviceId);
        switch (d) {
            case DirectoryService.AttachDecision.Admit a -> {
                int n = dir.attached();
                if (n > peakAttached) peakAttached = n;
                long sec = sim.engine().now() / 1000;
                if (sec != attachSecond) {
                    attachSecond = sec;
                    attachesThisSecond = 0;
                }
                if (++attachesThisSecond > peakAttachesPerSecond) peakAttachesPerSecond = attachesThisSecond;
                sim.links().sendReliable(this, c, new Frame.Welcome(node.id().toString(), c.observedAddress(),
                        sim.engine().now(), 15_000, a.supernodes()));
            }
            case DirectoryService.AttachDecision.Redirect r ->
                    sim.links().sendReliable(this, c, new Frame.Redirect(r.retryAfterMillis(), r.alternatives(), r.reason()));
        }
    }

    private void resolve(ClientShell c, Frame.Resolve r) {
        DirectoryService.Busy busy = dir.resolve(r.user(), res -> {
            sim.lookupAnswered(r.requestId(), res);
            sim.links().sendReliable(this, c, new Frame.Resolved(r.requestId(), r.user(), res.records()));
        });
        if (busy != null) {
            sim.links().sendReliable(this, c, new Frame.Busy(r.requestId(), busy.retryAfterMillis(), busy.alternatives(), busy.reason()));
            return;
        }
        long sec = sim.engine().now() / 1000;
        if (sec != lookupSecond) {
            lookupSecond = sec;
            lookupsThisSecond = 0;
        }
        if (++lookupsThisSecond > peakLookupsPerSecond) peakLookupsPerSecond = lookupsThisSecond;
    }

    @Override
    public void connectionClosed(Endpoint from) {
        if (from instanceof ClientShell c) dir.detach(c.deviceId);
    }

    @Override
    public String toString() {
        return address + (mega ? " (mega)" : "");
    }
}
