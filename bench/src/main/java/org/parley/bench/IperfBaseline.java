package org.parley.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * iperf3 on 127.0.0.1 for the "direct" scenario: a one-off server ({@code -s -1}) and a client with JSON output,
 * TCP (one stream) or UDP ({@code -u -b 0 -l 1200}: unlimited rate, 1,200-byte datagrams). Every process runs
 * under coreutils {@code timeout} (when present) and a Java time limit, and is killed on cleanup.
 */
final class IperfBaseline {
    private IperfBaseline() {}

    private static final ObjectMapper JSON = new ObjectMapper();
    static final int UDP_DATAGRAM_BYTES = 1200;

    /** One iperf3 measurement; rates in bits per second. */
    record Result(boolean udp, double seconds, double sentBitsPerSecond, double receivedBitsPerSecond,
                  double lostPercent, long packets, long lostPackets, long retransmits, double clientCpuPercent,
                  double serverCpuPercent) {
        double receivedMbitPerSecond() {
            return receivedBitsPerSecond / 1e6;
        }

        double sentMbitPerSecond() {
            return sentBitsPerSecond / 1e6;
        }

        double sentPacketsPerSecond() {
            return udp ? sentBitsPerSecond / 8 / UDP_DATAGRAM_BYTES : Double.NaN;
        }

        double receivedPacketsPerSecond() {
            return udp ? receivedBitsPerSecond / 8 / UDP_DATAGRAM_BYTES : Double.NaN;
        }

        /** CPU seconds of the client (sender) over the test, from iperf3's own percentage. */
        double clientCpuSeconds() {
            return clientCpuPercent / 100 * seconds;
        }

        double serverCpuSeconds() {
            return serverCpuPercent / 100 * seconds;
        }

        void into(ObjectNode n) {
            n.put("measured_s", Results.round(seconds, 3));
            n.put("mbit_per_s", Results.round(receivedMbitPerSecond(), 1));
            n.put("mb_per_s", Results.round(receivedBitsPerSecond / 8e6, 2));
            n.put("sent_mbit_per_s", Results.round(sentMbitPerSecond(), 1));
            if (udp) {
                n.put("datagram_bytes", UDP_DATAGRAM_BYTES);
                n.put("packets", packets);
                n.put("lost_packets", lostPackets);
                n.put("lost_percent", Results.round(lostPercent, 2));
            } else {
                n.put("retransmits", retransmits);
            }
            n.put("client_cpu_s", Results.round(clientCpuSeconds(), 2));
            n.put("server_cpu_s", Results.round(serverCpuSeconds(), 2));
        }
    }

    private static String iperf;
    private static String reason;
    private static boolean checked;

    /** Null when iperf3 can be run (installing it with apt-get if needed), else why not. */
    static synchronized String unavailableReason() {
        if (checked) return reason;
        checked = true;
        iperf = which("iperf3");
        if (iperf == null) {
            System.out.println("direct: iperf3 is not installed; trying apt-get install -y iperf3...");
            String why = aptInstall();
            iperf = which("iperf3");
            if (iperf == null) reason = "iperf3 is not installed and apt-get install -y iperf3 failed: " + why;
        }
        return reason;
    }

    private static String aptInstall() {
        String apt = which("apt-get");
        if (apt == null) return "apt-get not found";
        try {
            Probe.Output o = runEnv(List.of(apt, "install", "-y", "-q", "iperf3"), 300);
            if (o.exit() == 0) return null;
            // the package lists may be missing or stale
            Probe.Output u = runEnv(List.of(apt, "update", "-q"), 300);
            if (u.exit() != 0) return "apt-get update: exit " + u.exit() + ": " + lastLine(u.text());
            o = runEnv(List.of(apt, "install", "-y", "-q", "iperf3"), 300);
            return o.exit() == 0 ? null : "exit " + o.exit() + ": " + lastLine(o.text());
        } catch (IOException e) {
            return e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    /** As {@link Probe#run} with DEBIAN_FRONTEND=noninteractive and no standard input. */
    private static Probe.Output runEnv(List<String> command, long timeoutSeconds) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
        Path out = Files.createTempFile("bench-cmd", ".out");
        pb.redirectOutput(out.toFile());
        Process p = pb.start();
        try {
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                return new Probe.Output(-1, "timed out after " + timeoutSeconds + " s");
            }
            return new Probe.Output(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        } finally {
            if (p.isAlive()) p.destroyForcibly();
            Files.deleteIfExists(out);
        }
    }

    private static String lastLine(String s) {
        String[] l = s.strip().split("\n");
        return l.length == 0 ? "" : l[l.length - 1].strip();
    }

    static String which(String name) {
        String path = System.getenv("PATH");
        List<String> dirs = new ArrayList<>(List.of((path == null ? "" : path).split(File.pathSeparator)));
        dirs.addAll(List.of("/usr/bin", "/usr/sbin", "/bin", "/sbin", "/usr/local/bin"));
        for (String d : dirs) {
            if (d.isEmpty()) continue;
            Path p = Path.of(d, name);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) return p.toString();
        }
        return null;
    }

    /** Runs one iperf3 test of {@code seconds} ({@code warmup} only bounds the time limits: iperf3 needs none). */
    static Result run(boolean udp, int seconds, int warmup, Cleanup cleanup, Path dir) throws Exception {
        if (unavailableReason() != null) throw new IOException(reason);
        String kind = udp ? "udp" : "tcp";
        int port = Probe.freeTcpPort();
        String timeout = which("timeout");
        int limit = warmup + seconds + 60;

        List<String> server = new ArrayList<>();
        if (timeout != null) server.addAll(List.of(timeout, "-k", "5", Integer.toString(limit)));
        // --forceflush: without it iperf3 buffers "Server listening" while its output is a file
        server.addAll(List.of(iperf, "-s", "-1", "--forceflush", "-B", "127.0.0.1", "-p", Integer.toString(port)));
        Path serverLog = dir.resolve("iperf3-server-" + kind + ".log");
        Process s = new ProcessBuilder(server).redirectErrorStream(true).redirectOutput(serverLog.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        cleanup.notePid(s.pid());
        Cleanup.Handle sh = cleanup.add("iperf3 server " + s.pid(), () -> kill(s));
        Process c = null;
        Cleanup.Handle ch = null;
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!listening(port) && !(Files.exists(serverLog)
                    && Files.readString(serverLog, StandardCharsets.UTF_8).contains("Server listening"))) {
                if (!s.isAlive() || System.nanoTime() > deadline) {
                    throw new IOException("iperf3 server did not start: " + Probe.lastLines(serverLog, 5));
                }
                Thread.sleep(20);
            }
            List<String> client = new ArrayList<>();
            if (timeout != null) client.addAll(List.of(timeout, "-k", "5", Integer.toString(limit - 10)));
            client.addAll(List.of(iperf, "-c", "127.0.0.1", "-p", Integer.toString(port), "-t", Integer.toString(seconds), "-J"));
            // no -O (omit): iperf3 needs no warm-up on loopback, and with UDP it corrupts the loss figures (>100 %)
            if (udp) client.addAll(List.of("-u", "-b", "0", "-l", Integer.toString(UDP_DATAGRAM_BYTES)));
            Path out = dir.resolve("iperf3-client-" + kind + ".json");
            Path err = dir.resolve("iperf3-client-" + kind + ".err");
            System.out.printf(Locale.ROOT, "direct: iperf3 %s for %d s...%n", kind.toUpperCase(Locale.ROOT), seconds);
            Process cp = new ProcessBuilder(client).redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            c = cp;
            cleanup.notePid(cp.pid());
            ch = cleanup.add("iperf3 client " + cp.pid(), () -> kill(cp));
            if (!cp.waitFor(limit - 5, TimeUnit.SECONDS)) throw new IOException("iperf3 client did not finish within " + (limit - 5) + " s");
            String text = Files.readString(out, StandardCharsets.UTF_8);
            int brace = text.indexOf('{');
            if (brace < 0) {
                throw new IOException("iperf3 client (exit " + cp.exitValue() + ") printed no JSON: "
                        + text.strip() + " " + Files.readString(err, StandardCharsets.UTF_8).strip());
            }
            JsonNode j = JSON.readTree(text.substring(brace));
            if (j.hasNonNull("error")) throw new IOException("iperf3 " + kind + ": " + j.get("error").asText());
            s.waitFor(5, TimeUnit.SECONDS);
            return parse(udp, j);
        } finally {
            if (ch != null) ch.close();
            sh.close();
            if (c != null && c.isAlive()) c.destroyForcibly();
        }
    }

    /** Whether a TCP socket listens on 127.0.0.1:{@code port} (from /proc/net/tcp; false when unreadable). */
    static boolean listening(int port) {
        String local = String.format(Locale.ROOT, "0100007F:%04X", port);
        try {
            for (String l : Files.readAllLines(Path.of("/proc/net/tcp"))) {
                String[] f = l.trim().split("\\s+");
                if (f.length > 3 && f[1].equals(local) && f[3].equals("0A")) return true;
            }
        } catch (IOException | RuntimeException ignored) {
            // not Linux: rely on the server's output
        }
        return false;
    }

    /** Reads the end summary of an iperf3 -J report. */
    static Result parse(boolean udp, JsonNode j) throws IOException {
        JsonNode end = j.path("end");
        JsonNode cpu = end.path("cpu_utilization_percent");
        double clientCpu = cpu.path("host_total").asDouble(Double.NaN);
        double serverCpu = cpu.path("remote_total").asDouble(Double.NaN);
        if (!udp) {
            JsonNode rx = end.path("sum_received");
            JsonNode tx = end.path("sum_sent");
            if (!rx.has("bits_per_second")) throw new IOException("iperf3 TCP report has no end.sum_received");
            return new Result(false, rx.path("seconds").asDouble(), tx.path("bits_per_second").asDouble(Double.NaN),
                    rx.path("bits_per_second").asDouble(), 0, 0, 0, tx.path("retransmits").asLong(-1), clientCpu, serverCpu);
        }
        JsonNode sum = end.path("sum");
        if (!sum.has("bits_per_second")) throw new IOException("iperf3 UDP report has no end.sum");
        double sent = sum.path("bits_per_second").asDouble();
        double lost = sum.path("lost_percent").asDouble(0);
        long packets = sum.path("packets").asLong(0);
        long lostPackets = sum.path("lost_packets").asLong(0);
        JsonNode rx = end.path("sum_received");
        double received = sent * (1 - lost / 100);
        if (rx.has("bits_per_second")) {
            // the server's view: what actually arrived
            received = rx.path("bits_per_second").asDouble();
            lost = rx.path("lost_percent").asDouble(lost);
            packets = rx.path("packets").asLong(packets);
            lostPackets = rx.path("lost_packets").asLong(lostPackets);
        }
        return new Result(true, sum.path("seconds").asDouble(), sent, received, lost, packets, lostPackets, 0,
                clientCpu, serverCpu);
    }

    private static void kill(Process p) throws InterruptedException {
        if (!p.isAlive()) return;
        p.destroy(); // SIGTERM; coreutils timeout passes it on to iperf3
        if (!p.waitFor(3, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(3, TimeUnit.SECONDS);
        }
    }
}
