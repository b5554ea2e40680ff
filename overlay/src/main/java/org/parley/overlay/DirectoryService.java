package org.parley.overlay;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.random.RandomGenerator;
import org.parley.protocol.DeviceRecord;
import org.parley.protocol.OverlayContact;

/**
 * What a supernode does for its clients, as pure logic over {@link OverlayNode} and {@link Admission}: admit or
 * redirect attaching clients, publish their signed records into the overlay, and resolve users anywhere in the
 * overlay. The supernode's network code and the simulator both drive this class.
 */
public final class DirectoryService implements OverlayNode.LoadSource {
    /** The answer to an attaching client. */
    public sealed interface AttachDecision {
        /** Admitted; {@code supernodes} are other supernodes for the client's host cache. */
        record Admit(List<String> supernodes) implements AttachDecision {}

        /** Not admitted now: try {@code alternatives} or come back after the delay. */
        record Redirect(int retryAfterMillis, List<String> alternatives, String reason) implements AttachDecision {}
    }

    /** A lookup refused for load. */
    public record Busy(int retryAfterMillis, List<String> alternatives, String reason) {}

    private final Admission admission;
    private final Scheduler sched;
    private final RandomGenerator rnd;
    private final List<String> seeds;
    private final Set<String> attached = new HashSet<>();
    private OverlayNode overlay;
    private long published, publishFailures, resolved, busy;

    public DirectoryService(Admission admission, Scheduler sched, RandomGenerator rnd, List<String> seeds) {
        this.admission = admission;
        this.sched = sched;
        this.rnd = rnd;
        this.seeds = List.copyOf(seeds);
    }

    /** Connects the overlay node (created with this service as its {@link OverlayNode.LoadSource}). */
    public void bind(OverlayNode node) {
        this.overlay = node;
    }

    public OverlayNode overlay() {
        return overlay;
    }

    public Admission admission() {
        return admission;
    }

    @Override
    public int capacity() {
        return admission.config().maxClients();
    }

    @Override
    public int load() {
        return attached.size();
    }

    public int attached() {
        return attached.size();
    }

    /** A client with {@code deviceId} says Hello. */
    public AttachDecision attach(String deviceId) {
        if (attached.contains(deviceId)) return new AttachDecision.Admit(alternatives(8));
        long now = sched.now();
        if (!admission.admitClient(attached.size(), now)) {
            boolean full = attached.size() >= admission.config().maxClients();
            return new AttachDecision.Redirect(admission.retryAfterMillis(attached.size()), alternatives(8),
                    full ? "supernode at capacity " + admission.config().maxClients()
                         : "supernode is pacing new attachments (" + admission.config().attachesPerSecond() + "/s)");
        }
        attached.add(deviceId);
        return new AttachDecision.Admit(alternatives(8));
    }

    /** The client's connection ended. */
    public void detach(String deviceId) {
        attached.remove(deviceId);
    }

    /**
     * Publishes a client's record. {@code done} gets the number of holders that accepted it (0 = nobody: the
     * overlay is empty around the key or the record is invalid; see {@link RecordStore#lastRejection()}).
     */
    public void publish(DeviceRecord r, Consumer<Integer> done) {
        overlay.publish(List.of(r), n -> {
            if (n > 0) published++;
            else publishFailures++;
            done.accept(n);
        });
    }

    /**
     * Resolves a user. Returns null when the lookup runs ({@code done} is called later), or a {@link Busy} when
     * the lookup rate is at capacity.
     */
    public Busy resolve(String user, Consumer<OverlayNode.LookupResult> done) {
        if (!admission.allowLookup(sched.now())) {
            busy++;
            return new Busy(admission.retryAfterMillis(attached.size()), alternatives(4),
                    "supernode at its lookup capacity of " + admission.config().lookupsPerSecond() + "/s");
        }
        resolved++;
        overlay.findUser(user, done);
        return null;
    }

    /**
     * Up to {@code n} other supernodes with spare capacity, drawn at random with weight on spare slots (so that a
     * storm of redirected clients spreads out instead of piling onto the single emptiest node); seeds when the
     * overlay knows none.
     */
    public List<String> alternatives(int n) {
        List<OverlayContact> pool = new ArrayList<>();
        long totalSpare = 0;
        if (overlay != null) {
            for (RoutingTable.Entry e : overlay.table().all()) {
                if (e.failures == 0 && e.info().spare() > 0) {
                    pool.add(e.info());
                    totalSpare += e.info().spare();
                }
            }
        }
        List<String> out = new ArrayList<>(n);
        while (out.size() < n && !pool.isEmpty() && totalSpare > 0) {
            long pick = rnd.nextLong(totalSpare);
            for (int i = 0; i < pool.size(); i++) {
                OverlayContact c = pool.get(i);
                pick -= c.spare();
                if (pick < 0) {
                    out.add(c.address());
                    totalSpare -= c.spare();
                    pool.remove(i);
                    break;
                }
            }
        }
        String me = overlay == null ? "" : overlay.address();
        for (String s : seeds) {
            if (out.size() >= n) break;
            if (!s.equals(me) && !out.contains(s)) out.add(s);
        }
        return out;
    }

    public long publishedCount() {
        return published;
    }

    public long publishFailures() {
        return publishFailures;
    }

    public long resolvedCount() {
        return resolved;
    }

    public long busyCount() {
        return busy;
    }
}
