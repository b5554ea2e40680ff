package org.parley.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Benchmark program. Usage:
 *
 * <pre>
 * bench/run.sh [attach|route|e2e|baseline-xmpp|relay|natlab|direct|drill|lookup|all] [--clients N] [--seconds S]
 *              [--pairs 1,10,100] [--concurrency C] [--users U] [--warmup W] [--bench-threads T] [--rounds R]
 *              [--supernodes S] [--kill K] [--capacity C] [--published U] [--window W] [--no-xmpp]
 * </pre>
 */
public final class Bench {
    private Bench() {}

    static final List<String> SCENARIOS = List.of("attach", "route", "e2e", "baseline-xmpp", "relay", "natlab", "direct", "drill",
            "lookup", "all");

    /** Command line options. */
    record Options(String scenario, int clients, int seconds, List<Integer> pairs, int concurrency, int users,
                   int warmupSeconds, int benchThreads, int rounds, boolean clientsGiven, int supernodes, int kill,
                   int capacity, int published, int window, boolean noXmpp) {
        String pairsList() {
            return pairs.toString();
        }

        static Options parse(String[] args) {
            String scenario = "all";
            int clients = 1000;
            int seconds = 10;
            List<Integer> pairs = List.of(1, 10, 100);
            int concurrency = 32;
            int users = 10;
            int warmup = -1;
            int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
            int rounds = 10;
            boolean clientsGiven = false;
            int supernodes = -1;
            int kill = -1;
            int capacity = -1;
            int published = -1;
            int window = -1;
            boolean noXmpp = false;
            boolean scenarioSeen = false;
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--clients" -> {
                        clients = intArg(args, ++i, a, 2, 100_000);
                        clientsGiven = true;
                    }
                    case "--supernodes" -> supernodes = intArg(args, ++i, a, 1, 16);
                    case "--kill" -> kill = intArg(args, ++i, a, 1, 15);
                    case "--capacity" -> capacity = intArg(args, ++i, a, 1, 1_000_000);
                    case "--published" -> published = intArg(args, ++i, a, 1, 100_000);
                    case "--window" -> window = intArg(args, ++i, a, 1, 4096);
                    case "--no-xmpp" -> noXmpp = true;
                    case "--seconds" -> seconds = intArg(args, ++i, a, 1, 3600);
                    case "--concurrency" -> concurrency = intArg(args, ++i, a, 1, 10_000);
                    case "--users" -> users = intArg(args, ++i, a, 2, 200);
                    case "--warmup" -> warmup = intArg(args, ++i, a, 0, 600);
                    case "--bench-threads" -> threads = intArg(args, ++i, a, 1, 64);
                    case "--rounds" -> rounds = intArg(args, ++i, a, 1, 100);
                    case "--pairs" -> {
                        if (++i >= args.length) throw new IllegalArgumentException("--pairs needs a value like 1,10,100");
                        List<Integer> l = new ArrayList<>();
                        for (String p : args[i].split(",")) {
                            try {
                                int v = Integer.parseInt(p.trim());
                                if (v < 1 || v > 10_000) throw new NumberFormatException();
                                l.add(v);
                            } catch (NumberFormatException e) {
                                throw new IllegalArgumentException("--pairs: '" + p + "' is not a number from 1 to 10000");
                            }
                        }
                        pairs = List.copyOf(l);
                    }
                    case "-h", "--help" -> throw new HelpRequested();
                    default -> {
                        if (a.startsWith("-") || scenarioSeen || !SCENARIOS.contains(a)) {
                            throw new IllegalArgumentException("unknown argument '" + a + "'");
                        }
                        scenario = a;
                        scenarioSeen = true;
                    }
                }
            }
            if (warmup < 0) warmup = Math.max(1, Math.min(3, seconds / 3));
            return new Options(scenario, clients, seconds, pairs, concurrency, users, warmup, threads, rounds, clientsGiven,
                    supernodes, kill, capacity, published, window, noXmpp);
        }

        static int intArg(String[] args, int i, String name, int min, int max) {
            if (i >= args.length) throw new IllegalArgumentException(name + " needs a number");
            try {
                int v = Integer.parseInt(args[i]);
                if (v < min || v > max) throw new NumberFormatException();
                return v;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(name + ": '" + args[i] + "' is not a number from " + min + " to " + max);
            }
        }
    }

    static final class HelpRequested extends RuntimeException {
        HelpRequested() {
            super(null, null, false, false);
        }
    }

    /** What the scenarios share. */
    record Context(Options options, Results results, Cleanup cleanup, Path tmp) {}

    static final String USAGE = """
            usage: bench/run.sh [attach|route|e2e|baseline-xmpp|relay|natlab|direct|drill|lookup|all] [--clients N]
                                [--seconds S] [--pairs 1,10,100] [--concurrency C] [--users U] [--warmup W]
                                [--bench-threads T] [--rounds R] [--supernodes S] [--kill K] [--capacity C]
                                [--published U] [--window W] [--no-xmpp]
              attach         N bench clients attach to a supernode in its own JVM: attaches/s, latency, heap per client
              route          sealed round trips between attached clients through the supernode, per concurrency level
              e2e            real client daemons: send -> delivered acknowledgement, direct and relayed
              baseline-xmpp  the route round trip through a private ejabberd, with ratios to Parley (runs 'route' first)
              relay          the supernode's UDP relay in its own JVM: forwarded datagrams/s, MB/s, CPU, added RTT; vs coturn
              natlab         NAT lab (root): time to first message and to a ready session per NAT pair, R rounds
              direct         one direct QUIC peer session on 127.0.0.1 (receiver in its own JVM): goodput, CPU; vs iperf3
              drill          S supernode processes (default 6, capacity 150), N clients (default 300) with the daemon's
                             attach logic; kill -9 K of them (default 30%): time until affected clients are re-attached
                             and findable again, peak load vs capacity of the survivors
              lookup         3 supernode processes, U published users (default 1000), N clients (default 50) on one
                             supernode pipelining Resolve (W in flight each, default 16): lookups/s and latency of that
                             supernode; vs ejabberd answering vCard gets from as many XMPP sessions
              all            all of the above (default)
              chat-sync      two daemon processes reconcile a group conversation (not part of 'all'); options:
                             [--history N] [--missing M] [--small-diff 1000,500] [--offline K] [--event-bytes B]
                             [--cases catchup,small-diff,identical] [--repeat R] [--no-xmpp] [--no-cache]
                             (defaults 100,000 / 10,000 / 1%,0.5% / 100 / 1024 / all / 3; vs ejabberd MAM)
              --clients N      bench clients for attach/route (default 1000)
              --seconds S      measured seconds per level (default 10)
              --pairs LIST     round trips in flight for route and baseline-xmpp (default 1,10,100)
              --concurrency C  attaches in flight (default 32)
              --users U        client daemons for e2e, even (default 10)
              --warmup W       unmeasured seconds before each level (default min(3, S/3))
              --bench-threads  event loop threads of the bench clients (default: number of cores)
              --rounds R       natlab rounds, each on cold NAT state (default 10)
              --supernodes S   supernode processes for drill (default 6) and lookup (default 3)
              --kill K         supernodes the drill kills at once (default 30% of S)
              --capacity C     --capacity of each drill supernode (default 150)
              --published U    users with a published record for lookup (default 1000)
              --window W       Resolve requests in flight per lookup client (default 16)
              --no-xmpp        lookup: skip the ejabberd comparison
            results: tables on standard output, JSON lines appended to bench/target/results.jsonl
            """;

    public static void main(String[] args) {
        int rc;
        try {
            rc = run(args);
        } catch (HelpRequested h) {
            System.out.print(USAGE);
            rc = 0;
        } catch (IllegalArgumentException e) {
            System.err.println("bench: " + e.getMessage());
            System.err.print(USAGE);
            rc = 2;
        }
        System.out.flush();
        System.exit(rc);
    }

    /** The body of a benchmark run, given its results file, cleanup and temporary folder. */
    interface Session {
        void run(Results results, Cleanup cleanup, Path tmp) throws Exception;
    }

    /**
     * Runs one benchmark session: a run id, the results file (system property {@code bench.results}), the
     * cleanup of spawned processes and of a temporary folder. Returns the exit code; argument errors pass
     * through to the caller's usage message.
     */
    static int session(String label, Session body) {
        String runId = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        Path resultsFile = resultsFile();
        String leftovers = System.getProperty("bench.leftovers");
        Cleanup cleanup = new Cleanup(leftovers == null ? null : Path.of(leftovers));
        Results results = new Results(resultsFile, runId);
        try {
            Path tmp = Files.createTempDirectory("parley-bench-");
            cleanup.folder(tmp);
            body.run(results, cleanup, tmp);
            System.out.println("\nresults appended to " + resultsFile.toAbsolutePath() + " (run " + runId + ")");
            return 0;
        } catch (IllegalArgumentException e) {
            throw e;
        } catch (Exception | Error e) {
            System.err.println(label + ": failed: " + e);
            e.printStackTrace(System.err);
            return 1;
        } finally {
            cleanup.runAll();
        }
    }

    /** bench/target/results.jsonl: the system property, else next to the classes folder, else relative. */
    static Path resultsFile() {
        String p = System.getProperty("bench.results");
        if (p != null) return Path.of(p);
        try {
            Path classes = Path.of(Bench.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (classes.endsWith(Path.of("target", "classes"))) return classes.resolveSibling("results.jsonl");
        } catch (Exception ignored) {
            // fall through
        }
        return Path.of("bench/target/results.jsonl");
    }

    static int run(String[] args) {
        if (List.of(args).contains(ChatSyncScenario.NAME)) return ChatSyncScenario.command(args); // has its own options
        Options o = Options.parse(args);
        return session("bench", (results, cleanup, tmp) -> {
            Context ctx = new Context(o, results, cleanup, tmp);
            environment(ctx);
            String s = o.scenario();
            List<RouteScenario.LevelResult> route = attachAndRoute(ctx);
            if (s.equals("baseline-xmpp") || s.equals("all")) XmppBaseline.run(ctx, route);
            if (s.equals("e2e") || s.equals("all")) E2eScenario.run(ctx);
            if (s.equals("relay") || s.equals("all")) RelayScenario.run(ctx);
            if (s.equals("natlab") || s.equals("all")) NatLabScenario.run(ctx);
            if (s.equals("direct") || s.equals("all")) DirectScenario.run(ctx);
            if (s.equals("drill") || s.equals("all")) DrillScenario.run(ctx);
            if (s.equals("lookup") || s.equals("all")) LookupScenario.run(ctx);
        });
    }

    /** The attach and route scenarios, which share one supernode; returns route's levels or null. */
    private static List<RouteScenario.LevelResult> attachAndRoute(Context ctx) throws Exception {
        Options o = ctx.options();
        String s = o.scenario();
        boolean xmppSkipped = s.equals("baseline-xmpp") && XmppServer.unavailableReason() != null;
        if (!(s.equals("attach") || s.equals("route") || s.equals("all") || (s.equals("baseline-xmpp") && !xmppSkipped))) {
            return null;
        }
        boolean measureAttach = s.equals("attach") || s.equals("all");
        boolean doRoute = !s.equals("attach");
        List<RouteScenario.LevelResult> route = null;
        Path dir = Files.createDirectories(ctx.tmp().resolve("network"));
        try (BenchNetwork net = BenchNetwork.start(dir, o.clients() + 10, ctx.cleanup())) {
            try (Fleet fleet = AttachScenario.run(ctx, net, measureAttach)) {
                if (doRoute) route = RouteScenario.run(ctx, net, fleet.attachedClients());
            }
            if (!net.alive()) System.out.println("warning: the supernode process exited during the run");
        }
        return route;
    }

    private static void environment(Context ctx) {
        Options o = ctx.options();
        String cpu = "unknown";
        try {
            for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (l.startsWith("model name")) {
                    cpu = l.substring(l.indexOf(':') + 1).trim();
                    break;
                }
            }
        } catch (Exception ignored) {
            // not Linux
        }
        String os = System.getProperty("os.name") + " " + System.getProperty("os.version");
        try {
            for (String l : Files.readAllLines(Path.of("/etc/os-release"))) {
                if (l.startsWith("PRETTY_NAME=")) os = l.substring(12).replace("\"", "") + ", kernel " + System.getProperty("os.version");
            }
        } catch (Exception ignored) {
            // keep os.name
        }
        int cores = Runtime.getRuntime().availableProcessors();
        long memMb = -1;
        try {
            for (String l : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (l.startsWith("MemTotal:")) memMb = Long.parseLong(l.replaceAll("\\D", "")) / 1024;
            }
        } catch (Exception ignored) {
            // unknown
        }
        String jdk = System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version");
        System.out.printf(Locale.ROOT, "Parley benchmark run %s: scenario %s, %d cores (%s), %,d MB RAM, %s, %s%n",
                ctx.results().runId(), o.scenario(), cores, cpu, memMb, os, jdk);
        System.out.printf(Locale.ROOT, "load average (1 min) at start: %.2f (the machine may be shared: see loadavg_1m in the JSON lines)%n",
                Probe.loadAverage());
        System.out.printf(Locale.ROOT, "options: clients %d, seconds %d (+%d warm-up), pairs %s, attach concurrency %d, e2e users %d, bench event loop threads %d%n",
                o.clients(), o.seconds(), o.warmupSeconds(), o.pairs(), o.concurrency(), o.users(), o.benchThreads());
        ObjectNode j = ctx.results().line("env", o.scenario());
        j.put("cores", cores);
        j.put("cpu", cpu);
        j.put("mem_mb", memMb);
        j.put("os", os);
        j.put("jdk", jdk);
        j.put("clients", o.clients());
        j.put("seconds", o.seconds());
        j.put("warmup_s", o.warmupSeconds());
        j.put("pairs", o.pairs().toString());
        j.put("concurrency", o.concurrency());
        j.put("users", o.users());
        ctx.results().write(j);
    }
}
