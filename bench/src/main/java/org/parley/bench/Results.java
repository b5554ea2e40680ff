package org.parley.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.HdrHistogram.Histogram;

/** Machine-readable results (JSON lines) and human-readable tables. */
final class Results {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Latency summary of one measurement; histograms hold microseconds. */
    record Summary(long count, double seconds, double perSecond, double p50Ms, double p90Ms, double p99Ms,
                   double maxMs, double meanMs) {
        static Summary of(Histogram h, double seconds) {
            long n = h.getTotalCount();
            return new Summary(n, seconds, seconds > 0 ? n / seconds : 0,
                    n == 0 ? Double.NaN : h.getValueAtPercentile(50) / 1000.0,
                    n == 0 ? Double.NaN : h.getValueAtPercentile(90) / 1000.0,
                    n == 0 ? Double.NaN : h.getValueAtPercentile(99) / 1000.0,
                    n == 0 ? Double.NaN : h.getMaxValue() / 1000.0,
                    n == 0 ? Double.NaN : h.getMean() / 1000.0);
        }

        void into(ObjectNode n) {
            n.put("count", count);
            n.put("seconds", round(seconds, 3));
            n.put("per_s", round(perSecond, 1));
            n.put("p50_ms", round(p50Ms, 3));
            n.put("p90_ms", round(p90Ms, 3));
            n.put("p99_ms", round(p99Ms, 3));
            n.put("max_ms", round(maxMs, 3));
            n.put("mean_ms", round(meanMs, 3));
        }
    }

    private final Path file;
    private final String runId;

    Results(Path file, String runId) {
        this.file = file;
        this.runId = runId;
    }

    String runId() {
        return runId;
    }

    Path file() {
        return file;
    }

    ObjectNode line(String scenario, String kase) {
        ObjectNode n = JSON.createObjectNode();
        n.put("run", runId);
        n.put("time", Instant.now().toString());
        n.put("scenario", scenario);
        n.put("case", kase);
        n.put("loadavg_1m", Probe.loadAverage());
        return n;
    }

    ObjectNode line(String scenario, String kase, Map<String, ?> fields) {
        ObjectNode n = line(scenario, kase);
        fields.forEach((k, v) -> n.set(k, JSON.valueToTree(v)));
        return n;
    }

    synchronized void write(ObjectNode n) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.writeString(file, JSON.writeValueAsString(n) + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            System.err.println("bench: cannot append to " + file + ": " + e.getMessage());
        }
    }

    static double round(double v, int digits) {
        if (Double.isNaN(v) || Double.isInfinite(v)) return v;
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }

    static String ms(double v) {
        if (Double.isNaN(v)) return "-";
        if (v >= 100) return String.format(Locale.ROOT, "%.0f", v);
        if (v >= 10) return String.format(Locale.ROOT, "%.1f", v);
        return String.format(Locale.ROOT, "%.2f", v);
    }

    static String num(double v) {
        if (Double.isNaN(v)) return "-";
        if (v >= 100) return String.format(Locale.ROOT, "%,.0f", v);
        return String.format(Locale.ROOT, "%.1f", v);
    }

    static String ratio(double a, double b) {
        if (Double.isNaN(a) || Double.isNaN(b) || b == 0) return "-";
        return String.format(Locale.ROOT, "%.2fx", a / b);
    }

    /** A fixed-width text table. */
    static final class Table {
        private final String title;
        private final String[] header;
        private final List<String[]> rows = new ArrayList<>();
        private final List<String> notes = new ArrayList<>();

        Table(String title, String... header) {
            this.title = title;
            this.header = header;
        }

        Table row(Object... cells) {
            String[] r = new String[header.length];
            for (int i = 0; i < r.length; i++) r[i] = i < cells.length && cells[i] != null ? cells[i].toString() : "";
            rows.add(r);
            return this;
        }

        Table note(String s) {
            notes.add(s);
            return this;
        }

        void print() {
            int[] w = new int[header.length];
            for (int i = 0; i < w.length; i++) w[i] = header[i].length();
            for (String[] r : rows) for (int i = 0; i < w.length; i++) w[i] = Math.max(w[i], r[i].length());
            StringBuilder sb = new StringBuilder();
            sb.append('\n').append("== ").append(title).append(" ==\n");
            line(sb, header, w);
            StringBuilder sep = new StringBuilder();
            for (int i = 0; i < w.length; i++) {
                sep.append(i == 0 ? "" : "-+-").append("-".repeat(w[i]));
            }
            sb.append(sep).append('\n');
            for (String[] r : rows) line(sb, r, w);
            for (String n : notes) sb.append("  ").append(n).append('\n');
            System.out.print(sb);
            System.out.flush();
        }

        private static void line(StringBuilder sb, String[] cells, int[] w) {
            for (int i = 0; i < w.length; i++) {
                if (i > 0) sb.append(" | ");
                String c = cells[i];
                // first column left-aligned, numbers right-aligned
                if (i == 0) sb.append(c).append(" ".repeat(w[i] - c.length()));
                else sb.append(" ".repeat(w[i] - c.length())).append(c);
            }
            sb.append('\n');
        }
    }
}
