package org.parley.sim;

import java.util.Locale;

/** Formats {@link ScenarioResult}s as a compact text table (stdout) or markdown. */
public final class FiguresTable {
    private FiguresTable() {}

    private static String f(String fmt, Object... args) {
        return String.format(Locale.ROOT, fmt, args);
    }

    private static String secs(double s) {
        return s < 0 ? "never" : f("%.1f", s);
    }

    public static String text(ScenarioResult r) {
        StringBuilder b = new StringBuilder();
        b.append(f("== %s: %,d supernodes, %,d clients, seed %d%n   %s%n", r.scenario(), r.supernodes(), r.clients(), r.seed(), r.note()));
        b.append(f("   %-8s %11s %8s %9s %6s %5s %4s %5s %6s %12s %14s %9s%n", "lookups", "window(s)", "count", "success%",
                "nofind", "stale", "busy", "tmout", "(cut)", "hops50/99/mx", "lat p50/p99ms", "msg/s"));
        for (ScenarioResult.PhaseFigures p : r.phases()) {
            b.append(f("   %-8s %11s %8d %9.3f %6d %5d %4d %5d %6d %12s %14s %9.0f%n", p.name(), p.fromSecond() + "-" + p.toSecond(),
                    p.lookups(), p.successPercent(), p.notFound(), p.stale(), p.busy(), p.timedOut(), p.requesterCut(),
                    p.hopsP50() + "/" + p.hopsP99() + "/" + p.hopsMax(), p.latencyP50Millis() + "/" + p.latencyP99Millis(),
                    p.messagesPerSecond()));
        }
        b.append(f("   %-10s %8s %8s %8s %8s  %s%n", "attach", "members", "attached", "99%(s)", "100%(s)", "counted from"));
        for (ScenarioResult.AttachFigures a : r.attach()) {
            b.append(f("   %-10s %8d %8d %8s %8s  %s%n", a.cohort(), a.members(), a.attached(), secs(a.p99Seconds()),
                    secs(a.allSeconds()), a.reference()));
        }
        b.append(f("   load: peak attached/capacity %.3f (over capacity: %d), peak attach rate %.2fx, peak lookup rate %.2fx of admission rate%n",
                r.peakLoad(), r.overCapacity(), r.peakAttachRate(), r.peakLookupRate()));
        b.append(f("   redirects %,d, busy %,d; records checked %,d, lost %d (stale %d)%n", r.redirects(), r.busy(),
                r.recordsChecked(), r.recordsLost(), r.recordsStale()));
        b.append(f("   publish round trip p50/p99/max %d/%d/%d ms, publishes no holder accepted %d%n", r.publishP50Millis(),
                r.publishP99Millis(), r.publishMaxMillis(), r.publishesFailed()));
        b.append(f("   messages %,d (%,.0f/s), overlay timeouts %,d, validator rejections %,d, wire-checked %,d (errors %d)%n",
                r.messages(), r.messagesPerSecond(), r.overlayTimeouts(), r.storeRejections(), r.wireChecked(), r.wireErrors()));
        b.append(f("   run: %,d virtual s, %.1f wall s, %,d events; supernodes up at end %,d, crashed %,d%n",
                r.virtualSeconds(), r.wallSeconds(), r.events(), r.supernodesAtEnd(), r.supernodesCrashed()));
        return b.toString();
    }

    public static String markdown(ScenarioResult r) {
        StringBuilder b = new StringBuilder();
        b.append(f("### %s — %,d supernodes, %,d clients, seed %d%n%n%s%n%n", r.scenario(), r.supernodes(), r.clients(), r.seed(), r.note()));
        b.append("| window | seconds | lookups | success % | not found | stale | busy | timeout (requester cut off) | hops p50/p99/max | latency p50/p99 ms | msg/s |\n");
        b.append("|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (ScenarioResult.PhaseFigures p : r.phases()) {
            b.append(f("| %s | %d–%d | %,d | %.3f | %d | %d | %d | %d (%d) | %d/%d/%d | %d/%d | %,.0f |%n", p.name(), p.fromSecond(),
                    p.toSecond(), p.lookups(), p.successPercent(), p.notFound(), p.stale(), p.busy(), p.timedOut(),
                    p.requesterCut(), p.hopsP50(), p.hopsP99(), p.hopsMax(), p.latencyP50Millis(), p.latencyP99Millis(),
                    p.messagesPerSecond()));
        }
        b.append("\n| attach cohort | members | attached | 99% (s) | 100% (s) | counted from |\n|---|---|---|---|---|---|\n");
        for (ScenarioResult.AttachFigures a : r.attach()) {
            b.append(f("| %s | %,d | %,d | %s | %s | %s |%n", a.cohort(), a.members(), a.attached(), secs(a.p99Seconds()),
                    secs(a.allSeconds()), a.reference()));
        }
        b.append(f("%n- peak attached/capacity %.3f, supernodes over capacity %d; peak attach rate %.2f×, peak lookup rate %.2f× the admission rate%n",
                r.peakLoad(), r.overCapacity(), r.peakAttachRate(), r.peakLookupRate()));
        b.append(f("- redirects %,d, busy %,d; records checked %,d, **lost %d** (stale %d)%n", r.redirects(), r.busy(),
                r.recordsChecked(), r.recordsLost(), r.recordsStale()));
        b.append(f("- publish round trip p50/p99/max %d/%d/%d ms, publishes no holder accepted %d%n", r.publishP50Millis(),
                r.publishP99Millis(), r.publishMaxMillis(), r.publishesFailed()));
        b.append(f("- messages %,d (%,.0f/s), overlay request timeouts %,d, validator rejections %,d, frames wire-checked %,d (errors %d)%n",
                r.messages(), r.messagesPerSecond(), r.overlayTimeouts(), r.storeRejections(), r.wireChecked(), r.wireErrors()));
        b.append(f("- %,d virtual s in **%.1f wall s**, %,d events; supernodes up at end %,d, crashed %,d%n%n",
                r.virtualSeconds(), r.wallSeconds(), r.events(), r.supernodesAtEnd(), r.supernodesCrashed()));
        return b.toString();
    }
}
