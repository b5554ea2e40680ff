package org.parley.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.parley.protocol.DeviceRecord;
import org.parley.protocol.Frame;

/**
 * Scenario "drill": a supernode failure drill. S supernode processes form the overlay (all ports are seeds of
 * network.json); N lightweight clients join through the real attach logic ({@link BenchClient#startAttachLoop}:
 * AttachPlanner + in-memory HostCache, keepalive Ping with the daemon's 3 s Pong timeout, republish after every
 * attach). Once all are attached, published and resolvable, K supernodes (the most loaded) are killed with
 * SIGKILL at once. For every client that was attached to a killed supernode the drill measures the time from the
 * kill until it is attached again (Welcome from a surviving supernode) and until it is findable again: a client
 * attached to another surviving supernode resolves it and gets a record that names the supernode the client is
 * attached to now. Meanwhile the surviving supernodes' metrics are polled every 500 ms (attached clients vs
 * capacity, process alive).
 */
final class DrillScenario {
    static final Duration TARGET = Duration.ofSeconds(30);

    private DrillScenario() {}

    /**
     * Drill parameters.
     *
     * @param supernodes   supernode processes
     * @param clients      bench clients
     * @param kill         supernodes killed at once (the most loaded ones)
     * @param capacity     --capacity of every supernode
     * @param keepalive    --keepalive of every supernode (clients ping at it and wait 3 s for the Pong)
     * @param observe      how long after the kill to keep measuring clients that are not findable yet
     * @param sample       users each client resolves in the checks before and after the kill
     * @param joinPerSecond pace of client start-up before the drill (not of the storm)
     * @param benchThreads event loop threads of the bench clients
     */
    record Config(int supernodes, int clients, int kill, int capacity, Duration keepalive, Duration observe, int sample,
                  int joinPerSecond, int benchThreads) {
        Config {
            if (supernodes < 2) throw new IllegalArgumentException("drill: needs at least 2 supernodes");
            if (kill < 1 || kill >= supernodes) throw new IllegalArgumentException("drill: --kill must be 1.." + (supernodes - 1));
            if (clients < 2) throw new IllegalArgumentException("drill: needs at least 2 clients");
        }
    }

    /** Per-client bookkeeping, written by the client's attach loop and the drill's probes. */
    static final class ClientState {
        final int index;
        final BenchClient client;
        volatile String address;
        volatile boolean published;
        volatile int replicas = -1;
        // the storm
        volatile String victim;
        volatile long lostNanos = -1;
        volatile boolean lostSilently;
        volatile long reattachNanos = -1;
        volatile String reattachedTo;
        volatile long republishedNanos = -1;
        volatile int republishReplicas = -1;
        volatile long findableNanos = -1;
        volatile long lastProbeNanos;
        final AtomicBoolean probing = new AtomicBoolean();
        final AtomicInteger attaches = new AtomicInteger();
        final AtomicInteger stormFailures = new AtomicInteger();

        ClientState(int index, BenchClient client) {
            this.index = index;
            this.client = client;
        }

        String user() {
            return client.id.user();
        }
    }

    /** Peak load of one surviving supernode during the storm. */
    record SupernodeLoad(String name, String address, double before, double peak, double after, double capacity,
                         double contactsAfter, double recordsAfter, double overlayTimeouts, boolean alive, int samples,
                         int clientsAfter) {}

    /** Distribution summary in milliseconds (nearest rank). */
    record Dist(int n, double p50, double p99, double max) {
        static Dist of(List<Long> nanos) {
            if (nanos.isEmpty()) return new Dist(0, Double.NaN, Double.NaN, Double.NaN);
            long[] a = nanos.stream().mapToLong(Long::longValue).sorted().toArray();
            return new Dist(a.length, rank(a, 50) / 1e6, rank(a, 99) / 1e6, a[a.length - 1] / 1e6);
        }

        private static long rank(long[] a, double p) {
            int i = (int) Math.ceil(p / 100.0 * a.length) - 1;
            return a[Math.max(0, Math.min(a.length - 1, i))];
        }

        String text() {
            if (n == 0) return "-";
            return String.format(Locale.ROOT, "%s / %s / %s s", sec(p50), sec(p99), sec(max));
        }

        static String sec(double ms) {
            return String.format(Locale.ROOT, "%.2f", ms / 1000.0);
        }

        void into(ObjectNode j, String prefix) {
            j.put(prefix + "_n", n);
            j.put(prefix + "_p50_ms", Results.round(p50, 1));
            j.put(prefix + "_p99_ms", Results.round(p99, 1));
            j.put(prefix + "_max_ms", Results.round(max, 1));
        }
    }

    /** Everything the drill measured. */
    record Result(Config config, double overlaySeconds, double joinSeconds, Map<String, Integer> before, int initialCheckFailures,
                  double resolvableSeconds, List<String> victims, int affected, int reattachedInTarget, int findableInTarget,
                  int reattachedAtAll, int findableAtAll, Dist detect, Dist reattach, Dist republish, Dist findable,
                  Dist afterNoticed, int triedKilled, int notSilent,
                  int stormDialFailures, int stormDialsToKilled, int stormRedirects, int unaffectedLost,
                  long probes, long probesCurrent, long probesStale, long probesNotFound, long probesFailed,
                  long backgroundLookups, long backgroundFailed, List<SupernodeLoad> survivors, boolean survivorsAlive,
                  boolean overCapacity, int finalAttached, int finalOnSurvivors, long finalLookups, long finalFailed,
                  int minReplicasBefore, int minReplicasAfter, List<String> notes) {
        boolean met() {
            return affected > 0 && reattachedInTarget == affected && findableInTarget == affected && survivorsAlive && !overCapacity;
        }
    }

    /** The "drill" subcommand: runs, prints the tables and appends the JSON line. */
    static void run(Bench.Context ctx) throws Exception {
        Bench.Options o = ctx.options();
        int sn = o.supernodes() > 0 ? o.supernodes() : 6;
        int kill = o.kill() > 0 ? o.kill() : Math.max(1, (int) Math.round(sn * 0.3));
        int clients = o.clientsGiven() ? o.clients() : 300;
        int capacity = o.capacity() > 0 ? o.capacity() : 150;
        Config cfg = new Config(sn, clients, kill, capacity, Duration.ofSeconds(5), Duration.ofSeconds(60), 3, 40,
                o.benchThreads());
        Path dir = Files.createDirectories(ctx.tmp().resolve("drill"));
        Result r = run(cfg, dir, ctx.cleanup(), System.out);
        print(r);
        write(ctx.results(), r);
    }

    /** Runs the drill; progress lines go to {@code out}. */
    static Result run(Config cfg, Path dir, Cleanup cleanup, PrintStream out) throws Exception {
        List<String> notes = new ArrayList<>();
        if ((long) (cfg.supernodes() - cfg.kill()) * cfg.capacity() < cfg.clients()) {
            notes.add(String.format(Locale.ROOT, "the %d surviving supernodes have %d slots for %d clients: some cannot re-attach",
                    cfg.supernodes() - cfg.kill(), (cfg.supernodes() - cfg.kill()) * cfg.capacity(), cfg.clients()));
        }
        out.printf(Locale.ROOT, "%ndrill: %d supernode processes (capacity %d, keepalive %d s, no relay), %d bench clients with the "
                        + "daemon's attach logic; kill -9 %d supernodes at once%n", cfg.supernodes(), cfg.capacity(),
                cfg.keepalive().toSeconds(), cfg.clients(), cfg.kill());
        BenchNetwork.Spec spec = new BenchNetwork.Spec(cfg.capacity(), cfg.keepalive(), 0, 0, false);
        long t0 = System.nanoTime();
        try (BenchNetwork net = BenchNetwork.startMany(dir, cfg.supernodes(), spec, cleanup)) {
            List<BenchNetwork.SupernodeProcess> sns = net.supernodes();
            out.printf(Locale.ROOT, "  %d supernodes listening after %.1f s: %s%n", sns.size(), secondsSince(t0),
                    sns.stream().map(BenchNetwork.SupernodeProcess::toString).collect(Collectors.joining(", ")));
            // the overlay: every supernode knows every other one
            long t1 = System.nanoTime();
            boolean converged = awaitOverlay(sns, Duration.ofSeconds(60));
            double overlaySeconds = secondsSince(t1);
            out.printf(Locale.ROOT, "  overlay %s after %.1f s: contacts per supernode %s%n", converged ? "complete" : "NOT complete",
                    overlaySeconds, gauge(sns, "parley_overlay_contacts"));
            if (!converged) notes.add("the overlay was not complete before the clients joined");

            try (Swarm swarm = Swarm.create(net, cfg.clients(), "d", cfg.benchThreads())) {
                return drill(cfg, net, swarm, out, notes, overlaySeconds);
            }
        }
    }

    private static Result drill(Config cfg, BenchNetwork net, Swarm swarm, PrintStream out, List<String> notes,
                                double overlaySeconds) throws Exception {
        List<BenchNetwork.SupernodeProcess> sns = net.supernodes();
        List<ClientState> states = new ArrayList<>();
        Map<BenchClient, ClientState> byClient = new ConcurrentHashMap<>();
        for (int i = 0; i < swarm.clients.size(); i++) {
            ClientState s = new ClientState(i, swarm.clients.get(i));
            states.add(s);
            byClient.put(s.client, s);
        }
        Map<String, ClientState> byUser = new HashMap<>();
        for (ClientState s : states) byUser.put(s.user(), s);
        Events ev = new Events(byClient);

        // ---- join: the daemon's attach loop, started at a steady pace (real clients do not all start at once)
        long j0 = System.nanoTime();
        List<String> seeds = net.seeds();
        long pace = Math.max(1, 1000 / Math.max(1, cfg.joinPerSecond()));
        for (ClientState s : states) {
            s.client.startAttachLoop(seeds, 0x5eed0000L + s.index, ev);
            Thread.sleep(pace);
        }
        boolean joined = await(Duration.ofSeconds(180), () -> states.stream().allMatch(s -> s.address != null && s.published));
        double joinSeconds = secondsSince(j0);
        Map<String, Integer> before = distribution(states, sns);
        out.printf(Locale.ROOT, "  %d of %d clients attached and published in %.1f s (paced at %d starts/s): clients per supernode %s%n",
                states.stream().filter(s -> s.address != null && s.published).count(), states.size(), joinSeconds,
                cfg.joinPerSecond(), before);
        out.printf(Locale.ROOT, "  supernode gauges: attached %s, records %s, overlay contacts %s, overlay request timeouts %s%n",
                gauge(sns, "parley_supernode_attached_clients"), gauge(sns, "parley_overlay_records"),
                gauge(sns, "parley_overlay_contacts"), gauge(sns, "parley_overlay_timeouts"));
        Map<Integer, Long> replicaCounts = new java.util.TreeMap<>(states.stream().collect(Collectors.groupingBy(s -> s.replicas, Collectors.counting())));
        out.printf(Locale.ROOT, "  Published replicas (holders that accepted the record) -> clients: %s%n", replicaCounts);
        out.printf(Locale.ROOT, "  while joining: %d failed attach attempts, %d redirects, %d failed publishes (retried after 5 s)%s%n",
                ev.joinFailures.get(), ev.joinRedirects.get(), ev.publishFailures.get(), ev.reasons.isEmpty() ? "" : "; e.g. " + ev.reasons);
        if (ev.joinFailures.get() + ev.publishFailures.get() > 0) {
            notes.add(String.format(Locale.ROOT, "while joining: %d failed attach attempts, %d failed publishes %s", ev.joinFailures.get(),
                    ev.publishFailures.get(), ev.reasons));
        }
        if (!joined) throw new IllegalStateException("drill: not every client attached and published within 180 s");
        int minReplicasBefore = states.stream().mapToInt(s -> s.replicas).min().orElse(-1);

        // ---- every client can resolve a sample of others
        long r0 = System.nanoTime();
        int[] firstPass = {-1};
        boolean resolvable = await(Duration.ofSeconds(60), () -> {
            long[] res = checkAll(states, byUser, cfg.sample(), Set.of());
            if (firstPass[0] < 0) firstPass[0] = (int) res[1];
            return res[1] == 0;
        });
        double resolvableSeconds = secondsSince(r0);
        out.printf(Locale.ROOT, "  every client resolved %d others correctly after %.1f s (first pass: %d of %d lookups wrong)%n",
                cfg.sample(), resolvableSeconds, firstPass[0], (long) cfg.sample() * states.size());
        if (!resolvable) throw new IllegalStateException("drill: clients could not resolve each other within 60 s");

        // ---- the victims: the most loaded supernodes
        Map<String, Long> load = states.stream().filter(s -> s.address != null).collect(Collectors.groupingBy(s -> s.address, Collectors.counting()));
        List<BenchNetwork.SupernodeProcess> ranked = new ArrayList<>(sns);
        ranked.sort(Comparator.comparingLong((BenchNetwork.SupernodeProcess p) -> -load.getOrDefault(p.hostPort(), 0L))
                .thenComparing(p -> p.name));
        List<BenchNetwork.SupernodeProcess> victims = ranked.subList(0, cfg.kill());
        List<BenchNetwork.SupernodeProcess> survivors = sns.stream().filter(p -> !victims.contains(p)).toList();
        Set<String> victimAddresses = victims.stream().map(BenchNetwork.SupernodeProcess::hostPort).collect(Collectors.toSet());
        List<ClientState> affected = new ArrayList<>();
        List<ClientState> unaffected = new ArrayList<>();
        for (ClientState s : states) {
            if (victimAddresses.contains(s.address)) {
                s.victim = s.address;
                affected.add(s);
            } else {
                unaffected.add(s);
            }
        }

        // ---- metrics of the survivors every 500 ms, from before the kill until the end
        Poller poller = new Poller(survivors);
        poller.sampleOnce();
        Map<String, Double> loadBefore = new LinkedHashMap<>(poller.last);
        poller.start();

        out.printf(Locale.ROOT, "  killing %s with SIGKILL (%d clients attached to them)%n",
                victims.stream().map(BenchNetwork.SupernodeProcess::toString).collect(Collectors.joining(", ")), affected.size());
        ev.victims = victimAddresses;
        long kill = System.nanoTime();
        ev.killNanos = kill;
        for (BenchNetwork.SupernodeProcess v : victims) v.kill9();
        for (BenchNetwork.SupernodeProcess v : victims) v.awaitExit(Duration.ofSeconds(5));

        // ---- probes: each re-attached affected client is looked up from an unaffected client every 200 ms until found
        Prober prober = new Prober(affected, unaffected, victimAddresses);
        prober.start();
        long deadline = kill + cfg.observe().toNanos();
        long reported = System.nanoTime();
        while (System.nanoTime() < deadline && affected.stream().anyMatch(s -> s.findableNanos < 0)) {
            Thread.sleep(100);
            if (System.nanoTime() - reported > TimeUnit.SECONDS.toNanos(5)) {
                reported = System.nanoTime();
                out.printf(Locale.ROOT, "    +%.0f s: %d/%d noticed the loss, %d re-attached, %d findable; survivors attached %s%n",
                        (reported - kill) / 1e9, affected.stream().filter(s -> s.lostNanos > 0).count(), affected.size(),
                        affected.stream().filter(s -> s.reattachNanos > 0).count(),
                        affected.stream().filter(s -> s.findableNanos > 0).count(), poller.last);
            }
        }
        prober.stop();
        Thread.sleep(1500); // let the poller see the settled state
        poller.stop();

        // ---- after: everyone attached to a survivor, survivors alive, lookups of a sample work
        long[] fin = {0, 0};
        await(Duration.ofSeconds(10), () -> {
            long[] res = checkAll(states, byUser, cfg.sample(), victimAddresses);
            fin[0] = res[0];
            fin[1] = res[1];
            return res[1] == 0;
        });
        int finalAttached = (int) states.stream().filter(s -> s.address != null).count();
        int finalOnSurvivors = (int) states.stream().filter(s -> s.address != null && !victimAddresses.contains(s.address)).count();

        // ---- figures
        long target = TARGET.toNanos();
        List<Long> detect = new ArrayList<>();
        List<Long> reattach = new ArrayList<>();
        List<Long> republish = new ArrayList<>();
        List<Long> findable = new ArrayList<>();
        List<Long> afterNoticed = new ArrayList<>();
        int triedKilled = 0;
        int notSilent = 0;
        int reIn = 0;
        int findIn = 0;
        int reAll = 0;
        int findAll = 0;
        int minReplicasAfter = Integer.MAX_VALUE;
        for (ClientState s : affected) {
            if (s.lostNanos > 0) detect.add(s.lostNanos - kill);
            if (s.lostNanos > 0 && !s.lostSilently) notSilent++;
            if (s.lostNanos > 0 && s.reattachNanos > 0) afterNoticed.add(s.reattachNanos - s.lostNanos);
            if (s.stormFailures.get() > 0) triedKilled++;
            if (s.reattachNanos > 0) {
                reattach.add(s.reattachNanos - kill);
                reAll++;
                if (s.reattachNanos - kill <= target) reIn++;
            }
            if (s.republishedNanos > 0) {
                republish.add(s.republishedNanos - kill);
                minReplicasAfter = Math.min(minReplicasAfter, s.republishReplicas);
            }
            if (s.findableNanos > 0) {
                findable.add(s.findableNanos - kill);
                findAll++;
                if (s.findableNanos - kill <= target) findIn++;
            }
        }
        List<SupernodeLoad> loads = new ArrayList<>();
        Map<String, Integer> clientView = distribution(states, sns);
        boolean alive = true;
        boolean over = false;
        for (BenchNetwork.SupernodeProcess p : survivors) {
            Map<String, Double> m = p.metrics(Duration.ofSeconds(5));
            double cap = m.getOrDefault("parley_supernode_capacity", (double) cfg.capacity());
            double peak = poller.peak.getOrDefault(p.name, Double.NaN);
            loads.add(new SupernodeLoad(p.name, p.hostPort(), loadBefore.getOrDefault(p.name, Double.NaN), peak,
                    m.getOrDefault("parley_supernode_attached_clients", Double.NaN), cap,
                    m.getOrDefault("parley_overlay_contacts", Double.NaN), m.getOrDefault("parley_overlay_records", Double.NaN),
                    m.getOrDefault("parley_overlay_timeouts", Double.NaN), p.alive() && !poller.died.contains(p.name),
                    poller.samples.getOrDefault(p.name, 0), clientView.getOrDefault(p.name, 0)));
            alive &= p.alive() && !poller.died.contains(p.name);
            if (peak > cap) over = true;
        }
        int unaffectedLost = (int) unaffected.stream().filter(s -> s.lostNanos > 0).count();
        if (poller.missed.get() > 0) notes.add(poller.missed.get() + " metrics polls got no answer within 1 s");
        if (!prober.backgroundWhy.isEmpty()) notes.add("failed lookups of unaffected users: " + prober.backgroundWhy);
        return new Result(cfg, overlaySeconds, joinSeconds, before, firstPass[0], resolvableSeconds,
                victims.stream().map(BenchNetwork.SupernodeProcess::toString).toList(), affected.size(), reIn, findIn, reAll, findAll,
                Dist.of(detect), Dist.of(reattach), Dist.of(republish), Dist.of(findable), Dist.of(afterNoticed), triedKilled, notSilent,
                ev.stormFailures.get(), ev.stormFailuresKilled.get(), ev.stormRedirects.get(), unaffectedLost,
                prober.probes.get(), prober.current.get(), prober.stale.get(), prober.notFound.get(), prober.failed.get(),
                prober.background.get(), prober.backgroundFailed.get(), loads, alive, over, finalAttached, finalOnSurvivors,
                fin[0], fin[1], minReplicasBefore, minReplicasAfter == Integer.MAX_VALUE ? -1 : minReplicasAfter, notes);
    }

    // ------------------------------------------------------------------ attach events

    private static final class Events implements BenchClient.AttachEvents {
        final Map<BenchClient, ClientState> byClient;
        volatile long killNanos;
        volatile Set<String> victims = Set.of();
        final AtomicInteger stormFailures = new AtomicInteger();
        final AtomicInteger stormFailuresKilled = new AtomicInteger();
        final AtomicInteger stormRedirects = new AtomicInteger();
        final AtomicInteger joinFailures = new AtomicInteger();
        final AtomicInteger joinRedirects = new AtomicInteger();
        final AtomicInteger publishFailures = new AtomicInteger();
        final List<String> reasons = Collections.synchronizedList(new ArrayList<>());

        void reason(String r) {
            if (reasons.size() < 6 && !reasons.contains(r)) reasons.add(r);
        }

        Events(Map<BenchClient, ClientState> byClient) {
            this.byClient = byClient;
        }

        @Override
        public void attached(BenchClient c, String address, long nanos) {
            ClientState s = byClient.get(c);
            s.published = false;
            s.address = address;
            s.attaches.incrementAndGet();
            if (killNanos != 0 && s.victim != null && s.reattachNanos < 0 && !victims.contains(address)) {
                s.reattachedTo = address;
                s.reattachNanos = nanos;
            }
        }

        @Override
        public void lost(BenchClient c, String address, long nanos, boolean silent) {
            ClientState s = byClient.get(c);
            if (address.equals(s.address)) s.address = null;
            s.published = false;
            if (killNanos != 0 && s.lostNanos < 0) {
                s.lostNanos = nanos;
                s.lostSilently = silent;
            }
        }

        @Override
        public void failed(BenchClient c, String address, long nanos, String why) {
            if (killNanos == 0) {
                joinFailures.incrementAndGet();
                reason("attach: " + why);
                return;
            }
            stormFailures.incrementAndGet();
            if (victims.contains(address)) {
                stormFailuresKilled.incrementAndGet();
                byClient.get(c).stormFailures.incrementAndGet();
            }
            if (System.getenv("BENCH_DEBUG") != null) System.err.println("bench: " + c.id.user() + " cannot attach to " + address + ": " + why);
        }

        @Override
        public void redirected(BenchClient c, String address, Frame.Redirect r) {
            if (killNanos != 0) stormRedirects.incrementAndGet();
            else joinRedirects.incrementAndGet();
        }

        @Override
        public void published(BenchClient c, String address, int replicas, long nanos) {
            ClientState s = byClient.get(c);
            if (!address.equals(s.address)) return;
            s.published = true;
            s.replicas = replicas;
            if (killNanos != 0 && s.victim != null && s.republishedNanos < 0 && !victims.contains(address)) {
                s.republishReplicas = replicas;
                s.republishedNanos = nanos;
            }
        }

        @Override
        public void publishFailed(BenchClient c, String address, String why) {
            publishFailures.incrementAndGet();
            reason("publish: " + why);
            if (System.getenv("BENCH_DEBUG") != null) System.err.println("bench: " + c.id.user() + " publish via " + address + " failed: " + why);
        }
    }

    // ------------------------------------------------------------------ lookups

    /** True if {@code r} holds {@code target}'s device record naming the supernode {@code target} is attached to now. */
    static boolean current(Frame.Resolved r, ClientState target) {
        String at = target.address;
        if (at == null) return false;
        for (DeviceRecord d : r.devices()) {
            if (d.deviceId().equals(target.client.id.deviceId()) && d.supernodes().contains(at)) return true;
        }
        return false;
    }

    /**
     * Each attached client resolves {@code sample} random others (attached ones); returns {lookups, wrong}: wrong is
     * a failed lookup or an answer without a record naming the target's current supernode.
     */
    private static long[] checkAll(List<ClientState> states, Map<String, ClientState> byUser, int sample, Set<String> victims)
            throws InterruptedException {
        Semaphore inFlight = new Semaphore(64);
        AtomicLong wrong = new AtomicLong();
        AtomicLong total = new AtomicLong();
        List<ClientState> attached = states.stream().filter(s -> s.address != null && !victims.contains(s.address)).toList();
        if (attached.size() < 2) return new long[] {0, 1};
        List<CompletableFuture<?>> all = new ArrayList<>();
        for (ClientState s : states) {
            if (s.address == null || victims.contains(s.address)) {
                total.addAndGet(sample);
                wrong.addAndGet(sample); // a client that is not attached cannot look anyone up
                continue;
            }
            for (int k = 0; k < sample; k++) {
                ClientState t = attached.get(ThreadLocalRandom.current().nextInt(attached.size()));
                if (t == s) t = attached.get((attached.indexOf(s) + 1) % attached.size());
                ClientState target = t;
                inFlight.acquire();
                total.incrementAndGet();
                all.add(s.client.resolve(target.user()).whenComplete((r, e) -> {
                    if (e != null || !current(r, target)) wrong.incrementAndGet();
                    inFlight.release();
                }));
            }
        }
        try {
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        } catch (Exception ignored) {
            // counted as wrong by their callbacks
        }
        return new long[] {total.get(), wrong.get()};
    }

    /** Looks up re-attached affected clients from unaffected clients, plus light background lookups. */
    private static final class Prober {
        final List<ClientState> affected;
        final List<ClientState> unaffected;
        final Set<String> victims;
        final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "drill-prober");
            t.setDaemon(true);
            return t;
        });
        final AtomicLong probes = new AtomicLong();
        final AtomicLong current = new AtomicLong();
        final AtomicLong stale = new AtomicLong();
        final AtomicLong notFound = new AtomicLong();
        final AtomicLong failed = new AtomicLong();
        final AtomicLong background = new AtomicLong();
        final AtomicLong backgroundFailed = new AtomicLong();
        final Map<String, Integer> backgroundWhy = new ConcurrentHashMap<>();
        private int next;

        Prober(List<ClientState> affected, List<ClientState> unaffected, Set<String> victims) {
            this.affected = affected;
            this.unaffected = unaffected;
            this.victims = victims;
        }

        void start() {
            timer.scheduleWithFixedDelay(this::tick, 0, 50, TimeUnit.MILLISECONDS);
        }

        void stop() throws InterruptedException {
            timer.shutdownNow();
            timer.awaitTermination(5, TimeUnit.SECONDS);
        }

        private ClientState prober() {
            for (int i = 0; i < unaffected.size(); i++) {
                ClientState p = unaffected.get(next++ % unaffected.size());
                if (p.address != null && !victims.contains(p.address)) return p;
            }
            return null;
        }

        private void tick() {
            try {
                long now = System.nanoTime();
                for (ClientState t : affected) {
                    if (t.findableNanos > 0 || t.reattachNanos < 0 || now - t.lastProbeNanos < 200_000_000L) continue;
                    if (!t.probing.compareAndSet(false, true)) continue;
                    ClientState p = prober();
                    if (p == null) {
                        t.probing.set(false);
                        return;
                    }
                    t.lastProbeNanos = now;
                    probes.incrementAndGet();
                    p.client.resolve(t.user()).whenComplete((r, e) -> {
                        long at = System.nanoTime();
                        if (e != null) {
                            failed.incrementAndGet();
                        } else if (current(r, t)) {
                            current.incrementAndGet();
                            if (t.findableNanos < 0) t.findableNanos = at;
                        } else if (r.devices().stream().anyMatch(d -> d.supernodes().stream().anyMatch(victims::contains))) {
                            stale.incrementAndGet();
                        } else {
                            notFound.incrementAndGet();
                        }
                        t.probing.set(false);
                    });
                }
                // background: about 40 lookups/s of unaffected users between unaffected clients
                for (int i = 0; i < 2 && unaffected.size() > 1; i++) {
                    ClientState p = prober();
                    ClientState t = unaffected.get(ThreadLocalRandom.current().nextInt(unaffected.size()));
                    if (p == null || t == p || t.address == null) continue;
                    background.incrementAndGet();
                    p.client.resolve(t.user()).whenComplete((r, e) -> {
                        if (e != null || !current(r, t)) backgroundFailed.incrementAndGet();
                        if (e != null) {
                            String k = Fleet.rootMessage(e);
                            backgroundWhy.merge(k.length() > 60 ? k.substring(0, 60) : k, 1, Integer::sum);
                        } else if (!current(r, t)) {
                            backgroundWhy.merge(r.devices().isEmpty() ? "answer without a record" : "record naming another supernode",
                                    1, Integer::sum);
                        }
                    });
                }
            } catch (RuntimeException e) {
                System.err.println("drill: prober: " + e);
            }
        }
    }

    // ------------------------------------------------------------------ metrics poller

    /** Polls the survivors' Prometheus endpoints every 500 ms, in parallel; keeps the peak of attached clients. */
    private static final class Poller {
        final List<BenchNetwork.SupernodeProcess> survivors;
        final Map<String, Double> peak = new ConcurrentHashMap<>();
        final Map<String, Integer> samples = new ConcurrentHashMap<>();
        final Set<String> died = ConcurrentHashMap.newKeySet();
        final AtomicLong missed = new AtomicLong();
        volatile Map<String, Double> last = Map.of();
        final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "drill-metrics");
            t.setDaemon(true);
            return t;
        });
        final ExecutorService http = Executors.newVirtualThreadPerTaskExecutor();

        Poller(List<BenchNetwork.SupernodeProcess> survivors) {
            this.survivors = survivors;
        }

        void start() {
            timer.scheduleAtFixedRate(this::sampleOnce, 500, 500, TimeUnit.MILLISECONDS);
        }

        void sampleOnce() {
            Map<String, CompletableFuture<Map<String, Double>>> fs = new LinkedHashMap<>();
            for (BenchNetwork.SupernodeProcess p : survivors) {
                fs.put(p.name, CompletableFuture.supplyAsync(() -> p.metrics(Duration.ofSeconds(1)), http));
            }
            Map<String, Double> now = new LinkedHashMap<>();
            for (BenchNetwork.SupernodeProcess p : survivors) {
                Map<String, Double> m = fs.get(p.name).join();
                if (!p.alive()) died.add(p.name);
                Double a = m.get("parley_supernode_attached_clients");
                if (a == null) {
                    missed.incrementAndGet();
                    continue;
                }
                now.put(p.name, a);
                peak.merge(p.name, a, Math::max);
                samples.merge(p.name, 1, Integer::sum);
            }
            last = now;
        }

        void stop() throws InterruptedException {
            timer.shutdownNow();
            timer.awaitTermination(5, TimeUnit.SECONDS);
            http.shutdownNow();
        }
    }

    // ------------------------------------------------------------------ helpers

    interface Check {
        boolean ok() throws Exception;
    }

    static boolean await(Duration timeout, Check c) throws Exception {
        long end = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (c.ok()) return true;
            if (System.nanoTime() > end) return false;
            Thread.sleep(250);
        }
    }

    static boolean awaitOverlay(List<BenchNetwork.SupernodeProcess> sns, Duration timeout) throws Exception {
        return await(timeout, () -> sns.stream().allMatch(p -> p.metrics(Duration.ofSeconds(2))
                .getOrDefault("parley_overlay_contacts", -1.0) >= sns.size() - 1));
    }

    static Map<String, Double> gauge(List<BenchNetwork.SupernodeProcess> sns, String name) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (BenchNetwork.SupernodeProcess p : sns) out.put(p.name, p.metrics(Duration.ofSeconds(2)).getOrDefault(name, Double.NaN));
        return out;
    }

    private static Map<String, Integer> distribution(List<ClientState> states, List<BenchNetwork.SupernodeProcess> sns) {
        Map<String, Integer> out = new LinkedHashMap<>();
        for (BenchNetwork.SupernodeProcess p : sns) {
            out.put(p.name, (int) states.stream().filter(s -> p.hostPort().equals(s.address)).count());
        }
        return out;
    }

    private static double secondsSince(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    // ------------------------------------------------------------------ output

    static void print(Result r) {
        Config c = r.config();
        String pct = r.affected() == 0 ? "-" : String.format(Locale.ROOT, "%.0f%%", 100.0 * r.findableInTarget() / r.affected());
        Results.Table t = new Results.Table(String.format(Locale.ROOT,
                "drill: kill -9 %d of %d supernodes with %d clients attached (keepalive %d s + 3 s pong timeout)",
                c.kill(), c.supernodes(), c.clients(), c.keepalive().toSeconds()), "metric", "value");
        t.row("supernodes killed", String.join(", ", r.victims()))
                .row("clients per supernode before", r.before().toString())
                .row("clients affected", r.affected() + " of " + c.clients())
                .row("re-attached within 30 s", String.format(Locale.ROOT, "%d of %d (%d at all)", r.reattachedInTarget(), r.affected(), r.reattachedAtAll()))
                .row("findable within 30 s", String.format(Locale.ROOT, "%d of %d (%s; %d at all)", r.findableInTarget(), r.affected(), pct, r.findableAtAll()))
                .row("loss noticed p50 / p99 / max", r.detect().text())
                .row("re-attached p50 / p99 / max", r.reattach().text())
                .row("  of which after noticing p50 / p99 / max", r.afterNoticed().text())
                .row("record republished (ack) p50 / p99 / max", r.republish().text())
                .row("findable again p50 / p99 / max", r.findable().text())
                .row("failed attach attempts in the storm", String.format(Locale.ROOT, "%d (%d to a killed supernode; %d clients)",
                        r.stormDialFailures(), r.stormDialsToKilled(), r.triedKilled()))
                .row("redirects in the storm", r.stormRedirects())
                .row("unaffected clients that lost their link", r.unaffectedLost())
                .row("affected links that closed before the pong timeout", r.notSilent())
                .row("probe lookups: current / stale / not found / failed", String.format(Locale.ROOT, "%d: %d / %d / %d / %d",
                        r.probes(), r.probesCurrent(), r.probesStale(), r.probesNotFound(), r.probesFailed()))
                .row("lookups of unaffected users in the storm (failed)", r.backgroundLookups() + " (" + r.backgroundFailed() + ")")
                .row("after: clients attached to survivors", r.finalOnSurvivors() + " of " + c.clients())
                .row("after: sample lookups (failed)", r.finalLookups() + " (" + r.finalFailed() + ")")
                .row("record replicas before / after (min)", r.minReplicasBefore() + " / " + r.minReplicasAfter())
                .row("surviving supernode processes alive", r.survivorsAlive() ? "all" : "NO: a survivor died")
                .note("times from the kill (SIGKILL to all at once); 'noticed' = the Pong timeout fired (one ping per keepalive +-10%, answered within 3 s);")
                .note("'re-attached' = Welcome from a surviving supernode (after closing the dead link and trying the planner's candidates);")
                .note("'findable' = another client, attached to a surviving supernode,")
                .note("  resolves the user and gets a record naming the supernode the client is attached to now (probed every 200 ms)")
                .note("'stale' = the answer still named the killed supernode (the new record had not arrived there yet)")
                .note(String.format(Locale.ROOT, "setup: overlay complete in %.1f s, clients joined in %.1f s, resolvable %.1f s later (%d wrong at the first pass)",
                        r.overlaySeconds(), r.joinSeconds(), r.resolvableSeconds(), r.initialCheckFailures()))
                .note(String.format(Locale.ROOT, "target: 100%% of affected clients re-attached and findable within 30 s, no survivor died or went over capacity -> %s",
                        r.met() ? "MET" : "NOT MET"));
        for (String n : r.notes()) t.note("note: " + n);
        t.print();
        Results.Table s = new Results.Table("drill: surviving supernodes (metrics polled every 500 ms)", "supernode", "before",
                "peak", "after", "clients say", "capacity", "peak/capacity", "overlay contacts", "records", "overlay timeouts", "alive", "polls");
        for (SupernodeLoad l : r.survivors()) {
            s.row(l.name() + " " + l.address(), fmt(l.before()), fmt(l.peak()), fmt(l.after()), l.clientsAfter(), fmt(l.capacity()),
                    String.format(Locale.ROOT, "%.0f%%", 100 * l.peak() / l.capacity()), fmt(l.contactsAfter()), fmt(l.recordsAfter()),
                    fmt(l.overlayTimeouts()), l.alive() ? "yes" : "NO", l.samples());
        }
        s.note("before/peak/after: the supernode's parley_supernode_attached_clients gauge; 'clients say': bench clients attached there at the end");
        s.note(r.overCapacity() ? "a supernode went OVER its capacity" : "no supernode went over its capacity");
        s.print();
    }

    private static String fmt(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.0f", v);
    }

    static void write(Results results, Result r) {
        Config c = r.config();
        ObjectNode j = results.line("drill", "supernodes=" + c.supernodes() + ",kill=" + c.kill() + ",clients=" + c.clients());
        j.put("supernodes", c.supernodes());
        j.put("killed", c.kill());
        j.put("clients", c.clients());
        j.put("capacity", c.capacity());
        j.put("keepalive_s", c.keepalive().toSeconds());
        j.put("affected", r.affected());
        j.put("reattached_within_30s", r.reattachedInTarget());
        j.put("findable_within_30s", r.findableInTarget());
        j.put("reattached", r.reattachedAtAll());
        j.put("findable", r.findableAtAll());
        r.detect().into(j, "detect");
        r.reattach().into(j, "reattach");
        r.republish().into(j, "republish");
        r.findable().into(j, "findable");
        r.afterNoticed().into(j, "reattach_after_noticed");
        j.put("clients_that_tried_a_killed_supernode", r.triedKilled());
        j.put("links_closed_before_pong_timeout", r.notSilent());
        j.put("storm_attach_failures", r.stormDialFailures());
        j.put("storm_attach_failures_to_killed", r.stormDialsToKilled());
        j.put("storm_redirects", r.stormRedirects());
        j.put("unaffected_lost", r.unaffectedLost());
        j.put("probe_lookups", r.probes());
        j.put("probe_current", r.probesCurrent());
        j.put("probe_stale", r.probesStale());
        j.put("probe_not_found", r.probesNotFound());
        j.put("probe_failed", r.probesFailed());
        j.put("background_lookups", r.backgroundLookups());
        j.put("background_failed", r.backgroundFailed());
        j.put("final_on_survivors", r.finalOnSurvivors());
        j.put("final_lookups", r.finalLookups());
        j.put("final_lookups_failed", r.finalFailed());
        j.put("survivors_alive", r.survivorsAlive());
        j.put("over_capacity", r.overCapacity());
        j.put("replicas_min_before", r.minReplicasBefore());
        j.put("replicas_min_after", r.minReplicasAfter());
        j.put("overlay_s", Results.round(r.overlaySeconds(), 2));
        j.put("join_s", Results.round(r.joinSeconds(), 2));
        j.put("target_met", r.met());
        ObjectNode b = j.putObject("clients_before");
        r.before().forEach(b::put);
        ArrayNode v = j.putArray("victims");
        r.victims().forEach(v::add);
        ArrayNode sv = j.putArray("survivors");
        for (SupernodeLoad l : r.survivors()) {
            ObjectNode n = sv.addObject();
            n.put("name", l.name());
            n.put("before", l.before());
            n.put("peak", l.peak());
            n.put("after", l.after());
            n.put("capacity", l.capacity());
            n.put("overlay_contacts", l.contactsAfter());
            n.put("records", l.recordsAfter());
            n.put("overlay_timeouts", l.overlayTimeouts());
            n.put("clients_say_attached", l.clientsAfter());
            n.put("alive", l.alive());
        }
        ArrayNode notes = j.putArray("notes");
        r.notes().forEach(notes::add);
        results.write(j);
    }

    // ------------------------------------------------------------------ the clients

    /** N bench clients on one shared event loop group (no Fleet keepalive timer: each client runs its own loop). */
    static final class Swarm implements AutoCloseable {
        final List<BenchClient> clients;
        private final EventLoopGroup group;

        private Swarm(List<BenchClient> clients, EventLoopGroup group) {
            this.clients = clients;
            this.group = group;
        }

        static Swarm create(BenchNetwork net, int n, String prefix, int threads) throws Exception {
            List<BenchNetwork.Identity> ids;
            try (ExecutorService ex = Executors.newFixedThreadPool(Math.max(1, Runtime.getRuntime().availableProcessors()))) {
                List<CompletableFuture<BenchNetwork.Identity>> fs = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    String user = prefix + i;
                    fs.add(CompletableFuture.supplyAsync(() -> net.issue(user), ex));
                }
                ids = fs.stream().map(CompletableFuture::join).toList();
            }
            EventLoopGroup group = new MultiThreadIoEventLoopGroup(threads, EpollIoHandler.newFactory());
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            List<BenchClient> clients = new ArrayList<>(n);
            try {
                for (BenchNetwork.Identity id : ids) {
                    clients.add(BenchClient.bind(id, net.newVerifier(), group, registry, BenchClient.DAEMON_HANDSHAKE));
                }
            } catch (Exception e) {
                clients.forEach(BenchClient::close);
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
                throw e;
            }
            return new Swarm(Collections.unmodifiableList(clients), group);
        }

        @Override
        public void close() {
            try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
                for (BenchClient c : clients) ex.execute(c::close);
            }
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10_000);
        }
    }
}
