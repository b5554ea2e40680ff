package org.parley.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The relay scenario's comparison with coturn (the TURN server people deploy for WebRTC/SIP relaying): a private
 * {@code turnserver} on 127.0.0.1 (no authentication, loopback peers allowed, UDP only, no TLS/DTLS/CLI, its own
 * log, pid file and database in a temporary folder, as many relay threads as the Parley relay), measured
 * <ol>
 *   <li>with the scenario's own generator ({@link RelayLoad}): side A is a TURN client (Allocate, ChannelBind,
 *       ChannelData), side B a plain UDP socket sending to A's relayed address — each datagram crosses the relay
 *       once, as with Parley; the same sessions, sizes, window and durations; and the same ping-pong;</li>
 *   <li>with coturn's own load tool, {@code turnutils_uclient -y -c -z 0} (client-to-client: both sides are TURN
 *       clients, so each datagram crosses coturn twice), whose progress lines (one per second) give the delivered
 *       rate.</li>
 * </ol>
 * Skipped, with a printed reason and a {@code skipped} JSON line, when coturn is not installed.
 */
final class CoturnBaseline {

    /** One turnutils_uclient run. */
    record Uclient(String command, int clients, int size, long sent, long received, double activeSeconds,
                   double averagePerSecond, double peakPerSecond, double lossPercent, double serverCores, String averageRttMs) {}

    /** Prints the turnutils_uclient runs. */
    static void printUclient(String version, List<Uclient> uclient) {
        Results.Table t = new Results.Table("coturn " + version + " with its own tool turnutils_uclient -y -c -z 0 "
                    + "(both sides TURN clients: 2 relay hops per datagram)", "clients", "size B", "sent", "delivered",
                    "active s", "delivered/s avg", "delivered/s peak 1 s", "loss %", "coturn CPU cores", "avg RTT ms");
        for (Uclient u : uclient) {
            t.row(u.clients(), u.size(), u.sent(), u.received(), String.format(Locale.ROOT, "%.0f", u.activeSeconds()),
                    Results.num(u.averagePerSecond()), Results.num(u.peakPerSecond()),
                    String.format(Locale.ROOT, "%.2f", u.lossPercent()), String.format(Locale.ROOT, "%.2f", u.serverCores()),
                    u.averageRttMs());
        }
        t.note("uclient reports once per second; 'active s' spans its first to its last delivery, so rates are +-1 s coarse");
        t.note("coturn CPU: its CPU time over the run divided by the active seconds");
        for (Uclient u : uclient) t.note("command: " + u.command());
        t.print();
    }

    private static final String SERVER = "turnserver";
    private static final String UCLIENT = "turnutils_uclient";

    static String unavailableReason() {
        if (which(SERVER) == null || which(UCLIENT) == null) {
            return "coturn is not installed (no turnserver/turnutils_uclient on PATH); install it with 'apt-get install -y coturn'";
        }
        return null;
    }

    private static String which(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, tool))) return Path.of(d, tool).toString();
        }
        return null;
    }

    /** A running private turnserver. */
    private final Process process;
    private final Cleanup.Handle handle;
    private final InetSocketAddress server;
    private final String version;

    private CoturnBaseline(Process process, Cleanup.Handle handle, InetSocketAddress server, String version) {
        this.process = process;
        this.handle = handle;
        this.server = server;
        this.version = version;
    }

    String version() {
        return version;
    }

    long pid() {
        return process.pid();
    }

    boolean alive() {
        return process.isAlive();
    }

    void stop() {
        handle.close();
    }

    /** Starts a private turnserver; null (after printing why and writing a skipped line) when coturn is not installed. */
    static CoturnBaseline start(Bench.Context ctx, RelayScenario.Plan plan) throws Exception {
        String why = unavailableReason();
        if (why != null) {
            System.out.println("\nrelay: coturn comparison SKIPPED: " + why);
            ObjectNode j = ctx.results().line("relay", "coturn-skipped");
            j.put("skipped", why);
            ctx.results().write(j);
            return null;
        }
        String version = Probe.run(List.of(which(SERVER), "--version"), 20).text().strip();
        if (version.contains("\n")) version = version.substring(version.lastIndexOf('\n') + 1).strip();
        Path dir = Files.createTempDirectory("parley-bench-coturn-");
        ctx.cleanup().folder(dir);
        int port = Probe.freeUdpPort();
        int minPort = 20000 + ThreadLocalRandom.current().nextInt(0, 40) * 1000;
        List<String> cmd = List.of(which(SERVER), "-n", "--listening-ip", "127.0.0.1", "--relay-ip", "127.0.0.1",
                "--listening-port", Integer.toString(port), "--min-port", Integer.toString(minPort), "--max-port",
                Integer.toString(minPort + 999), "--no-auth", "--allow-loopback-peers", "--no-tls", "--no-dtls", "--no-tcp",
                "--no-tcp-relay", "--no-cli", "--relay-threads", Integer.toString(plan.relayThreads()),
                "--db", dir.resolve("turndb").toString(), "--pidfile", dir.resolve("turnserver.pid").toString(),
                "--log-file", dir.resolve("turnserver.log").toString(), "--simple-log", "--no-stdout-log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("turnserver.out").toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        ctx.cleanup().notePid(p.pid());
        Cleanup.Handle handle = ctx.cleanup().add("turnserver " + p.pid(), () -> {
            if (!p.isAlive()) return;
            p.destroy();
            if (!p.waitFor(10, TimeUnit.SECONDS)) p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        });
        Thread.sleep(500);
        if (!p.isAlive()) {
            String out = Probe.lastLines(dir.resolve("turnserver.out"), 10);
            handle.close();
            throw new IOException("turnserver exited at once: " + out);
        }
        System.out.printf(Locale.ROOT, "  coturn %s pid %d on 127.0.0.1:%d (%d relay threads, relay ports %d-%d):%n    %s%n",
                version, p.pid(), port, plan.relayThreads(), minPort, minPort + 999, String.join(" ", cmd));
        return new CoturnBaseline(p, handle, new InetSocketAddress(Probe.LOOPBACK, port), version);
    }

    /** The load case with the scenario's generator. */
    RelayScenario.Load load(RelayScenario.Plan plan, int sessions, int size) throws Exception {
        return load(plan, server, process.pid(), sessions, size);
    }

    RelayScenario.Rtt rtt(RelayScenario.Plan plan) throws Exception {
        return rtt(plan, server);
    }

    /** turnutils_uclient runs (one per size, as many clients as the largest session count); prints and records them. */
    List<Uclient> uclientRuns(Bench.Context ctx, RelayScenario.Plan plan) throws Exception {
        List<Uclient> uclient = new ArrayList<>();
        int clients = plan.sessions().stream().mapToInt(Integer::intValue).max().orElse(16);
        for (int size : plan.sizes()) {
            Uclient u = uclient(plan, server.getPort(), process.pid(), clients, size);
            uclient.add(u);
            System.out.printf(Locale.ROOT, "  turnutils_uclient -m %d -l %d: %,.0f delivered/s average, %,.0f peak, loss %.2f%%%n",
                    clients, size, u.averagePerSecond(), u.peakPerSecond(), u.lossPercent());
            ObjectNode j = ctx.results().line("relay", "coturn-uclient,clients=" + clients + ",size=" + size);
            j.put("command", u.command());
            j.put("sent", u.sent());
            j.put("delivered", u.received());
            j.put("active_s", u.activeSeconds());
            j.put("delivered_per_s", Results.round(u.averagePerSecond(), 1));
            j.put("delivered_per_s_peak", Results.round(u.peakPerSecond(), 1));
            j.put("loss_percent", Results.round(u.lossPercent(), 3));
            j.put("coturn_cpu_cores", Results.round(u.serverCores(), 3));
            j.put("avg_rtt_ms", u.averageRttMs());
            ctx.results().write(j);
        }
        return uclient;
    }

    private static RelayScenario.Load load(RelayScenario.Plan plan, InetSocketAddress server, long pid, int sessions, int size)
            throws Exception {
        try (RelayLoad load = new RelayLoad(plan.benchThreads())) {
            List<RelayLoad.Flow> flows = new ArrayList<>();
            List<RelayLoad.Endpoint> clients = new ArrayList<>();
            int w = plan.window();
            for (int i = 0; i < sessions; i++) {
                RelayLoad.Endpoint a = load.open(RelayLoad.Kind.TURN_CLIENT);
                RelayLoad.Endpoint b = load.open(RelayLoad.Kind.PLAIN);
                InetSocketAddress relayed = RelayLoad.Turn.allocate(a, server);
                RelayLoad.Turn.channelBind(a, server, 0x4000, b.local());
                clients.add(a);
                flows.add(new RelayLoad.Flow(a, b, server, load.payload(RelayLoad.Turn.channelHeader(0x4000, size), size), 4, w));
                flows.add(new RelayLoad.Flow(b, a, relayed, load.payload(new byte[0], size), 0, w));
            }
            try {
                return RelayScenario.measure("coturn", sessions, size, plan, flows, pid, () -> RelayScenario.Stats.NONE);
            } finally {
                Thread.sleep(100);
                for (RelayLoad.Endpoint a : clients) RelayLoad.Turn.release(a, server);
            }
        }
    }

    private static RelayScenario.Rtt rtt(RelayScenario.Plan plan, InetSocketAddress server) throws Exception {
        try (RelayLoad load = new RelayLoad(plan.benchThreads())) {
            RelayLoad.Endpoint a = load.open(RelayLoad.Kind.TURN_CLIENT);
            RelayLoad.Endpoint b = load.open(RelayLoad.Kind.PLAIN);
            RelayLoad.Turn.allocate(a, server);
            RelayLoad.Turn.channelBind(a, server, 0x4000, b.local());
            b.echo = true;
            try {
                return RelayScenario.pingPong("coturn", plan, new RelayLoad.Pinger(a, server,
                        load.payload(RelayLoad.Turn.channelHeader(0x4000, RelayScenario.PING_BYTES), RelayScenario.PING_BYTES), 4));
            } finally {
                Thread.sleep(100);
                RelayLoad.Turn.release(a, server);
            }
        }
    }

    private static final Pattern PROGRESS = Pattern.compile(
            "^(\\d+): : start_mclient: msz=\\d+, tot_send_msgs=(\\d+), tot_recv_msgs=(\\d+)", Pattern.MULTILINE);
    private static final Pattern LOST = Pattern.compile("Total lost packets (\\d+) \\(([\\d.]+)%\\)");
    private static final Pattern RTT = Pattern.compile("Average round trip delay ([\\d.]+) ms");

    private static Uclient uclient(RelayScenario.Plan plan, int port, long pid, int clients, int size) throws Exception {
        // about the generator's delivered rate times the measured seconds, split over the clients
        int perClient = Math.max(1000, 40_000 * plan.seconds() / clients);
        List<String> cmd = List.of(which(UCLIENT), "-y", "-c", "-z", "0", "-m", Integer.toString(clients), "-n",
                Integer.toString(perClient), "-l", Integer.toString(size), "-p", Integer.toString(port), "127.0.0.1");
        long cpu0 = Probe.cpuMillis(pid);
        Probe.Output o = Probe.run(cmd, 60L + 3L * plan.seconds());
        long cpu1 = Probe.cpuMillis(pid);
        String text = o.text();
        Matcher m = PROGRESS.matcher(text);
        List<long[]> points = new ArrayList<>(); // second, sent, received
        while (m.find()) points.add(new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(3))});
        long sent = points.isEmpty() ? 0 : points.get(points.size() - 1)[1];
        long received = points.isEmpty() ? 0 : points.get(points.size() - 1)[2];
        double start = Double.NaN;
        double end = Double.NaN;
        double peak = 0;
        for (int i = 1; i < points.size(); i++) {
            long[] a = points.get(i - 1);
            long[] b = points.get(i);
            if (b[2] > a[2]) {
                if (Double.isNaN(start)) start = a[0];
                end = b[0];
                if (b[0] > a[0]) peak = Math.max(peak, (b[2] - a[2]) / (double) (b[0] - a[0]));
            }
        }
        double active = Double.isNaN(start) ? Double.NaN : Math.max(1, end - start);
        Matcher lost = LOST.matcher(text);
        double lossPercent = lost.find() ? Double.parseDouble(lost.group(2)) : Double.NaN;
        Matcher rtt = RTT.matcher(text);
        String avgRtt = rtt.find() ? rtt.group(1) : "-";
        if (o.exit() != 0 || points.isEmpty()) {
            System.out.println("  warning: turnutils_uclient exit " + o.exit() + "; last lines:\n" + tail(text, 8));
        }
        double cores = cpu0 < 0 || cpu1 < 0 || Double.isNaN(active) ? Double.NaN : (cpu1 - cpu0) / 1000.0 / active;
        return new Uclient(String.join(" ", cmd), clients, size, sent, received, active, received / active, peak, lossPercent,
                cores, avgRtt);
    }

    private static String tail(String text, int n) {
        String[] l = text.split("\n");
        return String.join("\n", List.of(l).subList(Math.max(0, l.length - n), l.length));
    }
}
