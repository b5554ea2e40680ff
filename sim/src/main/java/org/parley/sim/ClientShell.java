package org.parley.sim;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.parley.overlay.AttachPlanner;
import org.parley.overlay.HostCache;
import org.parley.overlay.Scheduler;
import org.parley.protocol.DeviceRecord;
import org.parley.protocol.Frame;
import org.parley.protocol.Limits;

/**
 * One simulated client: the real {@link HostCache} and {@link AttachPlanner} decide where to attach; the shell
 * sends Hello, follows Welcome/Redirect, publishes its signed record on attach and every third of the record TTL,
 * and notices a lost supernode after a keepalive-like delay. Kept small: 100,000 of them share one random source
 * and one certificate.
 */
public final class ClientShell implements Endpoint {
    static final int OFFLINE = 0, ATTACHING = 1, ATTACHED = 2;
    /** Most Hellos in one round, redirect hints included; then the planner's delay applies. */
    static final int MAX_TRIES_PER_ROUND = 2 * AttachPlanner.ROUND_SIZE;
    static final List<String> CAPABILITIES = List.of("chat", "call");

    private final Simulation sim;
    final int index;
    final String deviceId;
    final String user;
    final byte region;
    byte side;
    byte state = OFFLINE;
    private byte roundTries;
    private final AttachPlanner planner;
    private List<String> round;
    private int roundPos;
    private int attempt;
    SupernodeShell trying;
    SupernodeShell sn;
    private Scheduler.Cancellable timer;
    private Scheduler.Cancellable republish;
    long sequence;
    long attachedAt = -1;
    /** Latest and previous publish (sequence, time), and the first publish of the current attachment. */
    long pubSeq, pubTime = -1, prevPubSeq, prevPubTime = -1, sessionPubTime = -1;
    /** When the latest publish was acknowledged (-1 = not yet) and by how many holders. */
    long pubAckAt = -1;
    int pubReplicas;
    /** Since the supernode was lost (or the client came online): Hellos sent, unanswered, redirected; rounds waited and how long. */
    short hellos, helloTimeouts, redirectsSeen, waits;
    int waitedMillis;

    ClientShell(Simulation sim, int index, int region) {
        this.sim = sim;
        this.index = index;
        this.region = (byte) region;
        this.deviceId = String.format("%032x", 0x5eed_0000_0000L + index);
        this.user = "user" + index;
        this.planner = new AttachPlanner(new HostCache(), sim.seeds(), sim.clientRandom(), Duration.ofMillis(500),
                Duration.ofSeconds(30));
    }

    String observedAddress() {
        return "100." + (64 + (index >>> 16 & 63)) + "." + (index >>> 8 & 255) + "." + (index & 255) + ":41641";
    }

    public HostCache hostCache() {
        return planner.cache();
    }

    public boolean attached() {
        return state == ATTACHED;
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
        return state != OFFLINE;
    }

    // ------------------------------------------------------------------ attach

    /** Comes online (first start, back from churn, or after a restart) and starts attaching. */
    void online() {
        if (state != OFFLINE) return;
        resetAttachStats();
        state = ATTACHING;
        newRound();
    }

    /** Goes offline: closes its supernode connection (the supernode detaches it at once) and stops its timers. */
    void offline() {
        if (state == OFFLINE) return;
        SupernodeShell old = sn;
        boolean wasAttached = state == ATTACHED;
        cancelTimers();
        state = OFFLINE;
        sim.clientOffline(this);
        sn = null;
        trying = null;
        attempt++;
        if (wasAttached) {
            sim.clientDetached(this);
            if (old != null) sim.links().close(this, old);
        }
    }

    private void resetAttachStats() {
        hellos = helloTimeouts = redirectsSeen = waits = 0;
        waitedMillis = 0;
    }

    private void cancelTimers() {
        if (timer != null) timer.cancel();
        if (republish != null) republish.cancel();
        timer = null;
        republish = null;
    }

    private void newRound() {
        round = planner.round(sim.engine().now());
        roundPos = 0;
        roundTries = 0;
        tryNext();
    }

    private void tryNext() {
        if (state != ATTACHING) return;
        while (roundPos < round.size() && roundTries < MAX_TRIES_PER_ROUND) {
            String a = round.get(roundPos++);
            SupernodeShell s = sim.supernode(a);
            if (s == null) {
                planner.failed(a, sim.engine().now());
                continue;
            }
            int my = ++attempt;
            trying = s;
            hellos++;
            roundTries++;
            sim.hello(s);
            sim.links().sendReliable(this, s, new Frame.Hello(1, "online", List.of()));
            timer = sim.engine().after(sim.config().helloTimeoutMillis(), () -> {
                if (attempt != my || state != ATTACHING) return;
                helloTimeouts++;
                planner.failed(s.address, sim.engine().now());
                trying = null;
                tryNext();
            });
            return;
        }
        // a whole round without success: the planner says how long to wait
        long delay = planner.delayMillis();
        waits++;
        waitedMillis += (int) delay;
        int my = ++attempt;
        timer = sim.engine().after(delay, () -> {
            if (attempt == my && state == ATTACHING) newRound();
        });
    }

    @Override
    public void deliver(Endpoint from, Frame f) {
        switch (f) {
            case Frame.Welcome w -> welcome((SupernodeShell) from, w);
            case Frame.Redirect r -> redirect((SupernodeShell) from, r);
            case Frame.Resolved r -> sim.resolved(this, r);
            case Frame.Busy b -> sim.busy(this, b);
            case Frame.Published p -> {
                if (p.requestId() == pubSeq) {
                    pubAckAt = sim.engine().now();
                    pubReplicas = p.replicas();
                    sim.published(this, pubAckAt - pubTime, p.replicas());
                }
            }
            default -> { }
        }
    }

    private void welcome(SupernodeShell from, Frame.Welcome w) {
        if (state != ATTACHING || from != trying) {
            // a late Welcome from a supernode we gave up on: close that connection so it does not count us
            sim.links().close(this, from);
            return;
        }
        if (timer != null) timer.cancel();
        timer = null;
        long now = sim.engine().now();
        planner.attached(from.address, w.supernodes(), now);
        trying = null;
        sn = from;
        state = ATTACHED;
        attachedAt = now;
        sessionPubTime = -1;
        sim.clientAttached(this);
        publish();
    }

    private void redirect(SupernodeShell from, Frame.Redirect r) {
        if (state != ATTACHING || from != trying) return;
        if (timer != null) timer.cancel();
        timer = null;
        trying = null;
        redirectsSeen++;
        sim.redirected(r.alternatives());
        long now = sim.engine().now();
        planner.redirected(from.address, r.retryAfterMillis(), r.alternatives(), now);
        if (roundTries < MAX_TRIES_PER_ROUND) {
            // follow the alternatives at once: they go first in what is left of this round
            List<String> hints = planner.takeHints(now);
            if (!hints.isEmpty()) {
                List<String> rest = new ArrayList<>(hints);
                for (int i = roundPos; i < round.size(); i++) if (!rest.contains(round.get(i))) rest.add(round.get(i));
                round = rest;
                roundPos = 0;
            }
        }
        tryNext();
    }

    /** The supernode stopped answering keepalives (crash or partition): re-attach elsewhere. */
    void linkLost(SupernodeShell which) {
        if (state != ATTACHED || sn != which) return;
        cancelTimers();
        sim.clientDetached(this);
        sn = null;
        resetAttachStats();
        state = ATTACHING;
        planner.failed(which.address, sim.engine().now());
        newRound();
    }

    // ------------------------------------------------------------------ records

    private void publish() {
        long now = sim.engine().now();
        sequence++;
        DeviceRecord r = sim.signer().sign(new DeviceRecord(deviceId, user, "online", observedAddress(), List.of(),
                Simulation.FAKE_CERTIFICATE, attachedAt, List.of(sn.address), CAPABILITIES, sequence,
                now + Limits.RECORD_TTL_MILLIS, null));
        prevPubSeq = pubSeq;
        prevPubTime = pubTime;
        pubSeq = sequence;
        pubTime = now;
        pubAckAt = -1;
        pubReplicas = 0;
        if (sessionPubTime < 0) sessionPubTime = now;
        sim.links().sendReliable(this, sn, new Frame.Publish(sequence, r));
        if (republish != null) republish.cancel();
        republish = sim.engine().after(Limits.RECORD_TTL_MILLIS / 3, () -> {
            republish = null;
            if (state == ATTACHED) publish();
        });
    }

    /**
     * The sequence a lookup started at {@code start} must find: the latest one published at least
     * {@code settleMillis} before, in the current attachment; -1 if the client is not such a target.
     */
    long requiredSequence(long start, long settleMillis) {
        if (state != ATTACHED || sessionPubTime < 0 || sessionPubTime > start - settleMillis) return -1;
        if (pubTime <= start - settleMillis) return pubSeq;
        return prevPubSeq;
    }

    /** One line about the attach history since the last loss (for diagnostics). */
    String attachStats() {
        return user + ": hellos " + hellos + ", unanswered " + helloTimeouts + ", redirected " + redirectsSeen
                + ", rounds waited " + waits + " (" + waitedMillis + " ms), host cache " + planner.cache().size();
    }

    @Override
    public String toString() {
        return user;
    }
}
