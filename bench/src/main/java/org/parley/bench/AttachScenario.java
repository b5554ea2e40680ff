package org.parley.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.Locale;

/**
 * Scenario "attach": N bench clients attach to a supernode running in its own JVM; attach rate and latency,
 * then the supernode's heap per attached client.
 */
final class AttachScenario {
    static final long TARGET_HEAP_BYTES = 200L * 1024 * 1024;
    static final int TARGET_CLIENTS = 1000;

    private AttachScenario() {}

    /**
     * Creates and attaches the fleet. With {@code measure} the figures are printed and recorded (warm-up,
     * heap before and after); without, the fleet is just attached (e.g. for "route" alone).
     */
    static Fleet run(Bench.Context ctx, BenchNetwork net, boolean measure) throws Exception {
        int n = ctx.options().clients();
        int concurrency = ctx.options().concurrency();
        System.out.printf(Locale.ROOT, "%nattach: %d bench clients, %d attaches in flight, supernode pid %d (separate JVM)%n",
                n, concurrency, net.supernodePid());

        Probe.Heap before = null;
        long rssBefore = -1;
        if (measure) {
            // warm the supernode's code paths with a throw-away fleet, so the timed attaches are not the JVM's first
            int w = Math.min(200, Math.max(10, n / 5));
            try (Fleet warm = Fleet.create(net, w, "w", ctx.options().benchThreads())) {
                Fleet.AttachStats ws = warm.attachAll(net.supernode(), concurrency);
                System.out.printf(Locale.ROOT, "  warm-up: %d throw-away clients attached (%d ok), then closed%n", w, ws.attached());
            }
            double left = net.awaitAttached(0, Duration.ofSeconds(30));
            if (left != 0) System.out.println("  warning: supernode still reports " + left + " attached after warm-up");
            before = Probe.heapAfterGc(net.supernodePid());
            rssBefore = Probe.rssBytes(net.supernodePid());
        }

        Fleet fleet = Fleet.create(net, n, "u", ctx.options().benchThreads());
        Cleanup.Handle fh = ctx.cleanup().add("bench clients", fleet::close);
        try {
            System.out.printf(Locale.ROOT, "  %d device certificates issued directly with the network CA in %.1f s "
                    + "(benchmark shortcut: no Argon2 password logins); %d QUIC nodes bound in %.1f s%n",
                    n, fleet.issueSeconds, n, fleet.bindSeconds);
            long self = ProcessHandle.current().pid();
            long cpu0 = Probe.cpuMillis(net.supernodePid());
            long bcpu0 = Probe.cpuMillis(self);
            double load0 = Probe.loadAverage();
            Fleet.AttachStats s = fleet.attachAll(net.supernode(), concurrency);
            long cpu1 = Probe.cpuMillis(net.supernodePid());
            long bcpu1 = Probe.cpuMillis(self);
            double reported = net.awaitAttached(s.attached(), Duration.ofSeconds(10));
            Results.Summary sum = Results.Summary.of(s.micros(), s.wallSeconds());
            if (!s.errors().isEmpty()) System.out.println("  first attach errors (sample): " + s.errors());
            if (s.attached() < n) {
                System.out.printf(Locale.ROOT, "  warning: only %d of %d clients attached%n", s.attached(), n);
            }
            if (!measure) {
                System.out.printf(Locale.ROOT, "  %d attached (%.0f attaches/s, p50 %s ms, p99 %s ms)%n", s.attached(),
                        n / s.wallSeconds(), Results.ms(sum.p50Ms()), Results.ms(sum.p99Ms()));
                return fleet;
            }

            Probe.Heap after = Probe.heapAfterGc(net.supernodePid());
            long rssAfter = Probe.rssBytes(net.supernodePid());
            int attached = s.attached();
            long perClient = attached > 0 ? (after.usedBytes() - before.usedBytes()) / attached : -1;
            long projected = before.usedBytes() + perClient * TARGET_CLIENTS;
            boolean met = after.usedBytes() < TARGET_HEAP_BYTES && attached >= Math.min(n, TARGET_CLIENTS);

            new Results.Table("attach: " + n + " clients, " + concurrency + " in flight (QUIC + mTLS handshake + Hello/Welcome)",
                    "metric", "value")
                    .row("attached (supernode gauge)", String.format(Locale.ROOT, "%d (%.0f)", attached, reported))
                    .row("failed first attempts", s.failedFirstTry())
                    .row("wall time", String.format(Locale.ROOT, "%.2f s", s.wallSeconds()))
                    .row("attaches/s", Results.num(n / s.wallSeconds()))
                    .row("attach latency p50", Results.ms(sum.p50Ms()) + " ms")
                    .row("attach latency p90", Results.ms(sum.p90Ms()) + " ms")
                    .row("attach latency p99", Results.ms(sum.p99Ms()) + " ms")
                    .row("attach latency max", Results.ms(sum.maxMs()) + " ms")
                    .row("supernode CPU during attaches", cpu0 < 0 ? "-" : String.format(Locale.ROOT, "%.2f s (%.2f ms/attach)",
                            (cpu1 - cpu0) / 1000.0, (cpu1 - cpu0) / (double) Math.max(1, n)))
                    .row("bench JVM CPU during attaches", bcpu0 < 0 ? "-" : String.format(Locale.ROOT, "%.2f s (%.2f ms/attach)",
                            (bcpu1 - bcpu0) / 1000.0, (bcpu1 - bcpu0) / (double) Math.max(1, n)))
                    .row("load average (1 min) before / after", String.format(Locale.ROOT, "%.2f / %.2f", load0, Probe.loadAverage()))
                    .print();
            new Results.Table("supernode memory (jcmd GC.run x2, then GC.heap_info; RSS from /proc)", "metric", "value")
                    .row("heap used, 0 attached", Probe.mb(before.usedBytes()))
                    .row("heap used, " + attached + " attached", Probe.mb(after.usedBytes()))
                    .row("heap per attached client", String.format(Locale.ROOT, "%.1f KB", perClient / 1024.0))
                    .row("heap committed, " + attached + " attached", Probe.mb(after.committedBytes()))
                    .row("RSS, 0 attached", rssBefore < 0 ? "-" : Probe.mb(rssBefore))
                    .row("RSS, " + attached + " attached", rssAfter < 0 ? "-" : Probe.mb(rssAfter))
                    .row("RSS per attached client", rssBefore < 0 || rssAfter < 0 ? "-"
                            : String.format(Locale.ROOT, "%.1f KB", (rssAfter - rssBefore) / 1024.0 / Math.max(1, attached)))
                    .row("projected heap at 1,000 clients", Probe.mb(projected))
                    .note(String.format(Locale.ROOT, "target: %,d attached clients under 200 MB heap -> %s (heap used %s with %d attached)",
                            TARGET_CLIENTS, attached >= TARGET_CLIENTS ? (met ? "MET" : "NOT MET")
                                    : (projected < TARGET_HEAP_BYTES ? "projected MET" : "projected NOT MET"),
                            Probe.mb(after.usedBytes()), attached))
                    .print();

            ObjectNode j = ctx.results().line("attach", "clients=" + n);
            j.put("clients", n);
            j.put("concurrency", concurrency);
            j.put("attached", attached);
            j.put("failed_first_try", s.failedFirstTry());
            j.put("wall_s", Results.round(s.wallSeconds(), 3));
            j.put("attaches_per_s", Results.round(n / s.wallSeconds(), 1));
            sum.into(j);
            j.put("supernode_cpu_ms", cpu1 - cpu0);
            j.put("bench_cpu_ms", bcpu1 - bcpu0);
            j.put("heap_before_bytes", before.usedBytes());
            j.put("heap_after_bytes", after.usedBytes());
            j.put("heap_committed_after_bytes", after.committedBytes());
            j.put("heap_per_client_bytes", perClient);
            j.put("rss_before_bytes", rssBefore);
            j.put("rss_after_bytes", rssAfter);
            j.put("target_heap_bytes", TARGET_HEAP_BYTES);
            j.put("target_met", attached >= TARGET_CLIENTS ? met : projected < TARGET_HEAP_BYTES);
            j.put("certificates", "issued directly by the network CA (no password login)");
            ctx.results().write(j);
            return fleet;
        } catch (Exception | Error e) {
            fh.close();
            throw e;
        }
    }
}
