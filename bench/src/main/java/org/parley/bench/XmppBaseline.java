package org.parley.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * Scenario "baseline-xmpp": the route scenario's message/reply round trip through ejabberd, the server users
 * would typically self-host for 1:1 messaging instead. Two accounts (alice, bob) registered with ejabberdctl;
 * k pairs of sessions (alice/aJ, bob/bJ) exchange chat messages addressed to full JIDs: alice/aJ sends, bob/bJ
 * replies with a message of the same size, alice/aJ measures. Plain TCP and direct TLS. Reported next to the
 * Parley routed round trips of the same run, with ratios.
 */
final class XmppBaseline {
    record VariantResult(String variant, int pairs, Results.Summary summary, long timeouts) {}

    private static final long TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(5);

    private XmppBaseline() {}

    /** Returns null when skipped. */
    static List<VariantResult> run(Bench.Context ctx, List<RouteScenario.LevelResult> parley) throws Exception {
        String why = XmppServer.unavailableReason();
        if (why != null) {
            System.out.println("\nbaseline-xmpp: SKIPPED: " + why);
            ObjectNode j = ctx.results().line("baseline-xmpp", "skipped");
            j.put("skipped", why);
            ctx.results().write(j);
            return null;
        }
        String version = XmppServer.version();
        System.out.printf(Locale.ROOT, "%nbaseline-xmpp: starting a private %s on 127.0.0.1%n", version);
        long t0 = System.nanoTime();
        XmppServer server = XmppServer.start(ctx.cleanup());
        String alicePw = org.parley.identity.Keys.randomToken(12);
        String bobPw = org.parley.identity.Keys.randomToken(12);
        server.register("alice", alicePw);
        server.register("bob", bobPw);
        System.out.printf(Locale.ROOT, "  ejabberd started (pid %d, plain c2s :%d, TLS c2s :%d) and 2 accounts registered in %.1f s%n",
                server.pid(), server.plainPort, server.tlsPort, (System.nanoTime() - t0) / 1e9);

        List<VariantResult> out = new ArrayList<>();
        try {
            for (boolean tls : new boolean[] {true, false}) {
                out.addAll(runVariant(ctx, server, tls, alicePw, bobPw));
            }
        } finally {
            server.close();
        }

        Results.Table t = new Results.Table("baseline: 1:1 message -> reply round trips, Parley (supernode-routed) vs XMPP ("
                + version + "), same run", "pairs in flight", "system", "round trips/s", "p50 ms", "p99 ms",
                "rate vs XMPP-TLS", "p50 vs XMPP-TLS", "p99 vs XMPP-TLS");
        for (int k : ctx.options().pairs()) {
            VariantResult x = find(out, "tls", k);
            ObjectNode j = ctx.results().line("baseline-xmpp", "ratios,pairs=" + k);
            j.put("pairs_in_flight", k);
            for (String mode : new String[] {RouteScenario.SEALED, RouteScenario.OPAQUE}) {
                RouteScenario.LevelResult p = parley == null ? null : parley.stream()
                        .filter(l -> l.pairs() == k && l.mode().equals(mode)).findFirst().orElse(null);
                if (p != null) addRow(t, k, "Parley " + mode, p.summary(), x, j, "parley_" + mode.replace('-', '_'));
            }
            for (String v : new String[] {"tls", "plain"}) {
                VariantResult r = find(out, v, k);
                if (r != null) addRow(t, k, "XMPP " + (v.equals("tls") ? "TLS" : "plain TCP"), r.summary(), x, j, "xmpp_" + v);
            }
            ctx.results().write(j);
        }
        t.note("ratios = system / XMPP-TLS: rate > 1 means more round trips/s than ejabberd; p50/p99 < 1 means lower latency");
        t.note("Parley sealed: QUIC + TLS 1.3 with client certificates to the supernode, payload sealed end to end (ECDH + AES-GCM),");
        t.note("  sender certificate checked per message (verified once per peer, then cached, as ClientDaemon does); Parley relay-only: same path, opaque payload, no client crypto");
        t.note("XMPP: c2s over TCP (direct TLS 1.3, or plain), messages to full JIDs, no end-to-end encryption, modules: none (no offline store/archive)");
        t.print();
        return out;
    }

    private static void addRow(Results.Table t, int k, String system, Results.Summary s, VariantResult tls, ObjectNode j,
                               String key) {
        Results.Summary x = tls == null ? null : tls.summary();
        t.row(k, system, Results.num(s.perSecond()), Results.ms(s.p50Ms()), Results.ms(s.p99Ms()),
                x == null ? "-" : Results.ratio(s.perSecond(), x.perSecond()),
                x == null ? "-" : Results.ratio(s.p50Ms(), x.p50Ms()),
                x == null ? "-" : Results.ratio(s.p99Ms(), x.p99Ms()));
        j.put(key + "_per_s", Results.round(s.perSecond(), 1));
        j.put(key + "_p50_ms", Results.round(s.p50Ms(), 3));
        j.put(key + "_p99_ms", Results.round(s.p99Ms(), 3));
        if (x != null) {
            j.put(key + "_rate_vs_xmpp_tls", Results.round(s.perSecond() / x.perSecond(), 3));
            j.put(key + "_p50_vs_xmpp_tls", Results.round(s.p50Ms() / x.p50Ms(), 3));
            j.put(key + "_p99_vs_xmpp_tls", Results.round(s.p99Ms() / x.p99Ms(), 3));
        }
    }

    private static VariantResult find(List<VariantResult> l, String variant, int k) {
        return l.stream().filter(v -> v.variant().equals(variant) && v.pairs() == k).findFirst().orElse(null);
    }

    private static List<VariantResult> runVariant(Bench.Context ctx, XmppServer server, boolean tls, String alicePw,
                                                  String bobPw) throws Exception {
        String variant = tls ? "tls" : "plain";
        int port = tls ? server.tlsPort : server.plainPort;
        int maxK = ctx.options().pairs().stream().mapToInt(Integer::intValue).max().orElse(1);
        List<XmppClient> alice = new ArrayList<>();
        List<XmppClient> bob = new ArrayList<>();
        try {
            long t0 = System.nanoTime();
            connectAll(alice, maxK, port, tls, "alice", alicePw, "a");
            connectAll(bob, maxK, port, tls, "bob", bobPw, "b");
            System.out.printf(Locale.ROOT, "  %s: %d sessions logged in (SASL PLAIN + bind) in %.2f s%n", variant, 2 * maxK,
                    (System.nanoTime() - t0) / 1e9);
            for (XmppClient b : bob) {
                b.onMessage(m -> {
                    try {
                        b.send(m.from(), m.id(), m.body());
                    } catch (java.io.IOException e) {
                        // the timeout sweep accounts for it
                    }
                });
            }
            List<VariantResult> out = new ArrayList<>();
            for (int k : ctx.options().pairs()) {
                Results.Summary s;
                Loop loop = new Loop(alice.subList(0, k), bob.subList(0, k));
                s = loop.run(ctx.options().warmupSeconds(), ctx.options().seconds());
                VariantResult v = new VariantResult(variant, k, s, loop.timeouts.get());
                out.add(v);
                System.out.printf(Locale.ROOT, "  %s, %d pair(s): %s round trips/s, p50 %s ms, p99 %s ms, %d timeouts%n", variant,
                        k, Results.num(s.perSecond()), Results.ms(s.p50Ms()), Results.ms(s.p99Ms()), v.timeouts());
                ObjectNode j = ctx.results().line("baseline-xmpp", variant + ",pairs=" + k);
                j.put("server", XmppServer.version());
                j.put("transport", tls ? "TCP + TLS (direct TLS c2s)" : "TCP");
                j.put("pairs_in_flight", k);
                s.into(j);
                j.put("timeouts", v.timeouts());
                ctx.results().write(j);
            }
            return out;
        } finally {
            for (XmppClient c : alice) c.close();
            for (XmppClient c : bob) c.close();
        }
    }

    private static void connectAll(List<XmppClient> into, int n, int port, boolean tls, String user, String pw,
                                   String prefix) throws Exception {
        Semaphore limit = new Semaphore(16);
        try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<XmppClient>> fs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String res = prefix + i;
                fs.add(ex.submit(() -> {
                    limit.acquire();
                    try {
                        return XmppClient.connect("127.0.0.1", port, tls, XmppServer.DOMAIN, user, pw, res);
                    } finally {
                        limit.release();
                    }
                }));
            }
            for (Future<XmppClient> f : fs) into.add(f.get());
        }
    }

    /** Closed loop over k session pairs, like the route scenario's slots. */
    private static final class Loop {
        private final List<XmppClient> alice;
        private final List<XmppClient> bob;
        private final Map<String, long[]> inflight = new ConcurrentHashMap<>(); // id -> {slot, t0}
        private final AtomicLong seq = new AtomicLong();
        final AtomicLong timeouts = new AtomicLong();
        private final Histogram micros = new ConcurrentHistogram(3);
        private volatile boolean running = true;
        private volatile long measureFrom;
        private volatile long measureTo;

        Loop(List<XmppClient> alice, List<XmppClient> bob) {
            this.alice = alice;
            this.bob = bob;
        }

        Results.Summary run(int warmup, int seconds) throws InterruptedException {
            for (XmppClient a : alice) {
                a.onMessage(m -> {
                    long[] f = inflight.remove(m.id());
                    if (f == null) return;
                    long now = System.nanoTime();
                    if (f[1] >= measureFrom && now <= measureTo) micros.recordValue(Math.max(1, (now - f[1]) / 1000));
                    fire((int) f[0]);
                });
            }
            ScheduledExecutorService sweep = Executors.newSingleThreadScheduledExecutor();
            sweep.scheduleWithFixedDelay(() -> {
                long now = System.nanoTime();
                for (Map.Entry<String, long[]> e : inflight.entrySet()) {
                    if (now - e.getValue()[1] > TIMEOUT_NANOS && inflight.remove(e.getKey(), e.getValue())) {
                        timeouts.incrementAndGet();
                        fire((int) e.getValue()[0]);
                    }
                }
            }, 250, 250, TimeUnit.MILLISECONDS);
            try {
                long start = System.nanoTime();
                measureFrom = start + TimeUnit.SECONDS.toNanos(warmup);
                measureTo = measureFrom + TimeUnit.SECONDS.toNanos(seconds);
                for (int j = 0; j < alice.size(); j++) fire(j);
                long d;
                while ((d = measureTo - System.nanoTime()) > 0) Thread.sleep(Math.max(1, d / 1_000_000));
                running = false;
                long end = System.nanoTime() + TIMEOUT_NANOS;
                while (!inflight.isEmpty() && System.nanoTime() < end) Thread.sleep(20);
            } finally {
                sweep.shutdownNow();
            }
            return Results.Summary.of(micros, seconds);
        }

        private void fire(int slot) {
            if (!running) return;
            String id = "m" + seq.incrementAndGet();
            inflight.put(id, new long[] {slot, System.nanoTime()});
            try {
                alice.get(slot).send(bob.get(slot).jid(), id, RouteScenario.TEXT);
            } catch (java.io.IOException e) {
                // counted as a timeout by the sweep
            }
        }
    }
}
