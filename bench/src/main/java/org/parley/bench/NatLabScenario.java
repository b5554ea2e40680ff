package org.parley.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Time to first message and to a ready peer session for every NAT pair of the lab, over repeated rounds.
 * Each round restarts every client daemon on fresh ports, so each session starts from cold NAT state.
 */
final class NatLabScenario {
    private NatLabScenario() {}

    record Sample(long readyMs, long deliveredMs, String path) {}

    static final Duration SETTLE = Duration.ofSeconds(5);

    static void run(Bench.Context ctx) throws Exception {
        Path root = NatLab.findRoot();
        Optional<String> why = NatLab.unavailable(root);
        if (why.isPresent()) {
            System.out.println("\nnatlab: skipped: " + why.get());
            return;
        }
        int rounds = ctx.options().rounds();
        System.out.printf("%nnatlab: %d rounds over %d NAT pairs (each round restarts the 10 daemons on fresh ports)%n",
                rounds, NatLab.matrix().size());
        Map<NatLab.Pair, List<Sample>> samples = new LinkedHashMap<>();
        try (NatLab lab = new NatLab(root, ctx.tmp().resolve("natlab"))) {
            lab.start();
            for (int r = 0; r < rounds; r++) {
                if (r > 0) lab.restartClients();
                Thread.sleep(SETTLE.toMillis()); // let ten freshly started JVMs finish starting up
                for (NatLab.Pair p : NatLab.matrix()) {
                    samples.computeIfAbsent(p, k -> new ArrayList<>()).add(one(lab, p, r));
                }
                System.out.printf("  round %d/%d done%n", r + 1, rounds);
            }
        }
        Results.Table t = new Results.Table("time to first message and to a ready session per NAT pair (ms)",
                "pair", "expected", "paths seen", "runs", "ready p50", "ready p95", "delivered p50", "delivered p95");
        for (var e : samples.entrySet()) {
            NatLab.Pair p = e.getKey();
            List<Sample> ok = e.getValue().stream().filter(s -> s.readyMs() >= 0).toList();
            List<Long> ready = ok.stream().map(Sample::readyMs).sorted().toList();
            List<Long> delivered = ok.stream().map(Sample::deliveredMs).sorted().toList();
            String paths = String.join(",", e.getValue().stream().map(Sample::path).distinct().toList());
            t.row(p.toString(), p.expected(), paths, ok.size() + "/" + e.getValue().size(), pct(ready, 50), pct(ready, 95),
                    pct(delivered, 50), pct(delivered, 95));
            ctx.results().write(ctx.results().line("natlab", p.toString(), Map.of(
                    "expected", p.expected(), "paths", paths, "runs", e.getValue().size(), "ok", ok.size(),
                    "ready_p50_ms", pct(ready, 50), "ready_p95_ms", pct(ready, 95),
                    "delivered_p50_ms", pct(delivered, 50), "delivered_p95_ms", pct(delivered, 95),
                    "ready_ms", ready, "delivered_ms", delivered)));
        }
        t.note("ready: from the first message's send to the peer session on its final path (direct or relayed);");
        t.note("delivered: from send until the sender saw the acknowledgement (polled every 100 ms through curl, an upper bound);");
        t.note("the first message does not wait for the session: it goes sealed through the supernode meanwhile;");
        t.note("daemons run with -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx160m (ten JVMs on two cores), 5 s after their start.");
        t.print();
    }

    private static Sample one(NatLab lab, NatLab.Pair p, int round) {
        try {
            JsonNode m = lab.send(p.a(), p.b(), "round " + round);
            long sent = m.path("sentAtMillis").asLong();
            lab.awaitDelivered(p.a(), p.b(), m.path("id").asText(), Duration.ofSeconds(30));
            long delivered = System.currentTimeMillis() - sent;
            NatLab.await(Duration.ofSeconds(20), p + " on " + p.expected(),
                    () -> NatLab.onPath(p.expected()).test(lab.session(p.a(), p.b())));
            JsonNode s = lab.session(p.a(), p.b());
            return new Sample(s.path("sinceMillis").asLong() - sent, delivered, s.path("path").asText());
        } catch (Throwable t) {
            String path = "?";
            try {
                JsonNode s = lab.session(p.a(), p.b());
                path = s == null ? "none" : s.path("path").asText();
            } catch (Exception ignored) {
                // keep '?'
            }
            System.out.printf("  %s round %d: %s%n", p, round, t.getMessage());
            return new Sample(-1, -1, path);
        }
    }

    private static long pct(List<Long> sorted, int p) {
        if (sorted.isEmpty()) return -1;
        int i = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
    }
}
