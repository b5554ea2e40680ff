package org.parley.overlay;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.random.RandomGenerator;
import org.parley.protocol.DeviceRecord;
import org.parley.protocol.Frame;
import org.parley.protocol.Limits;
import org.parley.protocol.OverlayContact;

/**
 * One supernode's Kademlia node: answers FIND_NODE, FIND_VALUE, STORE and PING; runs parallel iterative lookups
 * (alpha requests in flight, ending when the k closest known nodes have answered); stores a user's device
 * records at the k nodes closest to the user's key; hands records to newly met nodes that became one of their
 * k closest holders; refreshes stale buckets. Pure logic: see the package documentation for threading.
 */
public final class OverlayNode {
    /** Capacity and current load, advertised in every message so that others can route and redirect by it. */
    public interface LoadSource {
        int capacity();

        int load();
    }

    /**
     * The outcome of a user lookup.
     *
     * @param records  the user's valid device records (latest sequence per device)
     * @param hops     sequential request rounds until the first holder answered (0 = answered from this node)
     * @param millis   time the lookup took
     * @param messages requests sent
     * @param holders  nodes that returned valid records (forged or outdated answers do not count)
     */
    public record LookupResult(String user, List<DeviceRecord> records, int hops, long millis, int messages, int holders) {}

    private static final int NEW = 0, IN_FLIGHT = 1, ANSWERED = 2, FAILED = 3;

    private final NodeId self;
    private final String address;
    private final OverlayConfig cfg;
    private final OverlayNet net;
    private final Scheduler sched;
    private final RandomGenerator rnd;
    private final RoutingTable table;
    private final RecordStore store;
    private final RecordStore.Validator validator;
    private final LoadSource load;
    private final long startedAt;
    private final Map<Long, Pending> pending = new HashMap<>();
    private final Map<String, Cached> cache = new HashMap<>();
    private long nextRequestId;
    private boolean running = true;
    private Scheduler.Cancellable refreshTimer;
    private List<String> bootstrap = List.of();
    private long requestsSent, requestsServed, timeouts, lookups, publishes;

    private record Pending(String address, Consumer<Frame> onReply, Runnable onTimeout, Scheduler.Cancellable timer) {}

    private record Cached(List<DeviceRecord> records, long until) {}

    public OverlayNode(NodeId self, String address, OverlayConfig cfg, OverlayNet net, Scheduler sched,
                       RandomGenerator rnd, RecordStore.Validator validator, LoadSource load) {
        this.self = self;
        this.address = address;
        this.cfg = cfg;
        this.net = net;
        this.sched = sched;
        this.rnd = rnd;
        this.validator = validator;
        this.table = new RoutingTable(self, cfg.k());
        this.store = new RecordStore(validator, cfg.maxRecords());
        this.load = load;
        this.startedAt = sched.now();
        this.nextRequestId = (rnd.nextLong() & 0x3fff_ffff_ffffL) + 1;
    }

    public NodeId id() {
        return self;
    }

    public String address() {
        return address;
    }

    public RoutingTable table() {
        return table;
    }

    public RecordStore store() {
        return store;
    }

    public OverlayConfig config() {
        return cfg;
    }

    /** This node as others see it. */
    public OverlayContact contact() {
        long up = Math.max(0, (sched.now() - startedAt) / 1000);
        return new OverlayContact(self.raw(), address, load.capacity(), load.load(), (int) Math.min(Integer.MAX_VALUE, up));
    }

    // ------------------------------------------------------------------ life cycle

    /** Joins through the given supernode addresses (seeds or host cache) and starts periodic refresh. */
    public void start(List<String> bootstrap) {
        if (!bootstrap.isEmpty()) this.bootstrap = List.copyOf(bootstrap);
        for (String a : bootstrap) askForNeighbours(a);
        if (refreshTimer == null) scheduleRefresh(); // start() again (rejoining) keeps one refresh cycle
    }

    /**
     * Asks the node at {@code a} for our neighbourhood. Contacts from the answer are candidates only: if it names
     * nodes we do not know (or our table is small), a self-lookup starting from them talks to them directly.
     * Also done with one random bootstrap node on every refresh, so that two halves of an overlay that a
     * partition split (each having evicted the other) find each other again once it heals.
     */
    private void askForNeighbours(String a) {
        if (a.equals(address)) return;
        long id = nextId();
        request(a, new Frame.FindNode(id, contact(), self.raw()), id, f -> {
            if (!(f instanceof Frame.Nodes n)) return;
            List<OverlayContact> unknown = new ArrayList<>();
            for (OverlayContact c : n.contacts()) {
                if (c.id().length != Limits.NODE_ID_BYTES) continue;
                NodeId cid = NodeId.of(c.id());
                if (!cid.equals(self) && !table.contains(cid)) unknown.add(c);
            }
            if (!unknown.isEmpty() || table.size() < cfg.k()) lookupNodes(self, unknown, r -> { });
        }, () -> { });
    }

    /** Stops timers and ignores further messages. */
    public void stop() {
        running = false;
        if (refreshTimer != null) refreshTimer.cancel();
        for (Pending p : pending.values()) p.timer.cancel();
        pending.clear();
    }

    private void scheduleRefresh() {
        long delay = cfg.refreshMillis() / 2 + rnd.nextLong(cfg.refreshMillis());
        refreshTimer = sched.after(delay, () -> {
            if (!running) return;
            refresh();
            scheduleRefresh();
        });
    }

    /** Periodic maintenance: expire records and cached answers, look up around ourselves and in stale buckets. */
    public void refresh() {
        long now = sched.now();
        store.sweep(now);
        cache.values().removeIf(c -> c.until <= now);
        if (table.size() < cfg.k() * 2) lookupNodes(self, r -> { });
        int lowest = Math.max(0, table.lowestUsedBucket() - 1);
        List<Integer> stale = table.stale(now - cfg.refreshMillis(), lowest);
        for (int i = 0; i < Math.min(2, stale.size()); i++) {
            lookupNodes(self.randomInBucket(stale.get(rnd.nextInt(stale.size())), rnd), r -> { });
        }
        if (!bootstrap.isEmpty()) askForNeighbours(bootstrap.get(rnd.nextInt(bootstrap.size())));
    }

    /** A peer at {@code address} is gone for good (its connection closed): forget it. */
    public void peerGone(String address) {
        for (RoutingTable.Entry e : table.all()) {
            if (e.info.address().equals(address)) table.remove(e.id);
        }
    }

    // ------------------------------------------------------------------ inbound messages

    /** Handles one overlay message (request or answer). */
    public void onMessage(Frame f) {
        if (!running) return;
        switch (f) {
            case Frame.FindNode q -> {
                learn(q.sender());
                requestsServed++;
                net.send(q.sender().address(), new Frame.Nodes(q.requestId(), contact(), contacts(NodeId.of(q.target()), q.sender())));
            }
            case Frame.FindValue q -> {
                learn(q.sender());
                requestsServed++;
                NodeId key = NodeId.of(q.key());
                List<DeviceRecord> records = key.equals(NodeId.forUser(q.user())) ? store.get(q.user(), sched.now()) : List.of();
                net.send(q.sender().address(), new Frame.Values(q.requestId(), contact(), q.user(), records, contacts(key, q.sender())));
            }
            case Frame.Store q -> {
                learn(q.sender());
                requestsServed++;
                int accepted = 0;
                for (DeviceRecord r : q.records().subList(0, Math.min(q.records().size(), Limits.MAX_DEVICES_PER_USER))) {
                    RecordStore.Outcome o = store.put(r);
                    if (o == RecordStore.Outcome.STORED || o == RecordStore.Outcome.UNCHANGED) accepted++;
                }
                if (q.requestId() != 0) net.send(q.sender().address(), new Frame.Stored(q.requestId(), contact(), accepted));
            }
            case Frame.OverlayPing q -> {
                learn(q.sender());
                requestsServed++;
                net.send(q.sender().address(), new Frame.OverlayPong(q.requestId(), contact()));
            }
            case Frame.Nodes a -> answer(a.requestId(), a.sender(), a);
            case Frame.Values a -> answer(a.requestId(), a.sender(), a);
            case Frame.Stored a -> answer(a.requestId(), a.sender(), a);
            case Frame.OverlayPong a -> answer(a.requestId(), a.sender(), a);
            default -> { }
        }
    }

    private void answer(long requestId, OverlayContact sender, Frame f) {
        Pending p = pending.get(requestId);
        if (p == null || !p.address.equals(sender.address())) {
            learn(sender);
            return;
        }
        pending.remove(requestId);
        p.timer.cancel();
        learn(sender);
        p.onReply.accept(f);
    }

    private List<OverlayContact> contacts(NodeId target, OverlayContact exclude) {
        List<OverlayContact> out = new ArrayList<>(cfg.k() + 1);
        boolean selfAdded = false;
        for (RoutingTable.Entry e : table.closest(target, cfg.k() + 1)) {
            if (!selfAdded && target.compareDistance(self, e.id) < 0) {
                out.add(contact());
                selfAdded = true;
            }
            if (java.util.Arrays.equals(e.info.id(), exclude.id())) continue;
            out.add(e.info);
        }
        if (!selfAdded) out.add(contact());
        return out.size() > cfg.k() ? out.subList(0, cfg.k()) : out;
    }

    private void learn(OverlayContact c) {
        if (c.id().length != Limits.NODE_ID_BYTES) return;
        NodeId id = NodeId.of(c.id());
        if (id.equals(self)) return;
        if (table.seen(id, c, sched.now())) replicateTo(id, c);
    }

    /** Gives a newly met node the records for which it is now one of the k closest holders we know. */
    private void replicateTo(NodeId id, OverlayContact c) {
        if (store.size() == 0) return;
        long now = sched.now();
        for (String user : store.users()) {
            NodeId key = NodeId.forUser(user);
            int newcomer = key.bucketIndex(id);
            if (newcomer > key.bucketIndex(self) + 3) continue; // far away: cannot be a close holder
            if (closerThan(key, id) >= cfg.k()) continue;
            List<DeviceRecord> records = store.get(user, now);
            if (!records.isEmpty()) net.send(c.address(), new Frame.Store(0, contact(), records));
        }
    }

    /** How many known nodes (this one included) are closer to {@code key} than {@code id}. */
    private int closerThan(NodeId key, NodeId id) {
        int n = key.compareDistance(self, id) < 0 ? 1 : 0;
        for (RoutingTable.Entry e : table.all()) {
            if (!e.id.equals(id) && key.compareDistance(e.id, id) < 0) n++;
        }
        return n;
    }

    /** True if this node is one of the k closest it knows to {@code key}. */
    public boolean holds(NodeId key) {
        int closer = 0;
        for (RoutingTable.Entry e : table.all()) {
            if (e.failures == 0 && key.compareDistance(e.id, self) < 0 && ++closer >= cfg.k()) return false;
        }
        return true;
    }

    // ------------------------------------------------------------------ requests

    private long nextId() {
        return nextRequestId++;
    }

    private void request(String to, Frame f, long id, Consumer<Frame> onReply, Runnable onTimeout) {
        requestsSent++;
        Scheduler.Cancellable t = sched.after(cfg.requestTimeoutMillis(), () -> {
            Pending p = pending.remove(id);
            if (p != null && running) {
                timeouts++;
                suspect(to);
                p.onTimeout.run();
            }
        });
        pending.put(id, new Pending(to, onReply, onTimeout, t));
        net.send(to, f);
    }

    // ------------------------------------------------------------------ lookups

    private final long[] recentTimeouts = new long[3];
    private final String[] recentTimeoutPeers = new String[3];
    private long lastSweep = Long.MIN_VALUE / 2;

    /**
     * A request to {@code peer} went unanswered. Three distinct peers failing within 5 s looks like supernodes
     * crashing rather than a lost message: then (at most every 30 s) ping every contact not heard from in the last
     * 5 s, so that crashed nodes leave the routing table, and the alternatives offered to clients, within seconds
     * instead of whenever a lookup happens to ask them.
     */
    private void suspect(String peer) {
        long now = sched.now();
        for (String p : recentTimeoutPeers) if (peer.equals(p)) return;
        System.arraycopy(recentTimeouts, 0, recentTimeouts, 1, 2);
        System.arraycopy(recentTimeoutPeers, 0, recentTimeoutPeers, 1, 2);
        recentTimeouts[0] = now;
        recentTimeoutPeers[0] = peer;
        if (recentTimeoutPeers[2] == null || now - recentTimeouts[2] > 5_000 || now - lastSweep < 30_000) return;
        lastSweep = now;
        for (RoutingTable.Entry e : table.all()) {
            if (e.failures != 0 || now - e.lastSeen < 5_000) continue;
            long id = nextId();
            NodeId eid = e.id;
            request(e.info.address(), new Frame.OverlayPing(id, contact()), id, f -> { }, () -> table.failed(eid));
        }
    }

    /** Finds {@code user}'s device records: from this node when it is one of their holders, otherwise iteratively. */
    public void findUser(String user, Consumer<LookupResult> done) {
        lookups++;
        long now = sched.now();
        NodeId key = NodeId.forUser(user);
        List<DeviceRecord> local = store.get(user, now);
        if (!local.isEmpty() && holds(key) && current(local)) {
            done.accept(new LookupResult(user, local, 0, 0, 0, 1));
            return;
        }
        Cached c = cfg.cacheMillis() > 0 ? cache.get(user) : null;
        if (c != null && c.until > now) {
            done.accept(new LookupResult(user, c.records, 0, 0, 0, 1));
            return;
        }
        new Lookup(key, user, r -> {
            if (cfg.cacheMillis() > 0 && !r.records().isEmpty()) cache.put(user, new Cached(r.records(), sched.now() + cfg.cacheMillis()));
            done.accept(r);
        }).begin(local);
    }

    /**
     * True if every record was published within the republish interval (a third of {@link Limits#RECORD_TTL_MILLIS}),
     * so that no newer version is expected. An older one may have been superseded at holders we have not asked yet
     * (a holder that missed a store, a copy left from before a partition healed): the lookup then goes on to the
     * closest holders instead of stopping at the first two.
     */
    private boolean current(java.util.Collection<DeviceRecord> rs) {
        long now = sched.now();
        for (DeviceRecord r : rs) if (r.expiresAtMillis() - now <= Limits.RECORD_TTL_MILLIS - Limits.RECORD_TTL_MILLIS / 3) return false;
        return true;
    }

    /** Finds the k nodes closest to {@code target}. */
    public void lookupNodes(NodeId target, Consumer<List<OverlayContact>> whenDone) {
        lookupNodes(target, List.of(), whenDone);
    }

    /** Finds the k nodes closest to {@code target}, starting from {@code via} as well as from the routing table. */
    private void lookupNodes(NodeId target, List<OverlayContact> via, Consumer<List<OverlayContact>> whenDone) {
        Lookup l = new Lookup(target, null, r -> { }) {
            @Override
            void finish() {
                if (finished) return;
                super.finish();
                whenDone.accept(closestAnswered());
            }
        };
        for (OverlayContact c : via) l.add(NodeId.of(c.id()), c, 1);
        l.begin(List.of());
    }

    /**
     * Stores one user's device records at the k closest nodes (this one included when it is among them).
     * {@code done} receives how many holders accepted them.
     */
    public void publish(List<DeviceRecord> records, Consumer<Integer> done) {
        if (records.isEmpty()) {
            done.accept(0);
            return;
        }
        publishes++;
        String user = records.get(0).user();
        NodeId key = NodeId.forUser(user);
        lookupNodes(key, closest -> {
            int[] acks = {0};
            int[] outstanding = {0};
            List<OverlayContact> targets = new ArrayList<>(closest);
            boolean selfHolds = targets.size() < cfg.k()
                    || key.compareDistance(self, NodeId.of(targets.get(targets.size() - 1).id())) < 0;
            if (selfHolds) {
                int ok = 0;
                for (DeviceRecord r : records) {
                    RecordStore.Outcome o = store.put(r);
                    if (o == RecordStore.Outcome.STORED || o == RecordStore.Outcome.UNCHANGED) ok++;
                }
                if (ok > 0) acks[0]++;
                if (targets.size() >= cfg.k()) targets.remove(targets.size() - 1);
            }
            cache.remove(user);
            if (targets.isEmpty()) {
                done.accept(acks[0]);
                return;
            }
            outstanding[0] = targets.size();
            for (OverlayContact t : targets) {
                long id = nextId();
                request(t.address(), new Frame.Store(id, contact(), records), id, f -> {
                    if (f instanceof Frame.Stored s && s.accepted() > 0) acks[0]++;
                    if (--outstanding[0] == 0) done.accept(acks[0]);
                }, () -> {
                    table.failed(NodeId.of(t.id()));
                    if (--outstanding[0] == 0) done.accept(acks[0]);
                });
            }
        });
    }

    /** One parallel iterative lookup. */
    private class Lookup {
        final NodeId target;
        final String user;
        final Consumer<LookupResult> done;
        final long started = sched.now();
        final List<Cand> cands = new ArrayList<>();
        final Map<NodeId, Cand> index = new HashMap<>();
        final Map<String, DeviceRecord> records = new LinkedHashMap<>();
        int inFlight, messages, holders, valueHops = -1;
        boolean finished;
        Scheduler.Cancellable deadline;

        final class Cand {
            final NodeId id;
            final OverlayContact c;
            final int depth;
            int state = NEW;

            Cand(NodeId id, OverlayContact c, int depth) {
                this.id = id;
                this.c = c;
                this.depth = depth;
            }
        }

        Lookup(NodeId target, String user, Consumer<LookupResult> done) {
            this.target = target;
            this.user = user;
            this.done = done;
        }

        void begin(List<DeviceRecord> local) {
            if (!local.isEmpty()) {
                merge(local, false);
                holders++;
                valueHops = 0;
            }
            for (RoutingTable.Entry e : table.closest(target, cfg.k())) add(e.id, e.info, 1);
            deadline = sched.after(cfg.lookupDeadlineMillis(), this::finish);
            step();
        }

        void add(NodeId id, OverlayContact c, int depth) {
            if (id.equals(self) || index.containsKey(id)) return;
            Cand cand = new Cand(id, c, depth);
            index.put(id, cand);
            int lo = 0, hi = cands.size();
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (target.compareDistance(cands.get(mid).id, id) < 0) lo = mid + 1;
                else hi = mid;
            }
            cands.add(lo, cand);
        }

        /** Merges a holder's records; true if it had a valid one (new to us, or the very one we already have). */
        boolean merge(List<DeviceRecord> rs, boolean validate) {
            boolean valid = false;
            for (DeviceRecord r : rs) {
                if (!r.user().equals(user)) continue;
                if (r.expiresAtMillis() <= sched.now()) continue;
                DeviceRecord have = records.get(r.deviceId());
                if (have != null && have.sequence() >= r.sequence()) {
                    if (r.sameAs(have)) valid = true;
                    continue;
                }
                if (validate && validator.check(r) != null) continue; // verified on every read
                records.put(r.deviceId(), r);
                valid = true;
            }
            return valid;
        }

        void step() {
            if (finished) return;
            if (user != null && holders >= 2 && current(records.values())) {
                finish();
                return;
            }
            int considered = 0;
            boolean pendingWork = false;
            for (int i = 0; i < cands.size() && considered < cfg.k(); i++) {
                Cand c = cands.get(i);
                if (c.state == FAILED) continue;
                considered++;
                if (c.state == NEW) {
                    pendingWork = true;
                    if (inFlight < cfg.alpha()) query(c);
                } else if (c.state == IN_FLIGHT) {
                    pendingWork = true;
                }
            }
            if (!pendingWork && inFlight == 0) finish();
        }

        void query(Cand c) {
            c.state = IN_FLIGHT;
            inFlight++;
            messages++;
            long id = nextId();
            Frame q = user != null ? new Frame.FindValue(id, contact(), target.raw(), user) : new Frame.FindNode(id, contact(), target.raw());
            request(c.c.address(), q, id, f -> {
                if (finished) return;
                c.state = ANSWERED;
                inFlight--;
                List<OverlayContact> more = switch (f) {
                    case Frame.Nodes n -> n.contacts();
                    case Frame.Values v -> {
                        // only a holder with valid records counts: forged or outdated answers must not end the lookup
                        if (!v.records().isEmpty() && merge(v.records(), true)) {
                            holders++;
                            if (valueHops < 0 || c.depth < valueHops) valueHops = c.depth;
                        }
                        yield v.contacts();
                    }
                    default -> List.of();
                };
                for (OverlayContact oc : more) {
                    if (oc.id().length == Limits.NODE_ID_BYTES) add(NodeId.of(oc.id()), oc, c.depth + 1);
                }
                step();
            }, () -> {
                if (finished) return;
                c.state = FAILED;
                inFlight--;
                table.failed(c.id);
                step();
            });
        }

        List<OverlayContact> closestAnswered() {
            List<OverlayContact> out = new ArrayList<>(cfg.k());
            for (Cand c : cands) {
                if (c.state == ANSWERED) out.add(c.c);
                if (out.size() == cfg.k()) break;
            }
            return out;
        }

        void finish() {
            if (finished) return;
            finished = true;
            if (deadline != null) deadline.cancel();
            done.accept(new LookupResult(user, List.copyOf(records.values()), Math.max(0, valueHops), sched.now() - started,
                    messages, holders));
        }
    }

    // ------------------------------------------------------------------ figures

    public long requestsSent() {
        return requestsSent;
    }

    public long requestsServed() {
        return requestsServed;
    }

    public long timeouts() {
        return timeouts;
    }

    public long lookups() {
        return lookups;
    }

    public long publishes() {
        return publishes;
    }
}
