package org.parley.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.parley.protocol.ControlDatagram;
import org.parley.supernode.relay.Allocation;
import org.parley.supernode.relay.RelayConfig;
import org.parley.supernode.relay.UdpRelay;

/**
 * Scenario "relay": the supernode's UDP relay ({@link UdpRelay}) in its own JVM process ({@link Server}), driven
 * from this JVM by {@link RelayLoad}: for 1, 4 and 16 sessions and 1,200- and 100-byte datagrams, both sides of
 * every session bind and then send in both directions (closed loop, {@value #DEFAULT_WINDOW} datagrams in flight
 * per direction and session) for the measured seconds. Reports forwarded datagrams/s (the relay's own counter), delivered
 * datagrams/s and MB/s, loss, the relay's drops, and the relay process's CPU time per second (utime + stime from
 * /proc), hence datagrams per second per core; then round-trip times of a single 100-byte ping-pong through the
 * relay and directly between the two sides. The relay runs with an effectively unlimited rate
 * (1 TB/s per session) and byte cap so that its limits do not interfere, and gets {@value #WARM_UP_SECONDS} s of
 * unmeasured traffic per size first (JIT compilation of a new JVM). Parley and coturn cases alternate, so that both
 * see the same background load of a shared machine.
 *
 * <p>Comparison ({@link CoturnBaseline}): coturn, the TURN server users would deploy, on 127.0.0.1 with the same
 * generator (one side a TURN client using ChannelData, the other a plain peer sending to the relayed address:
 * one relay hop per datagram, as in Parley) and with coturn's own load tool {@code turnutils_uclient}. Skipped
 * with a message when coturn is not installed.
 *
 * <p>Run alone: {@code java -cp bench/target/classes:bench/target/lib/* org.parley.bench.RelayScenario
 * [--seconds S] [--warmup W] [--sessions 1,4,16] [--sizes 1200,100] [--relay-threads T] [--bench-threads T]
 * [--window N] [--no-coturn]}.
 */
public final class RelayScenario {
    private RelayScenario() {}

    /**
     * Datagrams in flight per flow (direction of a session). Small enough for every relay's socket buffers: coturn
     * gives each relayed address a 128 KiB receive buffer, which holds about 55 datagrams of 1,200 bytes.
     */
    static final int DEFAULT_WINDOW = 48;
    static final int PING_BYTES = 100;
    /** Unmeasured traffic through a new relay JVM per datagram size, before its first case (JIT compilation). */
    static final int WARM_UP_SECONDS = 4;
    /** The relay's rate limit in the benchmark: high enough never to apply. */
    static final long BENCH_BYTES_PER_SECOND = 1_000_000_000_000L;

    /** What to run. */
    record Plan(int seconds, int warmupSeconds, List<Integer> sessions, List<Integer> sizes, int relayThreads,
                int benchThreads, int window, boolean coturn) {
        static Plan of(Bench.Options o) {
            return new Plan(o.seconds(), o.warmupSeconds(), List.of(1, 4, 16), List.of(1200, 100),
                    Runtime.getRuntime().availableProcessors(), o.benchThreads(), DEFAULT_WINDOW, true);
        }

        int rttSeconds() {
            return Math.max(2, Math.min(5, seconds));
        }
    }

    /** One measured load case. */
    record Load(String system, int sessions, int size, double seconds, long sent, long received, long receivedBytes,
                double relayPackets, double relayDropped, double serverCpuSeconds, double benchCpuSeconds) {
        double deliveredPerSecond() {
            return received / seconds;
        }

        double megabytesPerSecond() {
            return receivedBytes / seconds / 1e6;
        }

        double lossPercent() {
            return sent == 0 ? Double.NaN : Math.max(0, 100.0 * (sent - received) / sent);
        }

        double serverCores() {
            return serverCpuSeconds / seconds;
        }

        /** Datagrams the relay forwarded per second (its counter; for coturn the delivered ones). */
        double forwardedPerSecond() {
            return Double.isNaN(relayPackets) ? deliveredPerSecond() : relayPackets / seconds;
        }

        double perCore() {
            return serverCpuSeconds <= 0 ? Double.NaN : forwardedPerSecond() / serverCores();
        }
    }

    /** Round trips of one path. */
    record Rtt(String path, Results.Summary summary, long timeouts) {}

    // ------------------------------------------------------------------------------------------ entry points

    /** As a scenario of {@link Bench}: uses --seconds, --warmup and --bench-threads. */
    static void run(Bench.Context ctx) throws Exception {
        run(ctx, Plan.of(ctx.options()));
    }

    public static void main(String[] args) {
        int rc;
        try {
            rc = standalone(args);
        } catch (IllegalArgumentException e) {
            System.err.println("bench relay: " + e.getMessage());
            System.err.println("usage: RelayScenario [--seconds S] [--warmup W] [--sessions 1,4,16] [--sizes 1200,100] "
                    + "[--relay-threads T] [--bench-threads T] [--window N] [--no-coturn]");
            rc = 2;
        }
        System.out.flush();
        System.exit(rc);
    }

    private static int standalone(String[] args) {
        int seconds = 10;
        int warmup = -1;
        List<Integer> sessions = List.of(1, 4, 16);
        List<Integer> sizes = List.of(1200, 100);
        int cores = Runtime.getRuntime().availableProcessors();
        int relayThreads = cores;
        int benchThreads = cores;
        int window = DEFAULT_WINDOW;
        boolean coturn = true;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--seconds" -> seconds = Bench.Options.intArg(args, ++i, a, 1, 600);
                case "--warmup" -> warmup = Bench.Options.intArg(args, ++i, a, 0, 60);
                case "--sessions" -> sessions = listArg(args, ++i, a, 1, 256);
                case "--sizes" -> sizes = listArg(args, ++i, a, 16, 1400);
                case "--relay-threads" -> relayThreads = Bench.Options.intArg(args, ++i, a, 1, 64);
                case "--bench-threads" -> benchThreads = Bench.Options.intArg(args, ++i, a, 1, 64);
                case "--window" -> window = Bench.Options.intArg(args, ++i, a, 1, 4096);
                case "--no-coturn" -> coturn = false;
                default -> throw new IllegalArgumentException("unknown argument '" + a + "'");
            }
        }
        if (warmup < 0) warmup = Math.max(1, Math.min(3, seconds / 3));
        Bench.Options o = Bench.Options.parse(new String[] {"--seconds", Integer.toString(seconds), "--warmup",
                Integer.toString(warmup), "--bench-threads", Integer.toString(benchThreads)});
        Plan plan = new Plan(seconds, warmup, sessions, sizes, relayThreads, benchThreads, window, coturn);
        return Bench.session("bench relay", (results, cleanup, tmp) -> run(new Bench.Context(o, results, cleanup, tmp), plan));
    }

    private static List<Integer> listArg(String[] args, int i, String name, int min, int max) {
        if (i >= args.length) throw new IllegalArgumentException(name + " needs a list like 1,4,16");
        List<Integer> l = new ArrayList<>();
        for (String p : args[i].split(",")) {
            try {
                int v = Integer.parseInt(p.trim());
                if (v < min || v > max) throw new NumberFormatException();
                l.add(v);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(name + ": '" + p + "' is not a number from " + min + " to " + max);
            }
        }
        return List.copyOf(l);
    }

    // ------------------------------------------------------------------------------------------ the scenario

    static void run(Bench.Context ctx, Plan plan) throws Exception {
        System.out.printf(Locale.ROOT, "%nrelay: Parley UdpRelay in its own JVM (%d threads, SO_REUSEPORT), load generator in this JVM "
                        + "(%d event loops, %d datagrams in flight per direction); %d s measured after %d s warm-up per case; "
                        + "sessions %s, datagram sizes %s; relay rate limit set to %,d B/s per session (never reached); "
                        + "load average %.2f%n",
                plan.relayThreads(), plan.benchThreads(), plan.window(), plan.seconds(), plan.warmupSeconds(), plan.sessions(),
                plan.sizes(), BENCH_BYTES_PER_SECOND, Probe.loadAverage());
        List<Load> loads = new ArrayList<>();
        List<Rtt> rtts = new ArrayList<>();
        List<CoturnBaseline.Uclient> uclient = List.of();
        String coturnVersion = null;
        try (RelayProcess relay = RelayProcess.start(ctx, plan.relayThreads())) {
            System.out.printf(Locale.ROOT, "  Parley relay pid %d on %s%n", relay.pid(), relay.address());
            // a new JVM compiles its hot paths during its first seconds of traffic: keep that out of the figures
            Plan warm = new Plan(WARM_UP_SECONDS, 0, List.of(4), List.of(), plan.relayThreads(), plan.benchThreads(),
                    plan.window(), false);
            for (int size : plan.sizes()) parleyLoad(warm, relay, 4, size);
            System.out.printf(Locale.ROOT, "  relay JVM warmed up with %d s of traffic per size (not measured)%n", WARM_UP_SECONDS);
            CoturnBaseline coturn = null;
            if (plan.coturn()) {
                coturn = CoturnBaseline.start(ctx, plan);
            } else {
                System.out.println("  coturn comparison not run (--no-coturn)");
            }
            try {
                // the two relays take turns case by case, so that both see the same background load of the machine
                for (int size : plan.sizes()) {
                    for (int sessions : plan.sessions()) {
                        Load l = parleyLoad(plan, relay, sessions, size);
                        loads.add(l);
                        printLoadLine(l);
                        if (coturn != null) {
                            Load c = coturn.load(plan, sessions, size);
                            loads.add(c);
                            printLoadLine(c);
                        }
                    }
                }
                rtts.add(parleyRtt(plan, relay));
                rtts.add(directRtt(plan));
                if (coturn != null) {
                    rtts.add(coturn.rtt(plan));
                    uclient = coturn.uclientRuns(ctx, plan);
                    coturnVersion = coturn.version();
                    if (!coturn.alive()) System.out.println("warning: turnserver exited during the run");
                }
            } finally {
                if (coturn != null) coturn.stop();
            }
        }
        report(ctx, plan, loads, rtts, coturnVersion, uclient);
    }

    private static void printLoadLine(Load l) {
        System.out.printf(Locale.ROOT, "  %-6s sessions %2d size %4d: %,10.0f forwarded/s, %,10.0f delivered/s, %7.1f MB/s, loss %.2f%%, "
                        + "relay CPU %.2f cores, bench CPU %.2f cores%n",
                l.system(), l.sessions(), l.size(), l.forwardedPerSecond(), l.deliveredPerSecond(), l.megabytesPerSecond(),
                l.lossPercent(), l.serverCores(), l.benchCpuSeconds() / l.seconds());
    }

    private static Load parleyLoad(Plan plan, RelayProcess relay, int sessions, int size) throws Exception {
        List<Allocation> allocations = relay.allocate(sessions);
        try (RelayLoad load = new RelayLoad(plan.benchThreads())) {
            List<RelayLoad.Flow> flows = new ArrayList<>();
            int w = plan.window();
            for (Allocation a : allocations) {
                RelayLoad.Endpoint ea = load.open(RelayLoad.Kind.PARLEY);
                RelayLoad.Endpoint eb = load.open(RelayLoad.Kind.PARLEY);
                bindParley(ea, relay.address(), a.tokenA());
                bindParley(eb, relay.address(), a.tokenB());
                byte[] payload = load.payload(new byte[0], size);
                flows.add(new RelayLoad.Flow(ea, eb, relay.address(), payload, 0, w));
                flows.add(new RelayLoad.Flow(eb, ea, relay.address(), payload, 0, w));
            }
            return measure("parley", sessions, size, plan, flows, relay.pid(), relay::stats);
        } finally {
            relay.releaseAll();
        }
    }

    /** Sends RELAY_BIND until RELAY_BOUND comes back (5 s at most). */
    static boolean bindParley(RelayLoad.Endpoint e, InetSocketAddress relay, byte[] token) throws Exception {
        byte[] bind = ControlDatagram.encode(new ControlDatagram.RelayBind(token));
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < end) {
            e.sendNow(bind, relay);
            byte[] r = e.pollControl(200);
            if (r == null) continue;
            ControlDatagram d = ControlDatagram.decode(r);
            if (d instanceof ControlDatagram.RelayBound b) return b.peerBound();
            if (d instanceof ControlDatagram.RelayDeny deny) throw new IOException("relay denied the bind, reason " + deny.reason());
        }
        throw new IOException("no RELAY_BOUND from " + relay + " within 5 s");
    }

    /** Relay-side counters at one moment: forwarded datagrams and all drops (NaN when unknown). */
    record Stats(double packets, double dropped) {
        static final Stats NONE = new Stats(Double.NaN, Double.NaN);
    }

    interface StatsSource {
        Stats get() throws Exception;
    }

    /** Runs the flows: warm-up, then the measured interval between two snapshots. */
    static Load measure(String system, int sessions, int size, Plan plan, List<RelayLoad.Flow> flows, long serverPid,
                        StatsSource stats) throws Exception {
        for (RelayLoad.Flow f : flows) f.start();
        try {
            Thread.sleep(plan.warmupSeconds() * 1000L);
            long benchPid = ProcessHandle.current().pid();
            long sent0 = 0;
            long recv0 = 0;
            long bytes0 = 0;
            for (RelayLoad.Flow f : flows) {
                sent0 += f.sent;
                recv0 += f.receivedPackets;
                bytes0 += f.receivedBytes;
            }
            Stats s0 = stats.get();
            long cpu0 = Probe.cpuMillis(serverPid);
            long bcpu0 = Probe.cpuMillis(benchPid);
            long t0 = System.nanoTime();
            Thread.sleep(plan.seconds() * 1000L);
            long sent1 = 0;
            long recv1 = 0;
            long bytes1 = 0;
            for (RelayLoad.Flow f : flows) {
                sent1 += f.sent;
                recv1 += f.receivedPackets;
                bytes1 += f.receivedBytes;
            }
            long t1 = System.nanoTime();
            long cpu1 = Probe.cpuMillis(serverPid);
            long bcpu1 = Probe.cpuMillis(benchPid);
            Stats s1 = stats.get();
            double secs = (t1 - t0) / 1e9;
            return new Load(system, sessions, size, secs, sent1 - sent0, recv1 - recv0, bytes1 - bytes0,
                    s1.packets() - s0.packets(), s1.dropped() - s0.dropped(),
                    cpu0 < 0 || cpu1 < 0 ? Double.NaN : (cpu1 - cpu0) / 1000.0,
                    bcpu0 < 0 || bcpu1 < 0 ? Double.NaN : (bcpu1 - bcpu0) / 1000.0);
        } finally {
            for (RelayLoad.Flow f : flows) f.stop();
        }
    }

    private static Rtt parleyRtt(Plan plan, RelayProcess relay) throws Exception {
        Allocation a = relay.allocate(1).get(0);
        try (RelayLoad load = new RelayLoad(plan.benchThreads())) {
            RelayLoad.Endpoint ea = load.open(RelayLoad.Kind.PARLEY);
            RelayLoad.Endpoint eb = load.open(RelayLoad.Kind.PARLEY);
            bindParley(ea, relay.address(), a.tokenA());
            bindParley(eb, relay.address(), a.tokenB());
            eb.echo = true;
            return pingPong("Parley relay", plan, new RelayLoad.Pinger(ea, relay.address(), load.payload(new byte[0], PING_BYTES), 0));
        } finally {
            relay.releaseAll();
        }
    }

    private static Rtt directRtt(Plan plan) throws Exception {
        try (RelayLoad load = new RelayLoad(plan.benchThreads())) {
            RelayLoad.Endpoint ea = load.open(RelayLoad.Kind.PLAIN);
            RelayLoad.Endpoint eb = load.open(RelayLoad.Kind.PLAIN);
            eb.echo = true;
            return pingPong("direct UDP", plan, new RelayLoad.Pinger(ea, eb.local(), load.payload(new byte[0], PING_BYTES), 0));
        }
    }

    /** 1 s unrecorded, then {@link Plan#rttSeconds()} recorded. */
    static Rtt pingPong(String path, Plan plan, RelayLoad.Pinger p) throws InterruptedException {
        p.start();
        try {
            Thread.sleep(1000);
            p.recording = true;
            long t0 = System.nanoTime();
            Thread.sleep(plan.rttSeconds() * 1000L);
            p.recording = false;
            double secs = (System.nanoTime() - t0) / 1e9;
            Thread.sleep(20); // the event loop has seen 'recording' turn false
            Histogram h = p.histogram.copy();
            // the histogram holds nanoseconds; Results.Summary expects microseconds
            Histogram us = new Histogram(TimeUnit.SECONDS.toMicros(10), 3);
            for (org.HdrHistogram.HistogramIterationValue v : h.recordedValues()) {
                us.recordValueWithCount(Math.max(1, v.getValueIteratedTo() / 1000), v.getCountAtValueIteratedTo());
            }
            Rtt r = new Rtt(path, Results.Summary.of(us, secs), p.timeouts);
            System.out.printf(Locale.ROOT, "  round trip %-14s p50 %s ms, p99 %s ms (%,d pings)%n", path,
                    Results.ms(r.summary().p50Ms()), Results.ms(r.summary().p99Ms()), r.summary().count());
            return r;
        } finally {
            p.stop();
        }
    }

    // ------------------------------------------------------------------------------------------ report

    private static void report(Bench.Context ctx, Plan plan, List<Load> loads, List<Rtt> rtts, String coturnVersion,
                               List<CoturnBaseline.Uclient> uclient) {
        Results.Table t = new Results.Table("relay throughput: both directions of every session, closed loop, "
                + plan.window() + " datagrams in flight per direction", "system", "sessions", "size B", "forwarded/s", "delivered/s",
                "MB/s", "loss %", "relay drops", "relay CPU cores", "forwarded/s per core", "bench CPU cores");
        for (Load l : loads) {
            t.row(l.system(), l.sessions(), l.size(), Results.num(l.forwardedPerSecond()), Results.num(l.deliveredPerSecond()),
                    String.format(Locale.ROOT, "%.1f", l.megabytesPerSecond()), String.format(Locale.ROOT, "%.2f", l.lossPercent()),
                    Double.isNaN(l.relayDropped()) ? "-" : Results.num(l.relayDropped()),
                    String.format(Locale.ROOT, "%.2f", l.serverCores()), Results.num(l.perCore()),
                    String.format(Locale.ROOT, "%.2f", l.benchCpuSeconds() / l.seconds()));
            ObjectNode j = ctx.results().line("relay", l.system() + ",sessions=" + l.sessions() + ",size=" + l.size());
            j.put("system", l.system());
            j.put("sessions", l.sessions());
            j.put("size_bytes", l.size());
            j.put("seconds", Results.round(l.seconds(), 3));
            j.put("sent", l.sent());
            j.put("delivered", l.received());
            j.put("forwarded_per_s", Results.round(l.forwardedPerSecond(), 1));
            j.put("delivered_per_s", Results.round(l.deliveredPerSecond(), 1));
            j.put("mb_per_s", Results.round(l.megabytesPerSecond(), 2));
            j.put("loss_percent", Results.round(l.lossPercent(), 3));
            if (!Double.isNaN(l.relayDropped())) j.put("relay_dropped", l.relayDropped());
            j.put("relay_cpu_cores", Results.round(l.serverCores(), 3));
            j.put("forwarded_per_s_per_core", Results.round(l.perCore(), 1));
            j.put("bench_cpu_cores", Results.round(l.benchCpuSeconds() / l.seconds(), 3));
            ctx.results().write(j);
        }
        t.note("forwarded/s: the relay's parley_relay_packets counter (coturn: delivered datagrams); delivered: received by the far side");
        t.note("relay CPU: utime+stime of the relay process from /proc over the measured interval; both processes share "
                + Runtime.getRuntime().availableProcessors() + " cores");
        t.print();

        Rtt direct = rtts.stream().filter(r -> r.path().equals("direct UDP")).findFirst().orElse(null);
        Results.Table rt = new Results.Table("relay round trip: one " + PING_BYTES + "-byte ping in flight, A -> B -> A, no other load",
                "path", "pings", "p50 ms", "p90 ms", "p99 ms", "max ms", "added p50 ms", "added p99 ms", "timeouts");
        for (Rtt r : rtts) {
            Results.Summary s = r.summary();
            double addP50 = direct == null || r == direct ? Double.NaN : s.p50Ms() - direct.summary().p50Ms();
            double addP99 = direct == null || r == direct ? Double.NaN : s.p99Ms() - direct.summary().p99Ms();
            rt.row(r.path(), s.count(), Results.ms(s.p50Ms()), Results.ms(s.p90Ms()), Results.ms(s.p99Ms()), Results.ms(s.maxMs()),
                    Double.isNaN(addP50) ? "-" : String.format(Locale.ROOT, "%.3f", addP50),
                    Double.isNaN(addP99) ? "-" : String.format(Locale.ROOT, "%.3f", addP99), r.timeouts());
            ObjectNode j = ctx.results().line("relay", "rtt," + r.path());
            s.into(j);
            if (!Double.isNaN(addP50)) {
                j.put("added_p50_ms", Results.round(addP50, 3));
                j.put("added_p99_ms", Results.round(addP99, 3));
            }
            j.put("timeouts", r.timeouts());
            ctx.results().write(j);
        }
        rt.note("through a relay the ping crosses it twice (A -> relay -> B -> relay -> A)");
        rt.print();

        if (coturnVersion != null) {
            Results.Table c = new Results.Table("Parley relay vs coturn " + coturnVersion + ", same generator, same run",
                    "sessions", "size B", "Parley forwarded/s", "coturn forwarded/s", "ratio", "Parley per core", "coturn per core",
                    "ratio per core");
            for (Load p : loads) {
                if (!p.system().equals("parley")) continue;
                Load x = loads.stream().filter(l -> l.system().equals("coturn") && l.sessions() == p.sessions()
                        && l.size() == p.size()).findFirst().orElse(null);
                if (x == null) continue;
                c.row(p.sessions(), p.size(), Results.num(p.forwardedPerSecond()), Results.num(x.forwardedPerSecond()),
                        Results.ratio(p.forwardedPerSecond(), x.forwardedPerSecond()), Results.num(p.perCore()),
                        Results.num(x.perCore()), Results.ratio(p.perCore(), x.perCore()));
                ObjectNode j = ctx.results().line("relay", "ratio,sessions=" + p.sessions() + ",size=" + p.size());
                j.put("parley_forwarded_per_s", Results.round(p.forwardedPerSecond(), 1));
                j.put("coturn_forwarded_per_s", Results.round(x.forwardedPerSecond(), 1));
                j.put("ratio", Results.round(p.forwardedPerSecond() / x.forwardedPerSecond(), 3));
                j.put("ratio_per_core", Results.round(p.perCore() / x.perCore(), 3));
                ctx.results().write(j);
            }
            c.note("coturn: one side is a TURN client (ChannelData), the other a plain peer sending to its relayed address,"
                    + " so each datagram crosses the relay once, as with Parley");
            c.print();
            CoturnBaseline.printUclient(coturnVersion, uclient);
        }
    }

    // ------------------------------------------------------------------------------------------ the relay process

    /** The relay JVM, driven through its standard input and output. */
    static final class RelayProcess implements AutoCloseable {
        private final Process process;
        private final PrintWriter in;
        private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        private final InetSocketAddress address;
        private final Cleanup.Handle handle;

        private RelayProcess(Process process, Path log, Cleanup cleanup) throws IOException, InterruptedException {
            this.process = process;
            this.in = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
            this.handle = cleanup.add("relay process " + process.pid(), this::stop);
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String l; (l = r.readLine()) != null; ) lines.add(l);
                } catch (IOException ignored) {
                    // the process ended
                }
            }, "relay-process-stdout");
            reader.setDaemon(true);
            reader.start();
            String first = expect("listening ", 60);
            if (first == null) {
                String tail = Probe.lastLines(log, 20);
                handle.close();
                throw new IOException("the relay process did not start; its output:\n" + tail);
            }
            String[] p = first.split(" ");
            this.address = new InetSocketAddress(Probe.LOOPBACK, Integer.parseInt(p[p.length - 1]));
        }

        static RelayProcess start(Bench.Context ctx, int threads) throws Exception {
            List<String> cmd = new ArrayList<>();
            cmd.add(Probe.jdkTool("java").toString());
            cmd.add("--enable-native-access=ALL-UNNAMED");
            String extra = System.getenv("BENCH_SUPERNODE_JAVA_OPTS");
            if (extra != null && !extra.isBlank()) cmd.addAll(List.of(extra.trim().split("\\s+")));
            cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Server.class.getName(), Integer.toString(threads)));
            Path log = ctx.tmp().resolve("relay.log");
            Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
            ctx.cleanup().notePid(p.pid());
            return new RelayProcess(p, log, ctx.cleanup());
        }

        long pid() {
            return process.pid();
        }

        InetSocketAddress address() {
            return address;
        }

        private String expect(String prefix, long seconds) throws InterruptedException {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            while (System.nanoTime() < end) {
                String l = lines.poll(100, TimeUnit.MILLISECONDS);
                if (l != null && l.startsWith(prefix)) return l;
                if (l == null && !process.isAlive()) return null;
            }
            return null;
        }

        private synchronized String command(String c, String answerPrefix) throws IOException, InterruptedException {
            in.println(c);
            String l = expect(answerPrefix, 30);
            if (l == null) throw new IOException("the relay process did not answer '" + c + "'");
            return l;
        }

        List<Allocation> allocate(int n) throws IOException, InterruptedException {
            List<Allocation> l = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String[] p = command("alloc", "session ").split(" ");
                l.add(new Allocation(Long.parseLong(p[1]), HexFormat.of().parseHex(p[2]), HexFormat.of().parseHex(p[3])));
            }
            return l;
        }

        void releaseAll() throws IOException, InterruptedException {
            command("release-all", "released ");
        }

        Stats stats() throws IOException, InterruptedException {
            String[] p = command("stats", "stats ").split(" ");
            return new Stats(Double.parseDouble(p[1]), Double.parseDouble(p[3]));
        }

        private void stop() throws InterruptedException {
            if (!process.isAlive()) return;
            in.println("quit");
            in.close();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        }

        @Override
        public void close() {
            handle.close();
        }
    }

    /**
     * The relay process: {@code java -cp <bench classpath> org.parley.bench.RelayScenario$Server [threads]}. Prints
     * {@code listening <port>}, then answers one line per command on standard input: {@code alloc} ->
     * {@code session <id> <tokenA hex> <tokenB hex>}; {@code release-all} -> {@code released <n>}; {@code stats} ->
     * {@code stats <forwarded packets> <forwarded bytes> <dropped, all reasons> <binds> <sessions>}; {@code quit}
     * or end of input stops it.
     */
    public static final class Server {
        private Server() {}

        public static void main(String[] args) throws Exception {
            int threads = args.length > 0 ? Integer.parseInt(args[0]) : Runtime.getRuntime().availableProcessors();
            RelayConfig config = RelayConfig.defaults().withThreads(threads).withMaxSessions(100_000)
                    .withRate(BENCH_BYTES_PER_SECOND, 1L << 40).withMaxSessionBytes(Long.MAX_VALUE)
                    .withTimeouts(Duration.ofHours(1), Duration.ofHours(1));
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            try (UdpRelay relay = UdpRelay.start(new InetSocketAddress(Probe.LOOPBACK, 0), config, registry, Clock.systemUTC())) {
                Runtime.getRuntime().addShutdownHook(new Thread(relay::close, "relay-shutdown"));
                PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
                out.println("listening " + relay.address().getPort());
                List<Long> ids = new ArrayList<>();
                BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
                for (String line; (line = in.readLine()) != null; ) {
                    switch (line.trim()) {
                        case "alloc" -> {
                            Allocation a = relay.allocate("bench-a", "bench-b");
                            ids.add(a.sessionId());
                            out.println("session " + a.sessionId() + " " + Allocation.hex(a.tokenA()) + " " + Allocation.hex(a.tokenB()));
                        }
                        case "release-all" -> {
                            for (long id : ids) relay.release(id);
                            out.println("released " + ids.size());
                            ids.clear();
                        }
                        case "stats" -> {
                            double dropped = registry.find("parley_relay_dropped").counters().stream().mapToDouble(c -> c.count()).sum();
                            out.printf(Locale.ROOT, "stats %.0f %.0f %.0f %.0f %d%n", registry.counter("parley_relay_packets").count(),
                                    registry.counter("parley_relay_bytes").count(), dropped,
                                    registry.counter("parley_relay_binds").count(), relay.sessions());
                        }
                        case "quit" -> {
                            return;
                        }
                        default -> out.println("error unknown command");
                    }
                }
            }
        }
    }
}
