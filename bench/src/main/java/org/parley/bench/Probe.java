package org.parley.bench;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Small helpers: free loopback ports, external commands, heap and RSS of another JVM. */
final class Probe {
    private Probe() {}

    static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    static int freeUdpPort() throws IOException {
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(LOOPBACK, 0))) {
            return s.getLocalPort();
        }
    }

    static int freeTcpPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, LOOPBACK)) {
            return s.getLocalPort();
        }
    }

    record Output(int exit, String text) {}

    /** Runs a command (stdout and stderr merged) with a time limit; the process is killed on timeout. */
    static Output run(List<String> command, long timeoutSeconds) throws IOException, InterruptedException {
        return run(command, timeoutSeconds, null);
    }

    static Output run(List<String> command, long timeoutSeconds, String stdin) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        Path out = Files.createTempFile("bench-cmd", ".out");
        pb.redirectOutput(out.toFile());
        if (stdin == null) pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process p = pb.start();
        try {
            if (stdin != null) {
                try (var w = p.getOutputStream()) {
                    w.write(stdin.getBytes(StandardCharsets.UTF_8));
                }
            }
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                return new Output(-1, Files.readString(out, StandardCharsets.UTF_8) + "\n(timed out after "
                        + timeoutSeconds + " s)");
            }
            return new Output(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        } finally {
            if (p.isAlive()) p.destroyForcibly();
            Files.deleteIfExists(out);
        }
    }

    static Path jdkTool(String name) {
        return Path.of(System.getProperty("java.home"), "bin", name);
    }

    /** Heap of a JVM after forced full collections: used and committed bytes, and the raw jcmd text. */
    record Heap(long usedBytes, long committedBytes, String raw) {}

    private static final Pattern G1 = Pattern.compile("heap\\s+total(?: reserved)?\\s+(\\d+)K, committed (\\d+)K, used (\\d+)K");
    private static final Pattern GEN = Pattern.compile("generation\\s+total (\\d+)K, used (\\d+)K");
    private static final Pattern Z = Pattern.compile("ZHeap\\s+used (\\d+)M, capacity (\\d+)M");

    /** jcmd PID GC.run (twice, a second apart), then GC.heap_info. */
    static Heap heapAfterGc(long pid) throws IOException, InterruptedException {
        String jcmd = jdkTool("jcmd").toString();
        for (int i = 0; i < 2; i++) {
            Output o = run(List.of(jcmd, Long.toString(pid), "GC.run"), 60);
            if (o.exit() != 0) throw new IOException("jcmd " + pid + " GC.run failed: " + o.text().strip());
            Thread.sleep(1000);
        }
        Output o = run(List.of(jcmd, Long.toString(pid), "GC.heap_info"), 60);
        if (o.exit() != 0) throw new IOException("jcmd " + pid + " GC.heap_info failed: " + o.text().strip());
        return parseHeapInfo(o.text());
    }

    /** Parses jcmd GC.heap_info output of G1, Parallel/Serial or ZGC. */
    static Heap parseHeapInfo(String t) throws IOException {
        Matcher m = G1.matcher(t);
        if (m.find()) {
            return new Heap(Long.parseLong(m.group(3)) * 1024, Long.parseLong(m.group(2)) * 1024, t);
        }
        Matcher g = GEN.matcher(t);
        long used = 0;
        long committed = 0;
        boolean any = false;
        while (g.find()) {
            any = true;
            committed += Long.parseLong(g.group(1)) * 1024;
            used += Long.parseLong(g.group(2)) * 1024;
        }
        if (any) return new Heap(used, committed, t);
        Matcher z = Z.matcher(t);
        if (z.find()) return new Heap(Long.parseLong(z.group(1)) << 20, Long.parseLong(z.group(2)) << 20, t);
        throw new IOException("cannot read the heap size from jcmd GC.heap_info output: " + t.strip());
    }

    /** Resident set size of a process in bytes (from /proc), or -1. */
    static long rssBytes(long pid) {
        try {
            for (String l : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (l.startsWith("VmRSS:")) {
                    String[] p = l.substring(6).trim().split("\\s+");
                    return Long.parseLong(p[0]) * 1024;
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // not Linux or the process is gone
        }
        return -1;
    }

    /** CPU time (user + system) of a process in milliseconds (from /proc), or -1. */
    static long cpuMillis(long pid) {
        try {
            String s = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
            long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
            return ticks * 10; // USER_HZ is 100 on Linux
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** The 1-minute load average, or NaN (the machine is shared: recorded with every result). */
    static double loadAverage() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    static String lastLines(Path file, int n) {
        try {
            List<String> l = Files.readAllLines(file, StandardCharsets.UTF_8);
            return String.join("\n", new ArrayList<>(l.subList(Math.max(0, l.size() - n), l.size())));
        } catch (IOException e) {
            return "(cannot read " + file + ")";
        }
    }

    static String mb(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.1f MB", bytes / 1048576.0);
    }
}
