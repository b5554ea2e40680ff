package org.parley.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;
import org.parley.app.DemoNetwork;
import org.parley.client.ClientDaemon;
import org.parley.client.StoredMessage;

/**
 * Scenario "e2e": real client daemons of a {@link DemoNetwork} (login server, supernode and daemons in this
 * JVM, SQLite stores on disk). A sender calls {@link ClientDaemon#send} and waits for its "delivered" event,
 * which is emitted after the recipient stored the message durably, acknowledged it, and the sender recorded
 * the acknowledgement in its own store. Run with direct sessions on (peer-to-peer QUIC) and off (relayed
 * through the supernode).
 */
final class E2eScenario {
    static final double TARGET_P99_MS = 10.0;
    private static final long MESSAGE_TIMEOUT_MS = 10_000;

    private E2eScenario() {}

    record ModeResult(String mode, int pairs, Results.Summary summary, Results.Summary sendCall, long timeouts,
                      long direct, long relayed) {}

    static List<ModeResult> run(Bench.Context ctx) throws Exception {
        int users = ctx.options().users();
        if (users < 2 || users % 2 != 0) throw new IllegalArgumentException("--users must be an even number >= 2");
        List<ModeResult> out = new ArrayList<>();
        for (boolean direct : new boolean[] {true, false}) out.addAll(runMode(ctx, users, direct));

        Results.Table t = new Results.Table("e2e: ClientDaemon.send -> 'delivered' event at the sender (" + users
                + " daemons, durable SQLite commits on both sides)",
                "path", "pairs", "msgs/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "timeouts", "send() p50 ms", "path check");
        for (ModeResult r : out) {
            Results.Summary s = r.summary();
            t.row(r.mode(), r.pairs(), Results.num(s.perSecond()), Results.ms(s.p50Ms()), Results.ms(s.p90Ms()),
                    Results.ms(s.p99Ms()), Results.ms(s.maxMs()), r.timeouts(), Results.ms(r.sendCall().p50Ms()),
                    r.direct() + " direct / " + r.relayed() + " relayed");
        }
        boolean allMet = out.stream().allMatch(r -> r.summary().p99Ms() < TARGET_P99_MS);
        for (ModeResult r : out) {
            t.note(String.format(Locale.ROOT, "target p99 < %.0f ms on loopback, %s, %d pair(s): %s (p99 %s ms)", TARGET_P99_MS,
                    r.mode(), r.pairs(), r.summary().p99Ms() < TARGET_P99_MS ? "MET" : "NOT MET", Results.ms(r.summary().p99Ms())));
        }
        t.note("target overall: " + (allMet ? "MET" : "NOT MET"));
        t.print();
        return out;
    }

    private static List<ModeResult> runMode(Bench.Context ctx, int users, boolean direct) throws Exception {
        String mode = direct ? "direct" : "relayed";
        Path dir = Files.createDirectories(ctx.tmp().resolve("e2e-" + mode));
        Cleanup.Handle dh = ctx.cleanup().folder(dir);
        List<String> names = new ArrayList<>();
        for (int i = 0; i < users; i++) names.add(String.format(Locale.ROOT, "user%02d", i));
        System.out.printf(Locale.ROOT, "%ne2e (%s): starting a demo network with %d client daemons in %s%n", mode, users, dir);
        DemoNetwork net = DemoNetwork.start(dir, names, direct);
        Cleanup.Handle nh = ctx.cleanup().add("demo network " + mode, net::close);
        try {
            if (!net.awaitAttached(Duration.ofSeconds(30))) throw new IllegalStateException("daemons did not attach within 30 s");
            int half = users / 2;
            List<Sender> senders = new ArrayList<>();
            for (int i = 0; i < half; i++) {
                senders.add(new Sender(net.client(names.get(i)), names.get(i + half)));
            }
            // warm-up: first messages resolve the peer and (direct mode) open the direct sessions
            long warmEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(Math.max(3, ctx.options().warmupSeconds()));
            boolean sessions = !direct;
            while (System.nanoTime() < warmEnd || (!sessions && System.nanoTime() < warmEnd + TimeUnit.SECONDS.toNanos(20))) {
                for (Sender s : senders) s.roundTrip(null, null, null);
                if (direct && !sessions) {
                    sessions = senders.stream().allMatch(s -> s.daemon.status().sessions().stream()
                            .anyMatch(i -> i.user().equals(s.to)));
                }
            }
            if (direct && !sessions) System.out.println("  warning: not every pair has a direct session after warm-up");

            List<ModeResult> out = new ArrayList<>();
            for (int pairs : half == 1 ? new int[] {1} : new int[] {1, half}) {
                out.add(measure(ctx, mode, senders.subList(0, pairs)));
            }
            return out;
        } finally {
            nh.close();
            dh.close();
        }
    }

    private static ModeResult measure(Bench.Context ctx, String mode, List<Sender> senders) throws Exception {
        int seconds = ctx.options().seconds();
        Histogram h = new ConcurrentHistogram(3);
        Histogram sendCall = new ConcurrentHistogram(3);
        AtomicLong timeouts = new AtomicLong();
        java.util.Set<String> ids = ConcurrentHashMap.newKeySet();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        List<Thread> threads = new ArrayList<>();
        for (Sender s : senders) {
            threads.add(Thread.ofVirtual().start(() -> {
                while (System.nanoTime() < end) {
                    try {
                        String id = s.roundTrip(h, sendCall, timeouts);
                        if (id != null) ids.add(id);
                    } catch (Exception e) {
                        timeouts.incrementAndGet();
                    }
                }
            }));
        }
        for (Thread t : threads) t.join();
        // which path did the measured messages take? (the sender's row records how it was acknowledged)
        long direct = 0;
        long relayed = 0;
        for (Sender s : senders) {
            for (StoredMessage m : s.daemon.history(s.to, 10_000)) {
                if (!StoredMessage.DELIVERED.equals(m.state()) || !ids.contains(m.id())) continue;
                if ("direct".equals(m.path())) direct++;
                else relayed++;
            }
        }
        Results.Summary sum = Results.Summary.of(h, seconds);
        Results.Summary sc = Results.Summary.of(sendCall, seconds);
        ModeResult r = new ModeResult(mode, senders.size(), sum, sc, timeouts.get(), direct, relayed);
        System.out.printf(Locale.ROOT, "  %s, %d pair(s): %s msgs/s, p50 %s ms, p99 %s ms (%d direct, %d relayed)%n", mode,
                senders.size(), Results.num(sum.perSecond()), Results.ms(sum.p50Ms()), Results.ms(sum.p99Ms()), direct, relayed);
        ObjectNode j = ctx.results().line("e2e", mode + ",pairs=" + senders.size());
        j.put("path", mode);
        j.put("pairs", senders.size());
        j.put("daemons", ctx.options().users());
        sum.into(j);
        j.put("timeouts", r.timeouts());
        j.put("send_call_p50_ms", Results.round(sc.p50Ms(), 3));
        j.put("send_call_p99_ms", Results.round(sc.p99Ms(), 3));
        j.put("acknowledged_direct", direct);
        j.put("acknowledged_relayed", relayed);
        j.put("target_p99_ms", TARGET_P99_MS);
        j.put("target_met", sum.p99Ms() < TARGET_P99_MS);
        ctx.results().write(j);
        return r;
    }

    /** One sending daemon and its peer; closed loop: send, wait for "delivered", repeat. */
    private static final class Sender {
        final ClientDaemon daemon;
        final String to;
        final Map<String, CompletableFuture<Long>> delivered = new ConcurrentHashMap<>();

        Sender(ClientDaemon daemon, String to) {
            this.daemon = daemon;
            this.to = to;
            daemon.addListener(e -> {
                if (e instanceof ClientDaemon.Event.Delivered d) {
                    long now = System.nanoTime();
                    for (String id : d.ids()) delivered.computeIfAbsent(id, k -> new CompletableFuture<>()).complete(now);
                }
            });
        }

        /** Sends one message and waits for its acknowledgement; records latency unless {@code h} is null. */
        String roundTrip(Histogram h, Histogram sendCall, AtomicLong timeouts) throws Exception {
            long t0 = System.nanoTime();
            StoredMessage m = daemon.send(to, RouteScenario.TEXT);
            long t1 = System.nanoTime();
            CompletableFuture<Long> f = delivered.computeIfAbsent(m.id(), k -> new CompletableFuture<>());
            try {
                long at = f.get(MESSAGE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
                if (h != null) {
                    h.recordValue(Math.max(1, (at - t0) / 1000));
                    sendCall.recordValue(Math.max(1, (t1 - t0) / 1000));
                }
                return m.id();
            } catch (TimeoutException e) {
                if (timeouts != null) timeouts.incrementAndGet();
                return null;
            } finally {
                delivered.remove(m.id());
            }
        }
    }
}
