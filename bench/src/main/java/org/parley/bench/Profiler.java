package org.parley.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

/**
 * Where another process spends its time: CPU per thread from /proc (utime + stime of every task, grouped by
 * thread name), and Java Flight Recorder execution samples (started in the target JVM with jcmd JFR.start,
 * read here with jdk.jfr.consumer).
 */
final class Profiler {
    private Profiler() {}

    /** CPU milliseconds per thread name (the kernel's 15-character comm; threads of the same name summed). */
    static Map<String, Long> threadCpuMillis(long pid) {
        Map<String, Long> out = new HashMap<>();
        Path tasks = Path.of("/proc", Long.toString(pid), "task");
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(tasks)) {
            for (Path t : ds) {
                try {
                    String comm = Files.readString(t.resolve("comm")).strip();
                    String s = Files.readString(t.resolve("stat"));
                    String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
                    long ms = (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10; // USER_HZ 100
                    out.merge(group(comm), ms, Long::sum);
                } catch (IOException | RuntimeException ignored) {
                    // the thread ended
                }
            }
        } catch (IOException e) {
            return Map.of();
        }
        return out;
    }

    /** Thread names with a counter ("...-3", "GC Thread#1") under one name. */
    static String group(String name) {
        if (name.startsWith("multiThreadIoEv")) return "multiThreadIoEventLoop*";
        if (name.startsWith("GC Thread") || name.startsWith("G1 ")) return "GC threads";
        if (name.startsWith("C1 CompilerThre") || name.startsWith("C2 CompilerThre")) return "JIT compiler threads";
        return name.replaceAll("[-#]?\\d+$", "*");
    }

    /** Per-thread-name CPU between two snapshots, in cores (CPU seconds per wall second), busiest first. */
    static LinkedHashMap<String, Double> cores(Map<String, Long> before, Map<String, Long> after, double seconds) {
        List<Map.Entry<String, Double>> l = new ArrayList<>();
        for (var e : after.entrySet()) {
            long d = e.getValue() - before.getOrDefault(e.getKey(), 0L);
            if (d > 0) l.add(Map.entry(e.getKey(), d / 1000.0 / seconds));
        }
        l.sort((a, b) -> Double.compare(b.getValue(), a.getValue()));
        LinkedHashMap<String, Double> out = new LinkedHashMap<>();
        for (var e : l) out.put(e.getKey(), e.getValue());
        return out;
    }

    /** Starts a JFR recording (profile settings: Java samples every 10 ms) in the JVM {@code pid}. */
    static void startJfr(long pid, String name, Path file) throws IOException, InterruptedException {
        Probe.Output o = Probe.run(List.of(Probe.jdkTool("jcmd").toString(), Long.toString(pid), "JFR.start", "name=" + name,
                "settings=profile", "filename=" + file), 60);
        if (o.exit() != 0 || o.text().contains("Could not")) throw new IOException("jcmd JFR.start failed: " + o.text().strip());
    }

    /** Stops the recording and has it written to its file. */
    static void stopJfr(long pid, String name) throws IOException, InterruptedException {
        Probe.Output o = Probe.run(List.of(Probe.jdkTool("jcmd").toString(), Long.toString(pid), "JFR.stop", "name=" + name), 60);
        if (o.exit() != 0) throw new IOException("jcmd JFR.stop failed: " + o.text().strip());
    }

    /** Execution samples of one group of threads. */
    static final class Group {
        final String name;
        long samples;
        final Map<String, Long> self = new HashMap<>();
        final Map<String, Long> parley = new HashMap<>();
        final Map<String, Long> inclusive = new HashMap<>();

        Group(String name) {
            this.name = name;
        }

        static List<Map.Entry<String, Long>> top(Map<String, Long> m, int n) {
            List<Map.Entry<String, Long>> l = new ArrayList<>(m.entrySet());
            l.sort((a, b) -> Long.compare(b.getValue(), a.getValue()));
            return l.subList(0, Math.min(n, l.size()));
        }
    }

    /**
     * Reads the execution samples of a JFR file, grouped by thread group: per group the top self frames, the
     * innermost org.parley frame of each sample, and inclusive counts of methods (each method once per sample).
     */
    static Map<String, Group> samples(Path jfr) throws IOException {
        Map<String, Group> out = new LinkedHashMap<>();
        for (RecordedEvent e : RecordingFile.readAllEvents(jfr)) {
            if (!e.getEventType().getName().equals("jdk.ExecutionSample")) continue;
            RecordedThread t = e.getThread("sampledThread");
            String tn = t == null ? "?" : t.getJavaName() == null ? t.getOSName() : t.getJavaName();
            Group g = out.computeIfAbsent(threadGroup(tn), Group::new);
            g.samples++;
            RecordedStackTrace st = e.getStackTrace();
            if (st == null || st.getFrames().isEmpty()) continue;
            List<RecordedFrame> frames = st.getFrames();
            g.self.merge(method(frames.get(0)), 1L, Long::sum);
            java.util.Set<String> seen = new java.util.HashSet<>();
            String firstParley = null;
            for (RecordedFrame f : frames) {
                String m = method(f);
                if (seen.add(m)) g.inclusive.merge(m, 1L, Long::sum);
                if (firstParley == null && m.startsWith("org.parley.")) firstParley = m;
            }
            g.parley.merge(firstParley == null ? "(no org.parley frame: transport/netty/JDK only)" : firstParley, 1L, Long::sum);
        }
        return out;
    }

    static String threadGroup(String javaName) {
        if (javaName.startsWith("multiThreadIoEventLoopGroup")) return "event loops (netty/QUIC)";
        if (javaName.equals("supernode-overlay")) return "supernode-overlay";
        return "other threads";
    }

    static String method(RecordedFrame f) {
        if (f.getMethod() == null) return "?";
        String type = f.getMethod().getType() == null ? "?" : f.getMethod().getType().getName();
        return type + "." + f.getMethod().getName();
    }

    static String pct(long part, long whole) {
        return whole == 0 ? "-" : String.format(Locale.ROOT, "%.1f%%", 100.0 * part / whole);
    }
}
