package org.parley.sim;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Predicate;
import org.HdrHistogram.Histogram;
import org.parley.overlay.AdmissionConfig;
import org.parley.overlay.NodeId;
import org.parley.overlay.OverlayNode;
import org.parley.overlay.Scheduler;
import org.parley.protocol.DeviceRecord;
import org.parley.protocol.Frame;

/**
 * The simulated world: supernodes, clients, links, the lookup workload and the measurements. Scenarios drive it
 * through its event methods (crash, churn, partition, restart storms) and read the figures with {@link #result}.
 */
public final class Simulation {
    /** The certificate every simulated record carries: the validator does not parse it. */
    static final byte[] FAKE_CERTIFICATE = new byte[96];
    /** Lookups must find what their target published at least this long before they started. */
    static final long SETTLE_MILLIS = 5_000;
    /** A client gives a lookup up after this. */
    static final long LOOKUP_TIMEOUT_MILLIS = 10_000;

    static {
        for (int i = 0; i < FAKE_CERTIFICATE.length; i++) FAKE_CERTIFICATE[i] = (byte) (i * 31 + 7);
    }

    private final SimConfig cfg;
    private final Engine engine = new Engine();
    private final SplittableRandom rnd;
    private final SplittableRandom clientRnd;
    private final Links links;
    private final RecordSigner signer;
    private final List<String> seeds = new ArrayList<>();
    private final List<SupernodeShell> all = new ArrayList<>();
    private final List<SupernodeShell> live = new ArrayList<>();
    private final Map<String, SupernodeShell> byAddress = new HashMap<>();
    private final ClientShell[] clients;
    private final double capacityScale;
    private final List<Phase> phases = new ArrayList<>();
    private final List<Cohort> cohorts = new ArrayList<>();
    private final Map<Long, PendingLookup> pending = new HashMap<>();
    private final long wallStart = System.nanoTime();
    private int attached;
    private long redirects, busyAnswers, unknownAddress, crashed;
    private long nextLookupId;
    private boolean lookupsOn, clientChurnOn, supernodeChurnOn;
    private long churnSessionMillis, churnOfflineMillis;
    private double supernodeMeanLifeMillis;
    private Cohort churnCrashCohort, churnBackCohort;
    private long checked = -1, lost, stale;
    private final Histogram publishLatency = new Histogram(1, 3_600_000L, 3);
    private long publishesFailed;
    private final boolean debug = Boolean.getBoolean("parley.sim.debug");
    private int debugLines;

    public Simulation(SimConfig cfg) {
        this.cfg = cfg;
        SplittableRandom master = new SplittableRandom(cfg.seed());
        this.rnd = master.split();
        this.clientRnd = master.split();
        SplittableRandom linkRnd = master.split();
        this.links = new Links(engine, linkRnd, cfg.loss(), cfg.wireSampleEvery());
        this.signer = new RecordSigner(cfg.seed(), engine);
        int n = cfg.supernodes();
        int seedCount = Math.min(cfg.seedCount(), n);
        for (int i = 0; i < seedCount; i++) seeds.add(addressOf(i));
        // capacities: mostly normal supernodes (100-400 raw), a few mega ones (10-50x); scaled so that the total
        // is capacityFactor x the clients
        int megas = n >= 20 ? Math.max(1, (int) Math.round(n * cfg.megaFraction())) : 0;
        boolean[] mega = new boolean[n];
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < n; i++) order.add(i);
        Collections.shuffle(order, new java.util.Random(rnd.nextLong()));
        for (int i = 0; i < megas; i++) mega[order.get(i)] = true;
        double[] raw = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) sum += raw[i] = rawCapacity(mega[i]);
        this.capacityScale = cfg.capacityFactor() * cfg.clients() / sum;
        for (int i = 0; i < n; i++) {
            addSupernode(i, addressOf(i), NodeId.random(rnd), mega[i], i < seedCount, raw[i]);
        }
        clients = new ClientShell[cfg.clients()];
        for (int i = 0; i < clients.length; i++) clients[i] = new ClientShell(this, i, Geography.pickRegion(rnd));
    }

    private double rawCapacity(boolean mega) {
        double normal = 100 + rnd.nextDouble() * 300;
        return mega ? normal * (10 + rnd.nextDouble() * 40) : normal;
    }

    private static String addressOf(int i) {
        return "10." + (i >>> 16 & 255) + "." + (i >>> 8 & 255) + "." + (i & 255) + ":7700";
    }

    private SupernodeShell addSupernode(int index, String address, NodeId id, boolean mega, boolean seed, double raw) {
        return addSupernode(index, address, id, mega, seed, raw, signer);
    }

    /**
     * Adds and starts a supernode with its own record validator, e.g. a rogue one that accepts anything (for tests
     * that a forged record never gets past the honest supernodes).
     */
    SupernodeShell addSupernodeWith(NodeId id, org.parley.overlay.RecordStore.Validator validator) {
        int i = all.size();
        SupernodeShell s = addSupernode(i, addressOf(i), id, false, false, 250, validator);
        startSupernode(s);
        return s;
    }

    private SupernodeShell addSupernode(int index, String address, NodeId id, boolean mega, boolean seed, double raw,
                                        org.parley.overlay.RecordStore.Validator validator) {
        int capacity = Math.max(1, (int) Math.round(raw * capacityScale));
        AdmissionConfig ac = AdmissionConfig.defaults().withMaxClients(capacity)
                .withAttachesPerSecond(Math.max(5, Math.min(500, capacity / 10)))
                .withLookupsPerSecond(Math.max(50, capacity));
        SupernodeShell s = new SupernodeShell(this, index, address, id, Geography.pickRegion(rnd), mega, seed, ac,
                rnd.split(), validator);
        s.side = rnd.nextInt(2);
        all.add(s);
        byAddress.put(address, s);
        return s;
    }

    // ------------------------------------------------------------------ accessors

    public SimConfig config() {
        return cfg;
    }

    public Engine engine() {
        return engine;
    }

    public Links links() {
        return links;
    }

    public RecordSigner signer() {
        return signer;
    }

    List<String> seeds() {
        return seeds;
    }

    SplittableRandom clientRandom() {
        return clientRnd;
    }

    public SplittableRandom random() {
        return rnd;
    }

    public SupernodeShell supernode(String address) {
        return byAddress.get(address);
    }

    public List<SupernodeShell> supernodes() {
        return Collections.unmodifiableList(all);
    }

    public List<SupernodeShell> liveSupernodes() {
        return Collections.unmodifiableList(live);
    }

    public ClientShell client(int i) {
        return clients[i];
    }

    public int clientCount() {
        return clients.length;
    }

    public int attachedClients() {
        return attached;
    }

    /** Virtual milliseconds since the start. */
    public long elapsed() {
        return engine.elapsed();
    }

    /** Virtual time of {@code millis} after the start. */
    public long at(long millis) {
        return Engine.EPOCH + millis;
    }

    public void runUntil(long elapsedMillis) {
        engine.runUntil(Engine.EPOCH + elapsedMillis);
    }

    void sendOverlay(SupernodeShell from, String to, Frame f) {
        SupernodeShell s = byAddress.get(to);
        if (s == null) {
            unknownAddress++;
            return;
        }
        links.send(from, s, f);
    }

    // ------------------------------------------------------------------ bring-up

    /**
     * Schedules the start: seeds at once, the other supernodes spread over the join window (each joins through
     * the seeds), then the clients spread over their start window (cohort "start", each counted from its own start).
     */
    public void bringUp() {
        for (SupernodeShell s : all) {
            long when = s.seed ? rnd.nextLong(1000) : 1000 + rnd.nextLong(Math.max(1, cfg.joinSpreadMillis()));
            engine.at(Engine.EPOCH + when, () -> startSupernode(s));
        }
        Cohort start = cohort("start", "each client's own start");
        for (ClientShell c : clients) {
            long when = Engine.EPOCH + cfg.clientsStartMillis() + rnd.nextLong(Math.max(1, cfg.clientStartSpreadMillis()));
            engine.at(when, () -> {
                start.add(c, engine.now());
                c.online();
            });
        }
    }

    private void startSupernode(SupernodeShell s) {
        live.add(s);
        s.start(seeds);
        if (supernodeChurnOn) scheduleCrash(s);
    }

    // ------------------------------------------------------------------ client callbacks

    void clientAttached(ClientShell c) {
        attached++;
        for (Cohort k : cohorts) k.attached(c, engine.now());
    }

    void clientDetached(ClientShell c) {
        attached--;
    }

    /** The client went offline: it leaves every cohort still waiting for it to attach. */
    void clientOffline(ClientShell c) {
        for (Cohort k : cohorts) k.leave(c);
    }

    private long altsOffered, altsDead, deadHellos, hellos;
    private long crashAt = -1;
    private final long[] altsBy5s = new long[12], deadAltsBy5s = new long[12], hellosBy5s = new long[12], deadHellosBy5s = new long[12];

    private int window5s() {
        if (crashAt < 0) return -1;
        long w = (engine.now() - crashAt) / 5000;
        return w < 12 ? (int) w : -1;
    }

    void redirected(List<String> alternatives) {
        redirects++;
        if (debug) {
            int w = window5s();
            for (String a : alternatives) {
                altsOffered++;
                SupernodeShell s = byAddress.get(a);
                if (w >= 0) altsBy5s[w]++;
                if (s == null || !s.up) {
                    altsDead++;
                    if (w >= 0) deadAltsBy5s[w]++;
                }
            }
        }
    }

    void hello(SupernodeShell to) {
        if (!debug) return;
        hellos++;
        int w = window5s();
        if (w >= 0) hellosBy5s[w]++;
        if (!to.up) {
            deadHellos++;
            if (w >= 0) deadHellosBy5s[w]++;
        }
    }

    void published(ClientShell c, long latencyMillis, int replicas) {
        publishLatency.recordValue(Math.max(1, latencyMillis));
        if (replicas == 0) publishesFailed++;
    }

    private void debug(String line) {
        if (debug && debugLines++ < 200) System.out.println("   [debug t=" + engine.elapsed() / 1000.0 + "] " + line);
    }

    // ------------------------------------------------------------------ events

    private long detectionDelay() {
        return 3000 + rnd.nextLong(10_000);
    }

    /** Crashes {@code s}; its clients notice after a keepalive-like delay. Returns the clients it had. */
    public List<ClientShell> crash(SupernodeShell s) {
        if (!s.up) return List.of();
        s.crash();
        live.remove(s);
        crashed++;
        List<ClientShell> affected = new ArrayList<>();
        for (ClientShell c : clients) {
            if (c.sn == s && c.state == ClientShell.ATTACHED) {
                affected.add(c);
                engine.after(detectionDelay(), () -> c.linkLost(s));
            }
        }
        return affected;
    }

    /**
     * Crashes {@code fraction} of the live supernodes at once, chosen at random (mega ones in proportion).
     * The clients they had form cohort {@code cohortName}, counted from now.
     */
    public int crashFraction(double fraction, String cohortName) {
        List<SupernodeShell> megas = new ArrayList<>(), normal = new ArrayList<>();
        for (SupernodeShell s : live) (s.mega ? megas : normal).add(s);
        List<SupernodeShell> victims = new ArrayList<>();
        pick(megas, (int) Math.round(megas.size() * fraction), victims);
        pick(normal, (int) Math.round(normal.size() * fraction), victims);
        altsOffered = altsDead = deadHellos = hellos = 0;
        crashAt = engine.now();
        Cohort k = cohort(cohortName, "the crash");
        long now = engine.now();
        for (SupernodeShell s : victims) for (ClientShell c : crash(s)) k.add(c, now);
        return victims.size();
    }

    private void pick(List<SupernodeShell> from, int n, List<SupernodeShell> out) {
        List<SupernodeShell> l = new ArrayList<>(from);
        for (int i = 0; i < n && !l.isEmpty(); i++) out.add(l.remove(rnd.nextInt(l.size())));
    }

    /**
     * Supernode churn: every live supernode (and every later one) crashes after an exponential lifetime with the
     * given median; a fresh supernode (same capacity class) joins in its place 10-60 s later. A seed restarts at
     * its address with its identity (but empty state) after 30-90 s, as an operator's seed host would.
     */
    public void supernodeChurn(long medianLifeMillis) {
        supernodeChurnOn = true;
        supernodeMeanLifeMillis = medianLifeMillis / Math.log(2);
        for (SupernodeShell s : new ArrayList<>(live)) scheduleCrash(s);
    }

    private void scheduleCrash(SupernodeShell s) {
        long life = (long) (-Math.log(1 - rnd.nextDouble()) * supernodeMeanLifeMillis);
        engine.after(life, () -> {
            if (!supernodeChurnOn || !s.up) return;
            if (churnCrashCohort == null) churnCrashCohort = cohort("sn-crashed", "their supernode's crash");
            long now = engine.now();
            for (ClientShell c : crash(s)) churnCrashCohort.add(c, now);
            if (s.seed) {
                engine.after(30_000 + rnd.nextLong(60_000), () -> {
                    SupernodeShell fresh = addSupernode(s.index, s.address, s.node.id(), s.mega, true, rawCapacity(s.mega));
                    startSupernode(fresh);
                });
            } else {
                engine.after(10_000 + rnd.nextLong(50_000), () -> {
                    int i = all.size();
                    SupernodeShell fresh = addSupernode(i, addressOf(i), NodeId.random(rnd), s.mega, false, rawCapacity(s.mega));
                    startSupernode(fresh);
                });
            }
        });
    }

    /** Light client churn: online sessions with the given mean end, the client comes back after the offline mean. */
    public void clientChurn(long meanSessionMillis, long meanOfflineMillis) {
        clientChurnOn = true;
        churnSessionMillis = meanSessionMillis;
        churnOfflineMillis = meanOfflineMillis;
        scheduleDeparture();
    }

    private void scheduleDeparture() {
        double rate = Math.max(1, attached) / (double) churnSessionMillis; // departures per ms
        long gap = Math.max(1, (long) (-Math.log(1 - rnd.nextDouble()) / rate));
        engine.after(gap, () -> {
            if (!clientChurnOn) return;
            ClientShell c = clients[rnd.nextInt(clients.length)];
            if (c.up()) {
                c.offline();
                long back = (long) (-Math.log(1 - rnd.nextDouble()) * churnOfflineMillis);
                engine.after(back, () -> {
                    if (churnBackCohort == null) churnBackCohort = cohort("back-online", "their return");
                    if (!c.up() && clientChurnOn) churnBackCohort.add(c, engine.now());
                    c.online();
                });
            }
            scheduleDeparture();
        });
    }

    /** Stops supernode and client churn (crashes and departures already due still happen as scheduled no more). */
    public void stopChurn() {
        supernodeChurnOn = false;
        clientChurnOn = false;
    }

    /**
     * Every client restarts at a uniform moment of the next {@code windowMillis}: it drops its connection and
     * comes back 0.5-2 s later (process restart). Cohort {@code cohortName} counts from now.
     */
    public void restartStorm(long windowMillis, String cohortName) {
        Cohort k = cohort(cohortName, "the storm start");
        long t0 = engine.now();
        for (ClientShell c : clients) {
            engine.after(rnd.nextLong(windowMillis), () -> {
                if (!c.up()) return;
                c.offline();
                k.add(c, t0);
                engine.after(500 + rnd.nextLong(1500), c::online);
            });
        }
    }

    /**
     * Splits supernodes and clients into two random halves. Clients whose supernode is on the other side notice
     * after a keepalive-like delay (the supernode drops them at the same moment) and re-attach on their side.
     */
    public void partition(String cohortName) {
        for (SupernodeShell s : all) s.side = rnd.nextInt(2);
        for (ClientShell c : clients) c.side = (byte) rnd.nextInt(2);
        links.partitioned(true);
        Cohort k = cohort(cohortName, "the split");
        long now = engine.now();
        for (ClientShell c : clients) {
            SupernodeShell s = c.sn;
            if (s == null || c.state != ClientShell.ATTACHED || s.side == c.side) continue;
            k.add(c, now);
            engine.after(detectionDelay(), () -> {
                if (!links.cut(c, s) || c.sn != s) return;
                s.dir.detach(c.deviceId);
                c.linkLost(s);
            });
        }
    }

    /** Heals the partition. */
    public void heal() {
        links.partitioned(false);
    }

    // ------------------------------------------------------------------ lookups

    /** Starts the client lookup workload: Poisson arrivals at the configured network-wide rate. */
    public void startLookups() {
        if (lookupsOn || cfg.lookupsPerSecond() <= 0) return;
        lookupsOn = true;
        scheduleLookup();
    }

    public void stopLookups() {
        lookupsOn = false;
    }

    private void scheduleLookup() {
        long gap = Math.max(1, (long) (-Math.log(1 - rnd.nextDouble()) * 1000.0 / cfg.lookupsPerSecond()));
        engine.after(gap, () -> {
            if (!lookupsOn) return;
            lookup();
            scheduleLookup();
        });
    }

    private final class PendingLookup {
        final long id;
        final ClientShell requester, target;
        final long required, start;
        final Phase phase;
        final boolean requesterCut;
        boolean retried;
        int hops = -1;
        Scheduler.Cancellable timeout;

        PendingLookup(long id, ClientShell requester, ClientShell target, long required, long start, Phase phase,
                      boolean requesterCut) {
            this.id = id;
            this.requester = requester;
            this.target = target;
            this.required = required;
            this.start = start;
            this.phase = phase;
            this.requesterCut = requesterCut;
        }
    }

    private void lookup() {
        long now = engine.now();
        ClientShell from = null;
        for (int i = 0; i < 20 && from == null; i++) {
            ClientShell c = clients[rnd.nextInt(clients.length)];
            if (c.state == ClientShell.ATTACHED) from = c;
        }
        if (from == null) return;
        ClientShell target = null;
        long required = -1;
        for (int i = 0; i < 20 && target == null; i++) {
            ClientShell c = clients[rnd.nextInt(clients.length)];
            if (c == from) continue;
            long r = c.requiredSequence(now, SETTLE_MILLIS);
            if (r >= 0) {
                target = c;
                required = r;
            }
        }
        if (target == null) return;
        SupernodeShell sn = from.sn;
        PendingLookup p = new PendingLookup(++nextLookupId, from, target, required, now, phaseAt(now),
                !sn.up || links.cut(from, sn));
        pending.put(p.id, p);
        p.timeout = engine.after(LOOKUP_TIMEOUT_MILLIS, () -> {
            if (pending.remove(p.id) != null) finish(p, Outcome.TIMEOUT, null);
        });
        links.sendReliable(from, sn, new Frame.Resolve(p.id, target.user));
    }

    /** The overlay lookup behind request {@code requestId} finished at a supernode (measurement only). */
    void lookupAnswered(long requestId, OverlayNode.LookupResult r) {
        PendingLookup p = pending.get(requestId);
        if (p != null) p.hops = r.hops();
    }

    void resolved(ClientShell c, Frame.Resolved r) {
        PendingLookup p = pending.remove(r.requestId());
        if (p == null) return;
        p.timeout.cancel();
        Outcome o = Outcome.NOT_FOUND;
        for (DeviceRecord d : r.devices()) {
            if (!d.deviceId().equals(p.target.deviceId)) continue;
            if (d.sequence() >= p.required) {
                o = Outcome.OK;
                break;
            }
            o = Outcome.STALE;
        }
        finish(p, o, r);
    }

    void busy(ClientShell c, Frame.Busy b) {
        busyAnswers++;
        PendingLookup p = pending.get(b.requestId());
        if (p == null) return;
        if (!p.retried && !b.alternatives().isEmpty()) {
            SupernodeShell alt = byAddress.get(b.alternatives().get(0));
            if (alt != null) {
                p.retried = true;
                links.sendReliable(c, alt, new Frame.Resolve(p.id, p.target.user));
                return;
            }
        }
        pending.remove(p.id);
        p.timeout.cancel();
        finish(p, Outcome.BUSY, null);
    }

    private enum Outcome { OK, NOT_FOUND, STALE, BUSY, TIMEOUT }

    private void finish(PendingLookup p, Outcome o, Frame.Resolved r) {
        Phase ph = p.phase;
        if (ph == null) return;
        if (debug && o != Outcome.OK && o != Outcome.TIMEOUT) {
            ClientShell t = p.target;
            long have = -1;
            if (r != null) for (DeviceRecord d : r.devices()) if (d.deviceId().equals(t.deviceId)) have = Math.max(have, d.sequence());
            debug("lookup " + o + " of " + t.user + " after " + (engine.now() - p.start) + " ms, hops " + p.hops
                    + ": required seq " + p.required + ", got " + have + "; target latest seq " + t.pubSeq + " published "
                    + (p.start - t.pubTime) + " ms before start, acked " + (t.pubAckAt < 0 ? "never" : (t.pubAckAt - t.pubTime) + " ms after")
                    + " by " + t.pubReplicas + " holders; requester " + p.requester.user + " at " + p.requester.sn);
        }
        ph.lookups++;
        switch (o) {
            case OK -> {
                ph.ok++;
                ph.latency.recordValue(Math.max(1, engine.now() - p.start));
                ph.hops[Math.min(ph.hops.length - 1, Math.max(0, p.hops))]++;
            }
            case NOT_FOUND -> ph.notFound++;
            case STALE -> ph.stale++;
            case BUSY -> ph.busy++;
            case TIMEOUT -> {
                ph.timeouts++;
                if (p.requesterCut) ph.requesterCut++;
            }
        }
    }

    // ------------------------------------------------------------------ phases and cohorts

    /** A measuring window for lookups started in [from, to) (virtual ms after the start). */
    public void phase(String name, long fromMillis, long toMillis) {
        Phase p = new Phase(name, Engine.EPOCH + fromMillis, Engine.EPOCH + toMillis);
        phases.add(p);
        engine.at(p.from, () -> p.messagesAtFrom = links.sent());
        engine.at(p.to, () -> p.messagesAtTo = links.sent());
    }

    private Phase phaseAt(long t) {
        for (Phase p : phases) if (t >= p.from && t < p.to) return p;
        return null;
    }

    private static final class Phase {
        final String name;
        final long from, to;
        long lookups, ok, notFound, stale, busy, timeouts, requesterCut;
        long messagesAtFrom = -1, messagesAtTo = -1;
        final Histogram latency = new Histogram(1, 3_600_000L, 3);
        final long[] hops = new long[64];

        Phase(String name, long from, long to) {
            this.name = name;
            this.from = from;
            this.to = to;
        }
    }

    private Cohort cohort(String name, String reference) {
        Cohort k = new Cohort(name, reference, clients.length);
        cohorts.add(k);
        return k;
    }

    private static final class Cohort {
        final String name, reference;
        final long[] ref;
        int members, attached;
        final Histogram delays = new Histogram(1, 24 * 3_600_000L, 3);
        long max;

        Cohort(String name, String reference, int n) {
            this.name = name;
            this.reference = reference;
            this.ref = new long[n];
            java.util.Arrays.fill(ref, -1);
        }

        void add(ClientShell c, long reference) {
            if (ref[c.index] >= 0) return;
            ref[c.index] = reference;
            members++;
        }

        final List<String> laggards = new ArrayList<>();
        long laggardFloor;

        void leave(ClientShell c) {
            if (ref[c.index] < 0) return;
            ref[c.index] = -1;
            members--;
        }

        void attached(ClientShell c, long now) {
            long r = ref[c.index];
            if (r < 0) return;
            ref[c.index] = -1;
            attached++;
            long d = Math.max(1, now - r);
            delays.recordValue(d);
            max = Math.max(max, d);
            if (d >= laggardFloor) {
                laggards.add(d + " ms " + c.attachStats());
                if (laggards.size() > 40) {
                    laggards.sort(java.util.Comparator.comparingLong((String x) -> Long.parseLong(x.substring(0, x.indexOf(' ')))).reversed());
                    laggards.subList(10, laggards.size()).clear();
                    laggardFloor = Long.parseLong(laggards.get(laggards.size() - 1).substring(0, laggards.get(laggards.size() - 1).indexOf(' ')));
                }
            }
        }
    }

    // ------------------------------------------------------------------ end-of-run record check

    /**
     * Stops the workload and churn, then looks up every online client that first published at least a minute ago
     * (spread over 10 s, straight through the overlay of a random live supernode, up to 3 supernodes per client)
     * and counts those whose current record none found.
     */
    public void checkRecords() {
        stopLookups();
        stopChurn();
        long now = engine.now();
        List<ClientShell> eligible = new ArrayList<>();
        List<Long> required = new ArrayList<>();
        for (ClientShell c : clients) {
            long r = c.requiredSequence(now, 60_000);
            if (r >= 0) {
                eligible.add(c);
                required.add(r);
            }
        }
        checked = eligible.size();
        lost = 0;
        stale = 0;
        int[] done = {0};
        for (int i = 0; i < eligible.size(); i++) {
            ClientShell c = eligible.get(i);
            long req = required.get(i);
            engine.after(rnd.nextLong(10_000), () -> checkOne(c, req, 0, false, done));
        }
        long until = engine.now() + 10_000 + 3 * 6_000;
        while (done[0] < eligible.size() && engine.now() < until) engine.runFor(1000);
        if (done[0] < eligible.size()) lost += eligible.size() - done[0];
    }

    private void checkOne(ClientShell c, long required, int attempt, boolean sawStale, int[] done) {
        SupernodeShell s = live.get(rnd.nextInt(live.size()));
        s.node.findUser(c.user, res -> {
            boolean ok = false, old = sawStale;
            for (DeviceRecord d : res.records()) {
                if (!d.deviceId().equals(c.deviceId)) continue;
                if (d.sequence() >= required) ok = true;
                else old = true;
            }
            if (ok) {
                done[0]++;
            } else if (attempt < 2) {
                checkOne(c, required, attempt + 1, old, done);
            } else {
                done[0]++;
                lost++;
                if (old) stale++;
                if (debug) System.out.println("   [debug] record of " + c.user + " not found (required seq " + required + ", latest " + c.pubSeq + " published "
                        + (engine.now() - c.pubTime) + " ms ago, acked " + (c.pubAckAt < 0 ? "never" : (c.pubAckAt - c.pubTime) + " ms after")
                        + " by " + c.pubReplicas + "; attached to " + c.sn + (c.sn != null && !c.sn.up ? " (crashed)" : "")
                        + " since " + (engine.now() - c.attachedAt) + " ms; last lookup found " + (old ? "an older sequence" : "nothing")
                        + "; " + holdersOf(c) + ")");
            }
        });
    }

    /** Diagnostics: which live supernodes store which sequence of {@code c}'s device. */
    private String holdersOf(ClientShell c) {
        StringBuilder b = new StringBuilder("stored at");
        int n = 0;
        for (SupernodeShell s : live) {
            for (DeviceRecord d : s.node.store().get(c.user, engine.now())) {
                if (n++ < 12) b.append(' ').append(s.address).append("=seq").append(d.sequence())
                        .append(s.node.holds(org.parley.overlay.NodeId.forUser(c.user)) ? "(holds)" : "");
            }
        }
        return n == 0 ? "stored nowhere" : b + (n > 12 ? " ..." : "");
    }

    // ------------------------------------------------------------------ figures

    public ScenarioResult result(String scenario, String note) {
        if (debug) {
            for (Cohort k : cohorts) {
                k.laggards.sort(java.util.Comparator.comparingLong((String x) -> Long.parseLong(x.substring(0, x.indexOf(' ')))).reversed());
                System.out.println("   [debug] redirect alternatives offered " + altsOffered + ", dead " + altsDead + "; hellos " + hellos + ", to dead " + deadHellos);
                StringBuilder b = new StringBuilder("   [debug] per 5 s after the crash: alternatives dead/offered, hellos dead/sent:");
                for (int i = 0; i < 12; i++) b.append(' ').append(deadAltsBy5s[i]).append('/').append(altsBy5s[i]).append(',').append(deadHellosBy5s[i]).append('/').append(hellosBy5s[i]);
                System.out.println(b);
                for (int i = 0; i < Math.min(8, k.laggards.size()); i++) System.out.println("   [debug] slowest of " + k.name + ": " + k.laggards.get(i));
                if (k.attached < k.members) {
                    int shown = 0;
                    for (ClientShell c : clients) {
                        if (k.ref[c.index] >= 0 && shown++ < 8) System.out.println("   [debug] never attached (" + k.name + "): " + c.attachStats() + " state " + c.state);
                    }
                }
            }
        }
        List<ScenarioResult.PhaseFigures> pf = new ArrayList<>();
        for (Phase p : phases) {
            long to = Math.min(p.to, engine.now());
            double secs = Math.max(1, (to - p.from) / 1000.0);
            long mTo = p.messagesAtTo >= 0 ? p.messagesAtTo : links.sent();
            double mps = p.messagesAtFrom >= 0 ? (mTo - p.messagesAtFrom) / secs : 0;
            pf.add(new ScenarioResult.PhaseFigures(p.name, (p.from - Engine.EPOCH) / 1000, (p.to - Engine.EPOCH) / 1000,
                    p.lookups, p.ok, p.notFound, p.stale, p.busy, p.timeouts, p.requesterCut,
                    p.lookups == 0 ? 0 : 100.0 * p.ok / p.lookups, hopsQuantile(p.hops, 0.5), hopsQuantile(p.hops, 0.99),
                    hopsQuantile(p.hops, 1.0), p.ok == 0 ? 0 : p.latency.getValueAtPercentile(50),
                    p.ok == 0 ? 0 : p.latency.getValueAtPercentile(99), mps));
        }
        List<ScenarioResult.AttachFigures> af = new ArrayList<>();
        for (Cohort k : cohorts) {
            double p99 = -1, full = -1;
            int need99 = (int) Math.ceil(k.members * 0.99);
            if (k.members == 0) {
                p99 = 0;
                full = 0;
            } else {
                if (k.attached >= need99 && k.attached > 0) p99 = k.delays.getValueAtPercentile(100.0 * need99 / k.attached) / 1000.0;
                if (k.attached == k.members) full = k.max / 1000.0;
            }
            af.add(new ScenarioResult.AttachFigures(k.name, k.members, k.attached, p99, full, k.reference));
        }
        double peakLoad = 0, attachRate = 0, lookupRate = 0;
        int over = 0;
        long timeouts = 0, rejected = 0;
        for (SupernodeShell s : all) {
            peakLoad = Math.max(peakLoad, s.peakAttached / (double) s.capacity());
            if (s.peakAttached > s.capacity() || s.admission.peakClients() > s.capacity()) over++;
            attachRate = Math.max(attachRate, s.peakAttachesPerSecond / (double) s.admission.config().attachesPerSecond());
            lookupRate = Math.max(lookupRate, s.peakLookupsPerSecond / (double) s.admission.config().lookupsPerSecond());
            timeouts += s.node.timeouts();
            rejected += s.node.store().rejected();
        }
        long virtual = engine.elapsed() / 1000;
        return new ScenarioResult(scenario, note, cfg.supernodes(), cfg.clients(), cfg.seed(), pf, af, peakLoad, over,
                attachRate, lookupRate, redirects, busyAnswers, Math.max(0, checked), lost, stale, links.sent(),
                links.sent() / (double) Math.max(1, virtual), timeouts, rejected, links.wireChecked(), links.wireErrors(),
                virtual, (System.nanoTime() - wallStart) / 1e9, engine.processed(), live.size(), (int) crashed,
                publishLatency.getTotalCount() == 0 ? 0 : publishLatency.getValueAtPercentile(50),
                publishLatency.getTotalCount() == 0 ? 0 : publishLatency.getValueAtPercentile(99), publishLatency.getMaxValue(),
                publishesFailed);
    }

    private static int hopsQuantile(long[] hops, double q) {
        long total = 0;
        for (long h : hops) total += h;
        if (total == 0) return 0;
        long need = (long) Math.ceil(total * q);
        long acc = 0;
        for (int i = 0; i < hops.length; i++) {
            acc += hops[i];
            if (acc >= need) return i;
        }
        return hops.length - 1;
    }

    /** Clients matching {@code p} (for tests). */
    public List<ClientShell> clients(Predicate<ClientShell> p) {
        List<ClientShell> out = new ArrayList<>();
        for (ClientShell c : clients) if (p.test(c)) out.add(c);
        return out;
    }

    public long unknownAddressMessages() {
        return unknownAddress;
    }
}
