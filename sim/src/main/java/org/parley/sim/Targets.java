package org.parley.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The targets of each scenario, checked against its figures (the tests assert the same). */
public final class Targets {
    private Targets() {}

    /** Unmet targets of {@code r}, empty if all are met. */
    public static List<String> missed(ScenarioResult r) {
        List<String> m = new ArrayList<>();
        if (r.overCapacity() > 0) m.add(r.overCapacity() + " supernodes over capacity");
        if (r.wireErrors() > 0) m.add(r.wireErrors() + " frames not wire-valid");
        switch (r.scenario()) {
            case "churn" -> {
                ScenarioResult.PhaseFigures p = r.phase("steady");
                if (p.successPercent() < 99.9) m.add(String.format(Locale.ROOT, "lookup success %.3f%% < 99.9%%", p.successPercent()));
                if (p.hopsP99() > Scenarios.hopsLimit(r.supernodes())) {
                    m.add(String.format(Locale.ROOT, "hops p99 %d > log2(%d) = %.1f", p.hopsP99(), r.supernodes(), Scenarios.hopsLimit(r.supernodes())));
                }
            }
            case "outage2010" -> {
                ScenarioResult.AttachFigures a = r.cohort("affected");
                if (a.allSeconds() < 0 || a.allSeconds() > 30) m.add("affected clients all re-attached after " + secs(a.allSeconds()) + " s (> 30 s)");
                success(r, "after", m);
                if (r.recordsLost() > 0) m.add(r.recordsLost() + " records lost");
            }
            case "outage2007" -> {
                ScenarioResult.AttachFigures a = r.cohort("restarted");
                if (a.allSeconds() < 0 || a.allSeconds() > 60) m.add("clients all attached after " + secs(a.allSeconds()) + " s (> 60 s)");
            }
            case "partition" -> {
                success(r, "after", m);
                if (r.recordsLost() > 0) m.add(r.recordsLost() + " records lost");
            }
            default -> { }
        }
        return m;
    }

    private static String secs(double s) {
        return s < 0 ? "never" : String.format(Locale.ROOT, "%.1f", s);
    }

    private static void success(ScenarioResult r, String phase, List<String> m) {
        ScenarioResult.PhaseFigures p = r.phase(phase);
        if (p.successPercent() < 99.9) m.add(String.format(Locale.ROOT, "lookup success (%s) %.3f%% < 99.9%%", phase, p.successPercent()));
    }

    /** One line: "all targets met" or what was missed. */
    public static String verdict(ScenarioResult r) {
        List<String> m = missed(r);
        return m.isEmpty() ? "   targets: all met" : "   targets MISSED: " + String.join("; ", m);
    }
}
