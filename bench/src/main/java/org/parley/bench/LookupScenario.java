package org.parley.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;
import org.parley.protocol.Frame;
import org.parley.protocol.FrameCodec;

/**
 * Scenario "lookup": how many directory lookups one supernode answers per second. Three supernode processes form
 * the overlay (k = 8 > 3, so every supernode holds every record); U users attach (spread over the three), publish
 * their signed records and leave (records live 15 minutes). Then N bench clients attach to ONE supernode and keep
 * W Resolve requests each in flight (closed loop, pipelined on the control stream) for random published users:
 * answers per second and latency, bounded in count and time. The supernode runs with --lookup-rate 1,000,000 so
 * that its admission does not throttle. After the measured window a short profiling window (same load) records the
 * supernode with Java Flight Recorder; CPU per supernode thread comes from /proc. Then the same lookup pattern
 * against ejabberd: the same number of XMPP sessions pipelining vCard gets of random registered users.
 */
final class LookupScenario {
    static final double TARGET_PER_SECOND = 20_000;
    static final int OK = 0;
    static final int EMPTY = 1;
    static final int BUSY = 2;
    static final int ERROR = 3;

    private LookupScenario() {}

    record Config(int supernodes, int published, int clients, int window, int warmup, int seconds, int profileSeconds,
                  boolean xmpp, int benchThreads) {}

    /** One measured system. */
    record Measured(String system, Results.Summary latency, long sent, long busy, long errors, long empty, long unanswered,
                    double serverCores, double benchCores, Map<String, Double> serverThreads, double servedCounter,
                    int answerBytes) {
        double perSecond() {
            return latency.perSecond();
        }

        double serverMicrosPerLookup() {
            return latency.count() == 0 ? Double.NaN : serverCores * latency.seconds() * 1e6 / latency.count();
        }
    }

    /**
     * A closed-loop pipeline: every client keeps {@code window} requests in flight; each answer sends the next
     * request for a random user, until stopped or {@code maxRequests} were sent.
     */
    static final class Pipeline<C> {
        interface Sender<C> {
            boolean send(C client, long id, String user) throws Exception;
        }

        final List<C> clients;
        final String[] users;
        final int window;
        final long maxRequests;
        final Sender<C> sender;
        final AtomicLong ids = new AtomicLong(1_000_000_000L);
        final AtomicLong sent = new AtomicLong();
        final Map<Long, Long> inflight = new ConcurrentHashMap<>();
        final Histogram micros = new ConcurrentHistogram(3);
        final LongAdder inWindow = new LongAdder();
        final LongAdder busy = new LongAdder();
        final LongAdder errors = new LongAdder();
        final LongAdder empty = new LongAdder();
        volatile boolean running = true;
        volatile long from = Long.MAX_VALUE;
        volatile long to = Long.MAX_VALUE;

        Pipeline(List<C> clients, String[] users, int window, long maxRequests, Sender<C> sender) {
            this.clients = clients;
            this.users = users;
            this.window = window;
            this.maxRequests = maxRequests;
            this.sender = sender;
        }

        void start() {
            for (int w = 0; w < window; w++) for (C c : clients) next(c);
        }

        void next(C c) {
            if (!running) return;
            if (sent.incrementAndGet() > maxRequests) {
                running = false;
                return;
            }
            long id = ids.getAndIncrement();
            inflight.put(id, System.nanoTime());
            try {
                if (!sender.send(c, id, users[ThreadLocalRandom.current().nextInt(users.length)])) inflight.remove(id);
            } catch (Exception e) {
                inflight.remove(id);
                errors.increment();
            }
        }

        void answer(C c, long id, int kind, long now) {
            Long t0 = inflight.remove(id);
            if (t0 == null) return;
            if (now >= from && now < to) {
                switch (kind) {
                    case OK, EMPTY -> {
                        inWindow.increment();
                        micros.recordValue(Math.max(1, (now - t0) / 1000));
                    }
                    default -> { }
                }
            }
            switch (kind) {
                case EMPTY -> empty.increment();
                case BUSY -> busy.increment();
                case ERROR -> errors.increment();
                default -> { }
            }
            next(c);
        }

        /** Stops sending and waits up to {@code d} for the answers in flight; returns how many never came. */
        int drain(Duration d) throws InterruptedException {
            running = false;
            long end = System.nanoTime() + d.toNanos();
            while (!inflight.isEmpty() && System.nanoTime() < end) Thread.sleep(20);
            return inflight.size();
        }
    }

    static void run(Bench.Context ctx) throws Exception {
        Bench.Options o = ctx.options();
        Config cfg = new Config(o.supernodes() > 0 ? o.supernodes() : 3, o.published() > 0 ? o.published() : 1000,
                o.clientsGiven() ? o.clients() : 50, o.window() > 0 ? o.window() : 16, o.warmupSeconds(),
                Math.min(o.seconds(), 60), 6, !o.noXmpp(), o.benchThreads());
        Path dir = Files.createDirectories(ctx.tmp().resolve("lookup"));
        System.out.printf(Locale.ROOT, "%nlookup: %d supernode processes (--lookup-rate 1000000, no relay), %d published users; %d bench clients "
                        + "on sn1, %d Resolve in flight each; %d s warm-up, %d s measured, %d s profiled%n", cfg.supernodes(),
                cfg.published(), cfg.clients(), cfg.window(), cfg.warmup(), cfg.seconds(), cfg.profileSeconds());
        Measured parley;
        ProfileResult profile;
        BenchNetwork.Spec spec = new BenchNetwork.Spec(cfg.published() + cfg.clients() + 100, null, 1_000_000, 0, false);
        try (BenchNetwork net = BenchNetwork.startMany(dir, cfg.supernodes(), spec, ctx.cleanup())) {
            List<BenchNetwork.SupernodeProcess> sns = net.supernodes();
            boolean converged = DrillScenario.awaitOverlay(sns, Duration.ofSeconds(60));
            System.out.printf(Locale.ROOT, "  supernodes %s; overlay %s: contacts %s%n", sns, converged ? "complete" : "NOT complete",
                    DrillScenario.gauge(sns, "parley_overlay_contacts"));
            String[] users = publish(net, cfg);
            Object[] r = measureParley(ctx, net, cfg, users, dir);
            parley = (Measured) r[0];
            profile = (ProfileResult) r[1];
        }
        List<Measured> xmpp = new ArrayList<>();
        String xmppSkipped = null;
        if (!cfg.xmpp()) {
            xmppSkipped = "--no-xmpp";
        } else if (XmppServer.unavailableReason() != null) {
            xmppSkipped = XmppServer.unavailableReason();
        } else {
            try {
                xmpp = measureXmpp(ctx, cfg, parley.answerBytes());
            } catch (Exception e) {
                xmppSkipped = "ejabberd run failed: " + Fleet.rootMessage(e);
                System.out.println("  " + xmppSkipped);
            }
        }
        report(ctx, cfg, parley, profile, xmpp, xmppSkipped);
    }

    // ------------------------------------------------------------------ Parley

    /** U users attach (round-robin over the supernodes), publish their records and leave; returns their names. */
    private static String[] publish(BenchNetwork net, Config cfg) throws Exception {
        List<BenchNetwork.SupernodeProcess> sns = net.supernodes();
        long t0 = System.nanoTime();
        String[] users = new String[cfg.published()];
        try (DrillScenario.Swarm pubs = DrillScenario.Swarm.create(net, cfg.published(), "p", cfg.benchThreads())) {
            Semaphore inFlight = new Semaphore(32);
            AtomicInteger ok = new AtomicInteger();
            List<String> errors = new ArrayList<>();
            for (int attempt = 0; attempt < 3; attempt++) {
                List<BenchClient> todo = pubs.clients.stream().filter(c -> !c.attached()).toList();
                if (attempt > 0 && todo.isEmpty()) break;
                List<java.util.concurrent.CompletableFuture<?>> fs = new ArrayList<>();
                for (int i = 0; i < pubs.clients.size(); i++) {
                    BenchClient c = pubs.clients.get(i);
                    if (attempt > 0 && !todo.contains(c)) continue;
                    if (attempt > 0) c.detach();
                    inFlight.acquire();
                    fs.add(c.attach(sns.get(i % sns.size()).address, Duration.ofSeconds(15))
                            .thenCompose(x -> c.publish())
                            .whenComplete((p, e) -> {
                                inFlight.release();
                                if (e == null && p.replicas() > 0) ok.incrementAndGet();
                                else if (e != null) {
                                    synchronized (errors) {
                                        if (errors.size() < 5) errors.add(Fleet.rootMessage(e));
                                    }
                                }
                            }));
                }
                java.util.concurrent.CompletableFuture.allOf(fs.toArray(java.util.concurrent.CompletableFuture[]::new))
                        .exceptionally(x -> null).get(300, TimeUnit.SECONDS);
                if (ok.get() >= cfg.published()) break;
            }
            for (int i = 0; i < users.length; i++) users[i] = pubs.clients.get(i).id.user();
            boolean all = DrillScenario.await(Duration.ofSeconds(60), () -> sns.stream().allMatch(p ->
                    p.metrics(Duration.ofSeconds(2)).getOrDefault("parley_overlay_records", 0.0) >= cfg.published()));
            System.out.printf(Locale.ROOT, "  %d of %d users attached and published in %.1f s; records per supernode %s%s%n",
                    ok.get(), cfg.published(), (System.nanoTime() - t0) / 1e9, DrillScenario.gauge(sns, "parley_overlay_records"),
                    errors.isEmpty() ? "" : " (errors: " + errors + ")");
            if (!all) System.out.println("  warning: not every supernode holds every record");
        }
        System.out.println("  the publishing clients left; their records stay in the overlay until they expire (15 min)");
        return users;
    }

    record ProfileResult(Map<String, Profiler.Group> groups, Map<String, Double> threads, double seconds, String error) {}

    private static Object[] measureParley(Bench.Context ctx, BenchNetwork net, Config cfg, String[] users, Path dir) throws Exception {
        BenchNetwork.SupernodeProcess target = net.supernodes().get(0);
        long pid = target.pid();
        ScheduledExecutorService pinger = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "lookup-keepalive");
            t.setDaemon(true);
            return t;
        });
        try (DrillScenario.Swarm swarm = DrillScenario.Swarm.create(net, cfg.clients(), "q", cfg.benchThreads())) {
            List<BenchClient> clients = swarm.clients;
            Semaphore inFlight = new Semaphore(32);
            List<java.util.concurrent.CompletableFuture<Long>> fs = new ArrayList<>();
            for (BenchClient c : clients) {
                inFlight.acquire();
                fs.add(c.attach(target.address, Duration.ofSeconds(15)).whenComplete((x, e) -> inFlight.release()));
            }
            for (var f : fs) f.exceptionally(e -> -1L).join();
            List<BenchClient> attached = clients.stream().filter(BenchClient::attached).toList();
            System.out.printf(Locale.ROOT, "  %d of %d lookup clients attached to %s%n", attached.size(), clients.size(), target);
            if (attached.isEmpty()) throw new IllegalStateException("lookup: no client attached");
            pinger.scheduleAtFixedRate(() -> attached.forEach(BenchClient::ping), 5, 5, TimeUnit.SECONDS);

            // one lookup by hand: the answer is right, and its size on the wire
            Frame.Resolved first = attached.get(0).resolve(users[0]).get(10, TimeUnit.SECONDS);
            if (first.devices().isEmpty()) throw new IllegalStateException("lookup: " + users[0] + " is not found at " + target);
            int answerBytes = FrameCodec.encode(first).length;

            long maxRequests = 150_000L * (cfg.warmup() + cfg.seconds() + cfg.profileSeconds() + 5);
            Pipeline<BenchClient> p = new Pipeline<>(attached, users, cfg.window(), maxRequests, (c, id, u) -> c.resolveAsync(id, u));
            BenchClient.Listener l = new BenchClient.Listener() {
                @Override public void deliver(BenchClient to, Frame.Deliver d) { }
                @Override public void routed(BenchClient c, Frame.Routed r) { }
                @Override public void error(BenchClient c, Frame.Error e) {
                    p.answer(c, e.requestId(), ERROR, System.nanoTime());
                }
                @Override public void resolved(BenchClient c, Frame.Resolved r) {
                    p.answer(c, r.requestId(), r.devices().isEmpty() ? EMPTY : OK, System.nanoTime());
                }
                @Override public void busy(BenchClient c, Frame.Busy b) {
                    p.answer(c, b.requestId(), BUSY, System.nanoTime());
                }
            };
            for (BenchClient c : attached) c.listener = l;
            long self = ProcessHandle.current().pid();
            long start = System.nanoTime();
            p.from = start + TimeUnit.SECONDS.toNanos(cfg.warmup());
            p.to = p.from + TimeUnit.SECONDS.toNanos(cfg.seconds());
            p.start();
            sleepUntil(p.from);
            double served0 = target.metric("parley_supernode_lookups_total");
            Map<String, Long> th0 = Profiler.threadCpuMillis(pid);
            long cpu0 = Probe.cpuMillis(pid);
            long bcpu0 = Probe.cpuMillis(self);
            sleepUntil(p.to);
            long cpu1 = Probe.cpuMillis(pid);
            long bcpu1 = Probe.cpuMillis(self);
            Map<String, Long> th1 = Profiler.threadCpuMillis(pid);
            double served1 = target.metric("parley_supernode_lookups_total");
            double seconds = cfg.seconds();
            Results.Summary sum = Results.Summary.of(p.micros, seconds);
            System.out.printf(Locale.ROOT, "  Parley: %s lookups/s answered by %s, p50 %s ms, p99 %s ms; supernode CPU %.2f cores%n",
                    Results.num(sum.perSecond()), target.name, Results.ms(sum.p50Ms()), Results.ms(sum.p99Ms()), (cpu1 - cpu0) / 1000.0 / seconds);

            // profiling window: same load, JFR in the supernode and CPU per thread
            ProfileResult prof;
            Path jfr = dir.resolve("supernode-lookup.jfr");
            try {
                Map<String, Long> pt0 = Profiler.threadCpuMillis(pid);
                long q0 = System.nanoTime();
                Profiler.startJfr(pid, "benchlookup", jfr);
                Thread.sleep(TimeUnit.SECONDS.toMillis(cfg.profileSeconds()));
                Profiler.stopJfr(pid, "benchlookup");
                double qs = (System.nanoTime() - q0) / 1e9;
                Map<String, Long> pt1 = Profiler.threadCpuMillis(pid);
                prof = new ProfileResult(Profiler.samples(jfr), Profiler.cores(pt0, pt1, qs), qs, null);
                Path keep = ctx.results().file().toAbsolutePath().resolveSibling("supernode-lookup.jfr");
                Files.copy(jfr, keep, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            } catch (Exception e) {
                prof = new ProfileResult(Map.of(), Map.of(), 0, Fleet.rootMessage(e));
            }
            int unanswered = p.drain(Duration.ofSeconds(5));
            for (BenchClient c : attached) c.listener = null;
            Measured m = new Measured("Parley supernode (QUIC + TLS 1.3)", sum, p.sent.get(), p.busy.sum(), p.errors.sum(),
                    p.empty.sum(), unanswered, (cpu1 - cpu0) / 1000.0 / seconds, (bcpu1 - bcpu0) / 1000.0 / seconds,
                    Profiler.cores(th0, th1, seconds), served1 - served0, answerBytes);
            if (!target.alive()) System.out.println("  warning: the supernode process exited during the run");
            return new Object[] {m, prof};
        } finally {
            pinger.shutdownNow();
        }
    }

    // ------------------------------------------------------------------ ejabberd

    private static List<Measured> measureXmpp(Bench.Context ctx, Config cfg, int parleyAnswerBytes) throws Exception {
        String version = XmppServer.version();
        System.out.printf(Locale.ROOT, "%n  baseline: a private %s with mod_vcard (mnesia) on 127.0.0.1%n", version);
        long t0 = System.nanoTime();
        List<Measured> out = new ArrayList<>();
        try (XmppDirectory server = XmppDirectory.start(ctx.cleanup())) {
            String password = org.parley.identity.Keys.randomToken(12);
            List<String> names = new ArrayList<>();
            for (int i = 0; i < cfg.published(); i++) names.add("p" + i);
            // a vCard about as large on the wire as Parley's answer (one signed device record with its certificate)
            int descLen = Math.max(16, parleyAnswerBytes - 150);
            byte[] raw = new byte[descLen * 3 / 4];
            ThreadLocalRandom.current().nextBytes(raw);
            String desc = java.util.Base64.getEncoder().encodeToString(raw);
            server.registerWithVcards(names, password, desc);
            System.out.printf(Locale.ROOT, "  ejabberd started (pid %d) and %d users registered with a %d-byte vCard DESC in %.1f s%n",
                    server.pid(), names.size(), desc.length(), (System.nanoTime() - t0) / 1e9);
            String[] users = names.toArray(String[]::new);
            for (boolean tls : new boolean[] {true, false}) {
                out.add(measureXmppVariant(cfg, server, tls, users, password));
            }
        }
        return out;
    }

    private static Measured measureXmppVariant(Config cfg, XmppDirectory server, boolean tls, String[] users, String password)
            throws Exception {
        int port = tls ? server.tlsPort : server.plainPort;
        List<XmppDirectory.Session> sessions = new ArrayList<>();
        try {
            for (int i = 0; i < cfg.clients(); i++) {
                sessions.add(XmppDirectory.Session.connect(port, tls, users[i % users.length], password, "lookup" + i));
            }
            long maxRequests = 150_000L * (cfg.warmup() + cfg.seconds() + 5);
            Pipeline<XmppDirectory.Session> p = new Pipeline<>(sessions, users, cfg.window(), maxRequests, (s, id, u) -> {
                s.vcardGet(u, "q" + id);
                return true;
            });
            for (XmppDirectory.Session s : sessions) {
                s.listener = (sess, id, result, nanos) -> {
                    if (!id.startsWith("q")) return;
                    try {
                        p.answer(sess, Long.parseLong(id.substring(1)), result ? OK : ERROR, nanos);
                    } catch (NumberFormatException ignored) {
                        // not ours
                    }
                };
            }
            long pid = server.pid();
            long self = ProcessHandle.current().pid();
            long start = System.nanoTime();
            p.from = start + TimeUnit.SECONDS.toNanos(cfg.warmup());
            p.to = p.from + TimeUnit.SECONDS.toNanos(cfg.seconds());
            p.start();
            sleepUntil(p.from);
            long cpu0 = Probe.cpuMillis(pid);
            long bcpu0 = Probe.cpuMillis(self);
            sleepUntil(p.to);
            long cpu1 = Probe.cpuMillis(pid);
            long bcpu1 = Probe.cpuMillis(self);
            int unanswered = p.drain(Duration.ofSeconds(5));
            double seconds = cfg.seconds();
            Results.Summary sum = Results.Summary.of(p.micros, seconds);
            String name = "ejabberd vCard get (" + (tls ? "TLS" : "plain TCP") + ")";
            System.out.printf(Locale.ROOT, "  %s: %s lookups/s, p50 %s ms, p99 %s ms; ejabberd CPU %.2f cores%n", name,
                    Results.num(sum.perSecond()), Results.ms(sum.p50Ms()), Results.ms(sum.p99Ms()), (cpu1 - cpu0) / 1000.0 / seconds);
            return new Measured(name, sum, p.sent.get(), p.busy.sum(), p.errors.sum(), p.empty.sum(), unanswered,
                    cpu0 < 0 ? Double.NaN : (cpu1 - cpu0) / 1000.0 / seconds, (bcpu1 - bcpu0) / 1000.0 / seconds, Map.of(), Double.NaN, 0);
        } finally {
            for (XmppDirectory.Session s : sessions) s.close();
        }
    }

    // ------------------------------------------------------------------ report

    private static void report(Bench.Context ctx, Config cfg, Measured parley, ProfileResult profile, List<Measured> xmpp,
                               String xmppSkipped) {
        Measured xtls = xmpp.stream().filter(m -> m.system().contains("TLS")).findFirst().orElse(null);
        Results.Table t = new Results.Table(String.format(Locale.ROOT,
                "lookup: directory lookups answered by one server, %d clients x %d in flight, %d s measured after %d s warm-up",
                cfg.clients(), cfg.window(), cfg.seconds(), cfg.warmup()),
                "system", "lookups/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "server CPU cores", "server us/lookup",
                "bench CPU cores", "busy/err/empty/lost", "rate vs XMPP-TLS");
        List<Measured> all = new ArrayList<>();
        all.add(parley);
        all.addAll(xmpp);
        for (Measured m : all) {
            Results.Summary s = m.latency();
            t.row(m.system(), Results.num(s.perSecond()), Results.ms(s.p50Ms()), Results.ms(s.p90Ms()), Results.ms(s.p99Ms()),
                    Results.ms(s.maxMs()), String.format(Locale.ROOT, "%.2f", m.serverCores()),
                    String.format(Locale.ROOT, "%.0f", m.serverMicrosPerLookup()), String.format(Locale.ROOT, "%.2f", m.benchCores()),
                    m.busy() + "/" + m.errors() + "/" + m.empty() + "/" + m.unanswered(),
                    xtls == null ? "-" : Results.ratio(s.perSecond(), xtls.perSecond()));
        }
        t.note(String.format(Locale.ROOT, "Parley: Resolve -> Resolved on the client's control stream (one QUIC connection per client), %d published users,"
                + " answer %d bytes (one signed device record with its certificate); --lookup-rate 1000000", cfg.published(), parley.answerBytes()));
        t.note(String.format(Locale.ROOT, "the supernode's own lookup counter rose by %.0f in the measured window (%s/s)",
                parley.servedCounter(), Results.num(parley.servedCounter() / cfg.seconds())));
        if (xmppSkipped != null) t.note("XMPP comparison skipped: " + xmppSkipped);
        else t.note("XMPP: iq get vcard-temp to a random user@localhost (mod_vcard, mnesia), same sessions x in-flight, vCard DESC sized like Parley's answer");
        t.note("all load generators share the 2 cores with the server they measure (bench CPU column); loadavg "
                + String.format(Locale.ROOT, "%.2f", Probe.loadAverage()));
        t.note(String.format(Locale.ROOT, "target: >= %,.0f lookups/s from one supernode on loopback -> %s (%s/s)",
                TARGET_PER_SECOND, parley.perSecond() >= TARGET_PER_SECOND ? "MET" : "NOT MET", Results.num(parley.perSecond())));
        t.print();

        Results.Table th = new Results.Table("lookup: supernode CPU per thread in the measured window (from /proc, cores)", "thread", "cores");
        parley.serverThreads().entrySet().stream().limit(10).forEach(e -> th.row(e.getKey(),
                String.format(Locale.ROOT, "%.2f", e.getValue())));
        th.note("supernode-overlay runs every Resolve (DirectoryService.resolve -> OverlayNode.findUser); multiThreadIoEventLoop* are the");
        th.note("QUIC event loops (2 threads: decode, TLS/QUIC crypto, UDP I/O, and the write of every answer)");
        th.print();

        if (profile.error() != null) {
            System.out.println("  profile: not available: " + profile.error());
        } else {
            for (Profiler.Group g : profile.groups().values()) {
                if (g.samples < 20) continue;
                Results.Table p = new Results.Table(String.format(Locale.ROOT, "lookup profile: %s, %d JFR execution samples in %.0f s (Java code only)",
                        g.name, g.samples, profile.seconds()), "where", "samples", "share");
                for (var e : Profiler.Group.top(g.self, 12)) p.row("self: " + e.getKey(), e.getValue(), Profiler.pct(e.getValue(), g.samples));
                for (var e : Profiler.Group.top(g.parley, 8)) p.row("innermost Parley frame: " + e.getKey(), e.getValue(), Profiler.pct(e.getValue(), g.samples));
                p.print();
            }
            System.out.println("  JFR recording kept as " + ctx.results().file().toAbsolutePath().resolveSibling("supernode-lookup.jfr")
                    + " (open with 'jfr print --events jdk.ExecutionSample' or JDK Mission Control)");
        }

        for (Measured m : all) {
            ObjectNode j = ctx.results().line("lookup", m == parley ? "parley" : m.system().contains("TLS") ? "xmpp-tls" : "xmpp-plain");
            j.put("system", m.system());
            j.put("clients", cfg.clients());
            j.put("in_flight_per_client", cfg.window());
            j.put("published_users", cfg.published());
            j.put("supernodes", cfg.supernodes());
            m.latency().into(j);
            j.put("sent", m.sent());
            j.put("busy", m.busy());
            j.put("errors", m.errors());
            j.put("empty", m.empty());
            j.put("unanswered", m.unanswered());
            j.put("server_cpu_cores", Results.round(m.serverCores(), 3));
            j.put("server_us_per_lookup", Results.round(m.serverMicrosPerLookup(), 1));
            j.put("bench_cpu_cores", Results.round(m.benchCores(), 3));
            j.put("warmup_s", cfg.warmup());
            if (m == parley) {
                j.put("answer_bytes", m.answerBytes());
                j.put("supernode_lookup_counter_delta", m.servedCounter());
                j.put("target_per_s", TARGET_PER_SECOND);
                j.put("target_met", m.perSecond() >= TARGET_PER_SECOND);
                ObjectNode tj = j.putObject("supernode_thread_cores");
                m.serverThreads().forEach((k, v) -> tj.put(k, Results.round(v, 3)));
                if (xtls != null) j.put("rate_vs_xmpp_tls", Results.round(m.perSecond() / xtls.perSecond(), 3));
                if (xmppSkipped != null) j.put("xmpp_skipped", xmppSkipped);
                if (profile.error() == null) {
                    ObjectNode pj = j.putObject("profile");
                    for (Profiler.Group g : profile.groups().values()) {
                        ObjectNode gj = pj.putObject(g.name);
                        gj.put("samples", g.samples);
                        ObjectNode sj = gj.putObject("top_self");
                        for (var e : Profiler.Group.top(g.self, 10)) sj.put(e.getKey(), e.getValue());
                        ObjectNode rj = gj.putObject("top_parley");
                        for (var e : Profiler.Group.top(g.parley, 8)) rj.put(e.getKey(), e.getValue());
                    }
                    ObjectNode ptj = pj.putObject("thread_cores");
                    profile.threads().forEach((k, v) -> ptj.put(k, Results.round(v, 3)));
                }
            }
            ctx.results().write(j);
        }
    }

    private static void sleepUntil(long nanos) throws InterruptedException {
        long d;
        while ((d = nanos - System.nanoTime()) > 0) Thread.sleep(Math.max(1, Math.min(200, d / 1_000_000)));
    }
}
