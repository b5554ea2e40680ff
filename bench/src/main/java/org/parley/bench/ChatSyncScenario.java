package org.parley.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.parley.chat.SqliteEventStore;
import org.parley.chat.StoredEvent;
import org.parley.identity.DeviceCredentials;
import org.parley.protocol.ChatEvent;

/**
 * Scenario "chat-sync": how fast and how cheaply two real client daemons reconcile a large group conversation.
 *
 * <p>A login server (in this JVM), one supernode process and two enrolled homes, alice and bob, whose daemons run
 * as their own processes ({@code parley client --home H run}: real QUIC peer session, SQLite with
 * synchronous=FULL, signature and certificate checks of every received event). Before a daemon starts, its
 * {@code chat.db} is filled directly with a group "bench" (alice creator, bob member) of N events signed with the two
 * devices' real keys (see {@link ChatHistory}); a daemon re-indexes its store when it starts.
 *
 * <ul>
 *   <li><b>catchup</b>: alice holds all N, bob lacks the newest M. Alice's daemon starts and attaches, then bob's;
 *   measured from bob's attach (its status' attachedSince) and from the moment the alice–bob peer session is up
 *   (bob's log) to the moment bob's store holds N events (its events table, polled every 10 ms).</li>
 *   <li><b>small-diff-K</b>: bob lacks the newest K and holds {@code offline} events of his own that alice lacks
 *   (a branch written offline from his newest event); until both hold N + offline.</li>
 *   <li><b>identical</b>: after a case converged, {@code POST /api/v1/chats/sync} at bob: sync bytes and messages
 *   each way until the exchange is over.</li>
 * </ul>
 * Each case runs {@code --repeat} times with freshly started daemons. For comparison, ejabberd's MAM (XEP-0313) archive
 * with the same N messages, caught up by a new session of bob paging after the last archive id it saw
 * ({@link XmppArchive}).
 */
final class ChatSyncScenario {
    static final String NAME = "chat-sync";
    static final double TARGET_CATCHUP_SECONDS = 2.0;
    static final double TARGET_RATIO = 1.2;
    static final int TARGET_ROUND_TRIPS = 4;
    static final int TARGET_IDENTICAL_BYTES = 1024;
    static final List<String> CASES = List.of("catchup", "small-diff", "identical");

    private ChatSyncScenario() {}

    /**
     * @param history     events in the conversation (N)
     * @param missing     newest events bob lacks in catchup (M)
     * @param smallDiffs  newest events bob lacks in each small-diff case
     * @param offline     bob's own events alice lacks in small-diff
     * @param eventBytes  text bytes per message
     * @param cases       which of {@link #CASES}
     * @param repeat      runs per case
     * @param xmpp        whether to run the ejabberd MAM comparison
     * @param cacheRoot   where generated histories are cached (null: no cache)
     */
    record Config(int history, int missing, List<Integer> smallDiffs, int offline, int eventBytes, List<String> cases,
                  int repeat, boolean xmpp, Path cacheRoot) {
        Config {
            if (history < 10) throw new IllegalArgumentException("--history must be at least 10");
            if (missing < 1 || missing > history - 2) throw new IllegalArgumentException("--missing must be 1.." + (history - 2));
            for (int k : smallDiffs) {
                if (k < 1 || k > history - 2) throw new IllegalArgumentException("--small-diff values must be 1.." + (history - 2));
            }
            smallDiffs = List.copyOf(smallDiffs);
            cases = List.copyOf(cases);
        }
    }

    // ------------------------------------------------------------------ command line

    /** Entry from {@link Bench#run}: {@code chat-sync [options]}. */
    static int command(String[] args) {
        Config cfg = parse(args);
        return Bench.session(NAME, (results, cleanup, tmp) -> {
            // the stores must be on a real disk (fsync), as the daemon's would be; the temporary folder is
            Path dir = Files.createDirectories(tmp.resolve("chat-sync"));
            Result r = run(cfg, dir, cleanup, results, System.out);
            print(r, System.out);
        });
    }

    static Config parse(String[] args) {
        int history = 100_000;
        Integer missing = null;
        List<Integer> smallDiffs = null;
        Integer offline = null;
        int eventBytes = 1024;
        List<String> cases = CASES;
        int repeat = 3;
        boolean xmpp = true;
        boolean cache = true;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case NAME -> { }
                case "--history" -> history = Bench.Options.intArg(args, ++i, a, 10, 1_000_000);
                case "--missing" -> missing = Bench.Options.intArg(args, ++i, a, 1, 1_000_000);
                case "--offline" -> offline = Bench.Options.intArg(args, ++i, a, 0, 100_000);
                case "--event-bytes" -> eventBytes = Bench.Options.intArg(args, ++i, a, 1, org.parley.protocol.Limits.MAX_TEXT_BYTES);
                case "--repeat" -> repeat = Bench.Options.intArg(args, ++i, a, 1, 50);
                case "--no-xmpp" -> xmpp = false;
                case "--no-cache" -> cache = false;
                case "--small-diff" -> {
                    if (++i >= args.length) throw new IllegalArgumentException("--small-diff needs a list like 1000,500");
                    List<Integer> l = new ArrayList<>();
                    for (String p : args[i].split(",")) l.add(Bench.Options.intArg(new String[] {p.trim()}, 0, a, 1, 1_000_000));
                    smallDiffs = l;
                }
                case "--cases" -> {
                    if (++i >= args.length) throw new IllegalArgumentException("--cases needs a list like catchup,identical");
                    Set<String> l = new LinkedHashSet<>();
                    for (String p : args[i].split(",")) {
                        String c = p.trim();
                        if (c.equals("all")) l.addAll(CASES);
                        else if (CASES.contains(c)) l.add(c);
                        else throw new IllegalArgumentException("--cases: '" + c + "' is not one of " + CASES);
                    }
                    cases = List.copyOf(l);
                }
                case "-h", "--help" -> throw new Bench.HelpRequested();
                default -> throw new IllegalArgumentException("chat-sync: unknown argument '" + a + "'");
            }
        }
        if (missing == null) missing = Math.max(1, history / 10);
        if (smallDiffs == null) smallDiffs = List.of(Math.max(1, history / 100), Math.max(1, history / 200));
        if (offline == null) offline = Math.max(1, history / 1000);
        Path cacheRoot = cache ? Bench.resultsFile().toAbsolutePath().getParent().resolve("chat-sync-cache") : null;
        return new Config(history, missing, smallDiffs, offline, eventBytes, cases, repeat, xmpp, cacheRoot);
    }

    // ------------------------------------------------------------------ results

    /** One run of catchup or small-diff. Times in ms (NaN if unknown), bytes as the daemons count them. */
    record CaseRun(String kase, int repeat, int missing, int offline, int movedEvents, long movedBytes, boolean converged,
                   double fromAttachMs, double fromSessionMs, double fromHelloMs, double attachToSessionMs,
                   long bobIn, long bobOut, long aliceIn, long aliceOut, long bobRanges, long aliceRanges,
                   int flights, int roundTrips, long sessionBytes, long rejectedBob, long rejectedAlice, int pendingEnd,
                   int pendingMax, long pushedEvents, long acceptedFromPushes, int pushes, int hellos, long bobEvents,
                   long aliceEvents, double aliceStartMs, double bobStartMs, String sessionPath, long bobCpuMs, long aliceCpuMs,
                   int sessionDrops) {
        /** Sync bytes put on the wire by both sides (sender-counted: frames sent on a session that then dropped count too). */
        long syncBytes() {
            return bobOut + aliceOut;
        }

        double ratio() {
            return movedBytes == 0 ? Double.NaN : (double) syncBytes() / movedBytes;
        }
    }

    /** One identical-history check: bytes each way as the sender counts them (bobIn = what alice sent) and messages. */
    record IdenticalRun(String after, int repeat, long bobOut, long bobIn, long aliceOut, long aliceIn, long rangeMessages,
                        int hellos, int flights, int roundTrips, double millis, String note) {}

    /** The ejabberd comparison. */
    record Xmpp(String version, XmppArchive.Filled filled, List<XmppArchive.CatchUp> runs, String skipped) {}

    record Setup(double networkSeconds, double enrolSeconds, double historySeconds, boolean historyCached,
                 double templateSeconds, long templateBytes, long historyBytes, long eventBytesMin, long eventBytesMax) {}

    record Result(Config config, Setup setup, List<CaseRun> runs, List<IdenticalRun> identical, Xmpp xmpp,
                  List<String> notes) {}

    // ------------------------------------------------------------------ the run

    static Result run(Config cfg, Path dir, Cleanup cleanup, Results results, PrintStream out) throws Exception {
        List<String> notes = new ArrayList<>();
        out.printf(Locale.ROOT, "%nchat-sync: %d cores, load average %.2f, %s %s; history %,d events (%d-byte texts), catchup "
                        + "missing %,d, small-diff %s + %d offline, cases %s, %d repeat(s)%n",
                Runtime.getRuntime().availableProcessors(), Probe.loadAverage(), System.getProperty("java.vm.name"),
                System.getProperty("java.runtime.version"), cfg.history(), cfg.eventBytes(), cfg.missing(), cfg.smallDiffs(),
                cfg.offline(), cfg.cases(), cfg.repeat());
        long t0 = System.nanoTime();
        try (ChatSyncNetwork net = ChatSyncNetwork.start(dir.resolve("net"), cleanup)) {
            double networkSeconds = since(t0);
            // ---- homes and history
            Path cache = cfg.cacheRoot() == null ? null : ChatHistory.cacheDir(cfg.cacheRoot(), cfg.history(), cfg.eventBytes());
            boolean useCache = cache != null && ChatHistory.cached(cache);
            long t1 = System.nanoTime();
            DeviceCredentials alice = net.enrol("alice", useCache ? cache.resolve("alice") : null);
            DeviceCredentials bob = net.enrol("bob", useCache ? cache.resolve("bob") : null);
            double enrolSeconds = since(t1);
            ChatHistory.Author aliceA = author(alice);
            ChatHistory.Author bobA = author(bob);
            long t2 = System.nanoTime();
            ChatHistory h = null;
            if (useCache) {
                h = ChatHistory.load(cache);
                if (h.size() != cfg.history() || !h.deviceHex(0).equals(alice.deviceId()) || !h.deviceHex(1).equals(bob.deviceId())) {
                    out.println("  the cached history does not match the device keys; generating a new one");
                    notes.add("the cached history in " + cache + " did not match the device keys and was regenerated");
                    h = null;
                    useCache = false;
                }
            }
            if (h == null) {
                long span = Duration.ofDays(30).toMillis();
                long start = System.currentTimeMillis() - Duration.ofDays(8).toMillis() - span;
                out.printf(Locale.ROOT, "  signing %,d events with the two device keys (%d threads)...%n", cfg.history(),
                        Runtime.getRuntime().availableProcessors());
                h = ChatHistory.generate(cfg.history(), cfg.eventBytes(), aliceA, bobA, start, Math.max(1, span / cfg.history()));
                if (cache != null) h.save(cache, net.home("alice"), net.home("bob"));
            }
            double historySeconds = since(t2);
            // certificates of the two device keys that cover the history (it predates the enrolment)
            Instant nb = Instant.ofEpochMilli((h.hlcs[0] >>> 16) - 3_600_000L);
            Instant na = Instant.now().plus(Duration.ofDays(2));
            List<byte[]> certs = List.of(net.historyCertificate(alice, nb, na), net.historyCertificate(bob, nb, na),
                    alice.certificate().getEncoded(), bob.certificate().getEncoded());
            long t3 = System.nanoTime();
            Path template = dir.resolve("template.db");
            h.writeStore(template, certs);
            double templateSeconds = since(t3);
            long minB = Long.MAX_VALUE, maxB = 0;
            for (byte[] e : h.encoded) {
                minB = Math.min(minB, e.length);
                maxB = Math.max(maxB, e.length);
            }
            Setup setup = new Setup(networkSeconds, enrolSeconds, historySeconds, useCache, templateSeconds, Files.size(template),
                    h.bytes(0, h.size()), minB, maxB);
            out.printf(Locale.ROOT, "  setup: network %.1f s, enrolment %.1f s, history %.1f s (%s), store template %.1f s "
                            + "(%s, events %d..%d bytes encoded)%n", networkSeconds, enrolSeconds, historySeconds,
                    useCache ? "from the cache " + cache : "generated and signed" + (cache == null ? "" : ", cached in " + cache),
                    templateSeconds, Probe.mb(setup.templateBytes()), minB, maxB);

            Runner runner = new Runner(cfg, net, cleanup, h, template, bobA, out, results);
            if (results != null) {
                runner.keep = results.file().toAbsolutePath().getParent().resolve("chat-sync-logs").resolve(results.runId());
                out.println("  daemon logs of every round are kept in " + runner.keep);
            }
            List<CaseRun> runs = new ArrayList<>();
            List<IdenticalRun> identical = new ArrayList<>();
            boolean ident = cfg.cases().contains("identical");
            try {
                if (cfg.cases().contains("catchup")) {
                    for (int r = 1; r <= cfg.repeat(); r++) {
                        runs.add(runner.diffCase("catchup", r, cfg.missing(), List.of()));
                        if (ident) identical.add(runner.identical("catchup", r));
                    }
                }
                if (cfg.cases().contains("small-diff")) {
                    for (int k : cfg.smallDiffs()) {
                        List<ChatEvent.Decoded> branch = h.branch(bobA, cfg.history() - k - 1, cfg.offline(), cfg.eventBytes());
                        for (int r = 1; r <= cfg.repeat(); r++) {
                            runs.add(runner.diffCase("small-diff-" + k, r, k, branch));
                            if (ident) identical.add(runner.identical("small-diff-" + k, r));
                        }
                    }
                }
                if (ident && runs.isEmpty()) {
                    for (int r = 1; r <= cfg.repeat(); r++) {
                        runner.identicalStart(r);
                        identical.add(runner.identical("identical", r));
                    }
                }
            } finally {
                runner.stopDaemons();
            }
            if (!net.supernodeAlive()) notes.add("the supernode process exited during the run");
            notes.addAll(runner.notes);

            // ---- ejabberd MAM
            Xmpp xmpp = null;
            if (cfg.xmpp() && cfg.cases().contains("catchup")) xmpp = xmpp(cfg, h, cleanup, out, results);
            Result res = new Result(cfg, setup, runs, identical, xmpp, notes);
            if (results != null) writeSummary(results, res);
            return res;
        }
    }

    private static ChatHistory.Author author(DeviceCredentials c) {
        return new ChatHistory.Author(c.user(), c.privateKey(), HexFormat.of().parseHex(c.deviceId()));
    }

    static double since(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    // ------------------------------------------------------------------ one case

    /** Runs the cases on one network: resets the stores, (re)starts the daemons, watches, reads the logs. */
    static final class Runner {
        final Config cfg;
        final ChatSyncNetwork net;
        final Cleanup cleanup;
        final ChatHistory h;
        final Path template;
        final ChatHistory.Author bobA;
        final PrintStream out;
        final Results results;
        final List<String> notes = new ArrayList<>();
        ChatSyncNetwork.Daemon alice, bob;
        int round;
        /** Log lines already read per daemon (for the identical check after a case). */
        int aliceMark, bobMark;

        Runner(Config cfg, ChatSyncNetwork net, Cleanup cleanup, ChatHistory h, Path template, ChatHistory.Author bobA,
               PrintStream out, Results results) {
            this.cfg = cfg;
            this.net = net;
            this.cleanup = cleanup;
            this.h = h;
            this.template = template;
            this.bobA = bobA;
            this.out = out;
            this.results = results;
        }

        /** Where the daemons' logs of each round are kept (next to the results), or null. */
        Path keep;
        String label = "";

        void stopDaemons() {
            if (alice != null) alice.stop();
            if (bob != null) bob.stop();
            for (ChatSyncNetwork.Daemon d : new ChatSyncNetwork.Daemon[] {alice, bob}) {
                if (d == null || keep == null) continue;
                try {
                    Files.createDirectories(keep);
                    Files.copy(d.log, keep.resolve(label + "-" + d.user + ".log"), StandardCopyOption.REPLACE_EXISTING);
                } catch (IOException e) {
                    notes.add("cannot keep " + d.log + ": " + e.getMessage());
                }
            }
            alice = null;
            bob = null;
        }

        /** Copies the template store into a home (no WAL left over). */
        private void reset(String user) throws IOException {
            Path home = net.home(user);
            for (String s : List.of("chat.db-wal", "chat.db-shm", "chat.db-journal")) Files.deleteIfExists(home.resolve(s));
            Files.copy(template, home.resolve("chat.db"), StandardCopyOption.REPLACE_EXISTING);
        }

        /** Bob's store: the history up to event {@code keep} (exclusive) plus his offline branch. */
        private void trimBob(int keep, List<ChatEvent.Decoded> branch) throws Exception {
            Path db = net.home("bob").resolve("chat.db");
            try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db.toAbsolutePath());
                 PreparedStatement p = c.prepareStatement("DELETE FROM events WHERE hlc > ?")) {
                p.setLong(1, h.hlcs[keep - 1]);
                int n = p.executeUpdate();
                if (n != h.size() - keep) throw new IllegalStateException("trimmed " + n + " events, expected " + (h.size() - keep));
            }
            if (!branch.isEmpty()) {
                try (SqliteEventStore s = new SqliteEventStore(db)) {
                    long now = System.currentTimeMillis();
                    s.insert(branch.stream().map(d -> StoredEvent.of(d, now)).toList(), List.of(), "local");
                }
            }
        }

        /** catchup (branch empty) or small-diff: bob lacks the newest {@code missing}, holds {@code branch} alice lacks. */
        CaseRun diffCase(String kase, int repeat, int missing, List<ChatEvent.Decoded> branch) throws Exception {
            stopDaemons();
            round++;
            label = kase + "-" + repeat;
            int n = h.size();
            long expected = n + branch.size();
            reset("alice");
            reset("bob");
            trimBob(n - missing, branch);
            long movedBytes = h.bytes(n - missing, n);
            for (ChatEvent.Decoded d : branch) movedBytes += d.encoded().length;
            out.printf(Locale.ROOT, "%n  %s #%d: bob lacks the newest %,d of %,d events%s; starting alice's daemon...%n", kase, repeat,
                    missing, n, branch.isEmpty() ? "" : String.format(Locale.ROOT, " and holds %d of his own that alice lacks", branch.size()));
            long a0 = System.nanoTime();
            alice = net.startDaemon("alice", cleanup, round);
            alice.awaitAttached(Duration.ofSeconds(120));
            double aliceStartMs = since(a0) * 1000;
            long b0 = System.nanoTime();
            bob = net.startDaemon("bob", cleanup, round);
            long attachedAt = bob.awaitAttached(Duration.ofSeconds(120));
            double bobStartMs = since(b0) * 1000;
            long bobCpu0 = Probe.cpuMillis(bob.process.pid()), aliceCpu0 = Probe.cpuMillis(alice.process.pid());
            aliceMark = 0;
            bobMark = 0;
            long endAt = -1;
            long bobCpu1 = bobCpu0, aliceCpu1 = aliceCpu0;
            long deadline = System.nanoTime() + Duration.ofSeconds(Math.max(120, n / 200)).toNanos();
            try (StoreWatch wb = new StoreWatch(net.home("bob").resolve("chat.db"));
                 StoreWatch wa = branch.isEmpty() ? null : new StoreWatch(net.home("alice").resolve("chat.db"))) {
                while (System.nanoTime() < deadline) {
                    long nb = wb.count();
                    long na = wa == null ? expected : wa.count();
                    if (nb >= expected && na >= expected) {
                        endAt = System.currentTimeMillis();
                        bobCpu1 = Probe.cpuMillis(bob.process.pid());
                        aliceCpu1 = Probe.cpuMillis(alice.process.pid());
                        break;
                    }
                    if (!bob.alive() || !alice.alive()) break;
                    Thread.sleep(10);
                }
            }
            boolean converged = endAt > 0;
            quiesce();
            Counters cb = counters(bob, "alice");
            Counters ca = counters(alice, "bob");
            List<LogEvent> la = LogEvent.read(alice.log, "alice", 0);
            List<LogEvent> lb = LogEvent.read(bob.log, "bob", 0);
            aliceMark = lineCount(alice.log);
            bobMark = lineCount(bob.log);
            // what happened up to convergence (later lines: the identical check, periodic syncs 30 s after the session)
            final long cut = endAt > 0 ? endAt + 200 : Long.MAX_VALUE;
            List<LogEvent> all = merge(la, lb).stream().filter(e -> e.at <= cut).toList();
            long sessionAt = lb.stream().filter(e -> e.kind == LogKind.SESSION_UP && e.peer.startsWith("alice")).mapToLong(e -> e.at)
                    .min().orElse(-1);
            String sessionPath = lb.stream().filter(e -> e.kind == LogKind.SESSION_UP && e.peer.startsWith("alice")).map(e -> e.detail)
                    .findFirst().orElse("?");
            long helloAt = all.stream().filter(e -> e.kind == LogKind.HELLO_SENT).mapToLong(e -> e.at).min().orElse(-1);
            Flights f = Flights.of(all);
            long pushed = 0, acceptedPushes = 0;
            int pushes = 0, pendingMax = 0;
            int drops = (int) all.stream().filter(e -> e.kind == LogKind.SESSION_DOWN).count();
            for (LogEvent e : merge(la, lb)) {
                if (e.kind != LogKind.PUSH && e.kind != LogKind.LIVE_PUSH) continue;
                if (e.kind == LogKind.PUSH) {
                    pushes++;
                    pushed += e.a;
                    acceptedPushes += e.b;
                }
                pendingMax = Math.max(pendingMax, e.d);
            }
            int hellos = (int) all.stream().filter(e -> e.kind == LogKind.HELLO_SENT).count();
            CaseRun r = new CaseRun(kase, repeat, missing, branch.size(), missing + branch.size(), movedBytes, converged,
                    converged ? endAt - attachedAt : Double.NaN,
                    converged && sessionAt > 0 ? endAt - sessionAt : Double.NaN,
                    converged && helloAt > 0 ? endAt - helloAt : Double.NaN,
                    sessionAt > 0 ? sessionAt - attachedAt : Double.NaN,
                    cb.in, cb.out, ca.in, ca.out, cb.msgs, ca.msgs, f.flights, f.roundTrips(), cb.sessionBytes,
                    cb.rejected, ca.rejected, cb.pending + ca.pending, pendingMax, pushed, acceptedPushes, pushes, hellos,
                    cb.events, ca.events, aliceStartMs, bobStartMs, sessionPath, bobCpu1 - bobCpu0, aliceCpu1 - aliceCpu0,
                    drops);
            if (!converged) {
                notes.add(String.format(Locale.ROOT, "%s #%d did NOT converge: bob holds %d, alice %d of %d events (daemon logs: %s, %s)",
                        kase, repeat, cb.events, ca.events, expected, bob.log, alice.log));
            } else if (cb.events != expected || ca.events != expected) {
                notes.add(String.format(Locale.ROOT, "%s #%d: after convergence the daemons report %d (bob) and %d (alice) events, expected %d",
                        kase, repeat, cb.events, ca.events, expected));
            }
            out.printf(Locale.ROOT, "  %s #%d: %s in %s s from bob's attach (%s s from the session, path %s; %s s from the first hello); "
                            + "sync bytes bob in/out %s / %s, alice in/out %s / %s -> %.3fx the %s that moved; SyncRange messages "
                            + "bob %d / alice %d, %d flights = %d round trips; rejected %d / %d, pushes %d with %d events (%d accepted), "
                            + "pending max %d%n",
                    kase, repeat, converged ? "converged" : "NOT converged", sec(r.fromAttachMs()), sec(r.fromSessionMs()),
                    sessionPath, sec(r.fromHelloMs()), Probe.mb(cb.in), Probe.mb(cb.out), Probe.mb(ca.in), Probe.mb(ca.out), r.ratio(),
                    Probe.mb(movedBytes), cb.msgs, ca.msgs, f.flights, f.roundTrips(), cb.rejected, ca.rejected, pushes, pushed,
                    acceptedPushes, pendingMax);
            out.printf(Locale.ROOT, "    daemon start: alice %.1f s to attached, bob %.1f s; bob attached -> session %s s; CPU while syncing: "
                            + "bob %.1f s, alice %.1f s; peer session went down %d time(s) before convergence; flights %s%n",
                    aliceStartMs / 1000, bobStartMs / 1000, sec(r.attachToSessionMs()), r.bobCpuMs() / 1000.0, r.aliceCpuMs() / 1000.0,
                    drops, f.trace);
            if (results != null) write(results, r);
            return r;
        }

        /** Both stores hold the whole history; waits until the daemons' first sync is over (for identical alone). */
        void identicalStart(int repeat) throws Exception {
            stopDaemons();
            round++;
            label = "identical-" + repeat;
            reset("alice");
            reset("bob");
            alice = net.startDaemon("alice", cleanup, round);
            alice.awaitAttached(Duration.ofSeconds(120));
            bob = net.startDaemon("bob", cleanup, round);
            bob.awaitAttached(Duration.ofSeconds(120));
            long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (System.nanoTime() < end) {
                boolean session = false;
                for (JsonNode s : bob.status().path("sessions")) if (s.path("user").asText().equals("alice")) session = true;
                if (session && bob.status().path("chat").path("syncBytesIn").asLong() > 0) break;
                Thread.sleep(50);
            }
            quiesce();
            aliceMark = lineCount(alice.log);
            bobMark = lineCount(bob.log);
        }

        /** POST /api/v1/chats/sync at bob with identical histories: bytes and messages each way. */
        IdenticalRun identical(String after, int repeat) throws Exception {
            if (alice == null || bob == null) throw new IllegalStateException("no daemons");
            quiesce();
            aliceMark = lineCount(alice.log);
            bobMark = lineCount(bob.log);
            Counters b0 = counters(bob, "alice");
            Counters a0 = counters(alice, "bob");
            bob.syncNow();
            long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (System.nanoTime() < end && counters(bob, "alice").in == b0.in) Thread.sleep(20);
            quiesce();
            Counters b1 = counters(bob, "alice");
            Counters a1 = counters(alice, "bob");
            List<LogEvent> all = merge(LogEvent.read(alice.log, "alice", aliceMark), LogEvent.read(bob.log, "bob", bobMark));
            aliceMark = lineCount(alice.log);
            bobMark = lineCount(bob.log);
            Flights f = Flights.of(all);
            int hellos = (int) all.stream().filter(e -> e.kind == LogKind.HELLO_SENT).count();
            long sent = all.stream().filter(e -> e.kind == LogKind.HELLO_SENT && e.who.equals("bob")).mapToLong(e -> e.at).min().orElse(-1);
            long replied = all.stream().filter(e -> e.kind == LogKind.HELLO_REPLY && e.who.equals("bob")).mapToLong(e -> e.at).max().orElse(-1);
            String note = hellos > 1 ? hellos + " hellos in the window (a periodic sync coincided)" : "";
            IdenticalRun r = new IdenticalRun(after, repeat, b1.out - b0.out, a1.out - a0.out, a1.out - a0.out, a1.in - a0.in,
                    (b1.msgs - b0.msgs) + (a1.msgs - a0.msgs), hellos, f.flights, f.roundTrips(),
                    sent > 0 && replied >= sent ? replied - sent : Double.NaN, note);
            out.printf(Locale.ROOT, "  identical (after %s #%d): bob -> alice %d B, alice -> bob %d B (alice counts %d / %d), "
                            + "SyncRange messages %d, hellos %d, %d flights = %d round trip(s), hello -> reply %s ms%s%n",
                    after, repeat, r.bobOut(), r.bobIn(), r.aliceIn(), r.aliceOut(), r.rangeMessages(), hellos, f.flights,
                    f.roundTrips(), Double.isNaN(r.millis()) ? "-" : String.format(Locale.ROOT, "%.0f", r.millis()),
                    note.isEmpty() ? "" : "; " + note);
            if (results != null) write(results, r);
            return r;
        }

        /** Waits until neither daemon's sync counters moved for 1.5 s (at most 30 s). */
        void quiesce() throws Exception {
            long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            String last = null;
            long stableSince = System.nanoTime();
            while (System.nanoTime() < end) {
                Counters b = counters(bob, "alice");
                Counters a = counters(alice, "bob");
                String now = b.in + "/" + b.out + "/" + b.msgs + "/" + b.events + "/" + a.in + "/" + a.out + "/" + a.msgs + "/" + a.events;
                if (!now.equals(last)) {
                    last = now;
                    stableSince = System.nanoTime();
                } else if (System.nanoTime() - stableSince > 1_500_000_000L) {
                    return;
                }
                Thread.sleep(250);
            }
        }
    }

    static String sec(double ms) {
        return Double.isNaN(ms) ? "-" : String.format(Locale.ROOT, "%.2f", ms / 1000);
    }

    static int lineCount(Path log) throws IOException {
        try (var s = Files.lines(log, StandardCharsets.UTF_8)) {
            return (int) s.count();
        } catch (java.io.UncheckedIOException e) {
            return 0;
        }
    }

    /** A daemon's chat counters (status) and its peer session's QUIC bytes (sent + received). */
    record Counters(long in, long out, long msgs, long rejected, int pending, long events, long accepted, long sessionBytes) {}

    static Counters counters(ChatSyncNetwork.Daemon d, String peer) throws Exception {
        JsonNode s = d.status();
        JsonNode c = s.path("chat");
        long sb = 0;
        for (JsonNode x : s.path("sessions")) {
            if (x.path("user").asText().equals(peer)) sb += Math.max(0, x.path("bytesSent").asLong()) + Math.max(0, x.path("bytesReceived").asLong());
        }
        return new Counters(c.path("syncBytesIn").asLong(), c.path("syncBytesOut").asLong(), c.path("syncMessagesOut").asLong(),
                c.path("rejected").asLong(), c.path("pending").asInt(), c.path("events").asLong(), c.path("accepted").asLong(), sb);
    }

    /**
     * The number of events in a daemon's store, read from another connection to its SQLite file (WAL: readers do
     * not block the daemon's writes) as {@code max(rowid)}, which costs a few microseconds where the status' COUNT(*)
     * scans an index of the whole table. The rows of an event table that was only inserted into (the trimmed
     * events were the newest rows) are numbered 1..count.
     */
    static final class StoreWatch implements AutoCloseable {
        private final Connection c;
        private final PreparedStatement p;

        StoreWatch(Path db) throws SQLException {
            c = DriverManager.getConnection("jdbc:sqlite:" + db.toAbsolutePath());
            p = c.prepareStatement("SELECT COALESCE(MAX(rowid), 0) FROM events");
        }

        long count() throws SQLException {
            try (ResultSet r = p.executeQuery()) {
                return r.next() ? r.getLong(1) : 0;
            }
        }

        @Override
        public void close() throws SQLException {
            p.close();
            c.close();
        }
    }

    // ------------------------------------------------------------------ the daemons' logs

    enum LogKind { HELLO_SENT, HELLO_REPLY, HELLO_RECEIVED, HELLO_ANSWERED, RANGE, PUSH, LIVE_PUSH, SESSION_UP, SESSION_DOWN, ATTACHED }

    /** One parsed line of a daemon log ({@code who} logged it; {@code peer} is the other side). */
    record LogEvent(long at, String who, LogKind kind, long syncId, String peer, long a, long b, long c, int d, String detail) {
        private static final Pattern LINE = Pattern.compile("^(\\d\\d:\\d\\d:\\d\\d\\.\\d{3}) +\\w+ +\\[(\\w+)\\] (.*)$");
        private static final Pattern HELLO_TO = Pattern.compile("^\\w+: sync hello (\\d+) to (\\S+) \\((\\d+) conversations\\)");
        private static final Pattern HELLO_FROM = Pattern.compile("^\\w+: sync hello (\\d+) from (\\S+) \\(reply (true|false), (\\d+) conversations\\)");
        private static final Pattern ANSWERED = Pattern.compile("^\\w+: sync (\\d+) with (\\S+): (\\d+) conversation\\(s\\) differ");
        private static final Pattern RANGE = Pattern.compile("^\\w+: sync (\\d+) range from (\\S+): send (\\d+), need (\\d+), reply (none|(\\d+) B)");
        private static final Pattern PUSH = Pattern.compile("^\\w+: push (\\d+) from (\\S+): (\\d+) events, (\\d+) accepted, (\\d+) rejected, (\\d+) pending");
        private static final Pattern SESSION = Pattern.compile("^session with (\\S+) \\((\\S+)\\): (\\S+) -> (\\S+)");

        static List<LogEvent> read(Path log, String who, int fromLine) throws IOException {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            List<LogEvent> out = new ArrayList<>();
            LocalDate today = LocalDate.now();
            long now = System.currentTimeMillis();
            for (int i = fromLine; i < lines.size(); i++) {
                Matcher m = LINE.matcher(lines.get(i));
                if (!m.matches()) continue;
                long at = LocalTime.parse(m.group(1)).atDate(today).atZone(ZoneId.systemDefault()).toInstant().toEpochMilli();
                if (at > now + 3_600_000L) at -= 86_400_000L; // the line was written before midnight
                String msg = m.group(3);
                Matcher x;
                if ((x = HELLO_TO.matcher(msg)).find()) {
                    out.add(new LogEvent(at, who, LogKind.HELLO_SENT, Long.parseLong(x.group(1)), x.group(2), 0, 0, 0, 0, ""));
                } else if ((x = HELLO_FROM.matcher(msg)).find()) {
                    boolean reply = x.group(3).equals("true");
                    out.add(new LogEvent(at, who, reply ? LogKind.HELLO_REPLY : LogKind.HELLO_RECEIVED, Long.parseLong(x.group(1)),
                            x.group(2), 0, 0, 0, 0, reply ? "reply" : "received"));
                } else if ((x = ANSWERED.matcher(msg)).find()) {
                    // the answer to a hello: its reply (and the first SyncRange, if any) goes back now
                    out.add(new LogEvent(at, who, LogKind.HELLO_ANSWERED, Long.parseLong(x.group(1)), x.group(2),
                            Long.parseLong(x.group(3)), 0, 0, 0, "answered"));
                } else if ((x = RANGE.matcher(msg)).find()) {
                    out.add(new LogEvent(at, who, LogKind.RANGE, Long.parseLong(x.group(1)), x.group(2), Long.parseLong(x.group(3)),
                            Long.parseLong(x.group(4)), x.group(6) == null ? 0 : Long.parseLong(x.group(6)), 0, x.group(5)));
                } else if ((x = PUSH.matcher(msg)).find()) {
                    long id = Long.parseLong(x.group(1));
                    out.add(new LogEvent(at, who, id == 0 ? LogKind.LIVE_PUSH : LogKind.PUSH, id, x.group(2), Long.parseLong(x.group(3)),
                            Long.parseLong(x.group(4)), Long.parseLong(x.group(5)), Integer.parseInt(x.group(6)), ""));
                } else if ((x = SESSION.matcher(msg)).find()) {
                    boolean down = x.group(4).equals("none");
                    out.add(new LogEvent(at, who, down ? LogKind.SESSION_DOWN : LogKind.SESSION_UP, 0, x.group(1), 0, 0, 0, 0,
                            down ? x.group(3) + " -> none" : x.group(4)));
                } else if (msg.contains(" attached to supernode ")) {
                    out.add(new LogEvent(at, who, LogKind.ATTACHED, 0, "", 0, 0, 0, 0, ""));
                }
            }
            return out;
        }
    }

    static List<LogEvent> merge(List<LogEvent> a, List<LogEvent> b) {
        List<LogEvent> all = new ArrayList<>(a);
        all.addAll(b);
        all.sort((x, y) -> Long.compare(x.at, y.at));
        return all;
    }

    /**
     * Flights of the reconciliation: the control messages (a hello sent, a hello's reply received, a SyncRange received)
     * in time order, grouped into maximal runs in the same direction; pushes travel with the control messages of their
     * direction, and pushes that still arrive after the last control message in the other direction add one flight.
     * Round trips = ceil(flights / 2). A hello that the tie-break ignores (both sides opened at once) adds no flight of
     * its own when the other side's hello went the same way.
     */
    record Flights(int flights, String trace) {
        int roundTrips() {
            return (flights + 1) / 2;
        }

        static Flights of(List<LogEvent> all) {
            StringBuilder trace = new StringBuilder();
            String dir = null;
            int flights = 0;
            long lastControl = -1;
            int inFlight = 0;
            for (LogEvent e : all) {
                String d;
                switch (e.kind) {
                    case HELLO_SENT -> d = e.who + ">";
                    case HELLO_REPLY, RANGE -> d = (e.who.equals("bob") ? "alice" : "bob") + ">";
                    default -> d = null;
                }
                if (d == null) continue;
                lastControl = e.at;
                if (!d.equals(dir)) {
                    if (dir != null) trace.append(inFlight).append("] ");
                    flights++;
                    dir = d;
                    inFlight = 0;
                    trace.append(d.equals("bob>") ? "B>A[" : "A>B[");
                }
                inFlight++;
            }
            if (dir != null) trace.append(inFlight).append("]");
            for (LogEvent e : all) {
                if (e.kind != LogKind.PUSH || e.at < lastControl) continue;
                String d = (e.who.equals("bob") ? "alice" : "bob") + ">";
                if (!d.equals(dir)) {
                    flights++;
                    trace.append(" + pushes ").append(d.equals("bob>") ? "B>A" : "A>B");
                    break;
                }
            }
            return new Flights(flights, trace.toString());
        }
    }

    // ------------------------------------------------------------------ ejabberd

    private static Xmpp xmpp(Config cfg, ChatHistory h, Cleanup cleanup, PrintStream out, Results results) {
        String why = XmppServer.unavailableReason();
        if (why != null) {
            out.println("\n  ejabberd MAM comparison SKIPPED: " + why);
            return new Xmpp(null, null, List.of(), why);
        }
        int n = h.size();
        int m = cfg.missing();
        out.printf(Locale.ROOT, "%n  ejabberd MAM: bob's archive gets %,d messages of %d bytes (two sent through the server as the "
                + "template, the rest written into mnesia's archive table while ejabberd is stopped)...%n", n, cfg.eventBytes());
        try (XmppArchive x = XmppArchive.start(cleanup)) {
            String pw = "bench-" + org.parley.identity.Keys.randomToken(6);
            x.register("alice", pw);
            x.register("bob", pw);
            XmppArchive.Filled f = x.bulkFill(n, cfg.eventBytes(), n - m - 1, pw, out);
            out.printf(Locale.ROOT, "  archive filled in %.1f s, spool %s; bob's other device saw archive id %s last (message %,d)%n",
                    f.seconds(), Probe.mb(f.spoolBytes()), f.lastSeenId(), n - m - 1);
            List<XmppArchive.CatchUp> runs = new ArrayList<>();
            for (int r = 1; r <= cfg.repeat(); r++) {
                XmppArchive.CatchUp c = x.catchUp(pw, "phone" + r, f.lastSeenId(), m);
                runs.add(c);
                out.printf(Locale.ROOT, "  MAM catch-up #%d: %,d messages in %d pages (largest %d) in %.2f s; %s out, %s in over TLS "
                                + "(login %.0f ms, %,d B)%s%n", r, c.received(), c.pages(), c.largestPage(), c.millis() / 1000,
                        Probe.mb(c.bytesOut()), Probe.mb(c.bytesIn()), c.loginMillis(), c.loginBytes(),
                        c.received() == m && f.newestId().equals(c.lastId()) ? "" : "  (INCOMPLETE: expected " + m + " ending at " + f.newestId() + ")");
                if (results != null) {
                    ObjectNode j = results.line(NAME, "ejabberd-mam");
                    j.put("repeat", r);
                    j.put("history", n);
                    j.put("missing", m);
                    j.put("received", c.received());
                    j.put("pages", c.pages());
                    j.put("largest_page", c.largestPage());
                    j.put("seconds", Results.round(c.millis() / 1000, 3));
                    j.put("bytes_out", c.bytesOut());
                    j.put("bytes_in", c.bytesIn());
                    j.put("login_ms", Results.round(c.loginMillis(), 1));
                    j.put("login_bytes", c.loginBytes());
                    j.put("fill_seconds", Results.round(f.seconds(), 1));
                    results.write(j);
                }
            }
            return new Xmpp(XmppServer.version(), f, runs, null);
        } catch (Exception e) {
            out.println("  ejabberd MAM comparison FAILED: " + e);
            return new Xmpp(XmppServer.version(), null, List.of(), "failed: " + e);
        }
    }

    // ------------------------------------------------------------------ output

    /** median, min, max of some values (NaN ignored). */
    record Stat(double median, double min, double max, int n) {
        static Stat of(List<Double> values) {
            double[] v = values.stream().mapToDouble(Double::doubleValue).filter(d -> !Double.isNaN(d)).sorted().toArray();
            if (v.length == 0) return new Stat(Double.NaN, Double.NaN, Double.NaN, 0);
            double med = v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
            return new Stat(med, v[0], v[v.length - 1], v.length);
        }

        String fmt(String pattern) {
            if (n == 0) return "-";
            String m = String.format(Locale.ROOT, pattern, median);
            if (n == 1 || min == max) return m;
            return m + " (" + String.format(Locale.ROOT, pattern, min) + "–" + String.format(Locale.ROOT, pattern, max) + ")";
        }
    }

    static Stat stat(List<CaseRun> runs, java.util.function.ToDoubleFunction<CaseRun> f) {
        return Stat.of(runs.stream().map(r -> f.applyAsDouble(r)).toList());
    }

    static void print(Result res, PrintStream out) {
        Config cfg = res.config();
        List<String> kases = res.runs().stream().map(CaseRun::kase).distinct().toList();
        for (String k : kases) {
            List<CaseRun> rs = res.runs().stream().filter(r -> r.kase().equals(k)).toList();
            CaseRun first = rs.get(0);
            boolean catchup = k.equals("catchup");
            Results.Table t = new Results.Table(String.format(Locale.ROOT,
                    "chat-sync %s: history %,d events, bob lacks the newest %,d%s (%s of events move), median (min–max) of %d",
                    k, cfg.history(), first.missing(), first.offline() == 0 ? "" : ", alice lacks bob's " + first.offline(),
                    Probe.mb(first.movedBytes()), rs.size()), "metric", "value", "target");
            long conv = rs.stream().filter(CaseRun::converged).count();
            t.row("converged (all events on both sides)", conv + " of " + rs.size(), "all");
            Stat fromAttach = stat(rs, r -> r.fromAttachMs() / 1000);
            Stat fromSession = stat(rs, r -> r.fromSessionMs() / 1000);
            t.row("time from bob attached, s", fromAttach.fmt("%.2f"), catchup ? "< 2 s" : "");
            t.row("time from peer session up, s", fromSession.fmt("%.2f"), catchup ? "< 2 s" : "");
            t.row("time from first SyncHello, s", stat(rs, r -> r.fromHelloMs() / 1000).fmt("%.2f"), "");
            t.row("bob attached -> session up, s", stat(rs, r -> r.attachToSessionMs() / 1000).fmt("%.2f"), "");
            t.row("sync bytes at bob in / out, KB", stat(rs, r -> r.bobIn() / 1024.0).fmt("%,.0f") + " / "
                    + stat(rs, r -> r.bobOut() / 1024.0).fmt("%,.1f"), "");
            t.row("sync bytes at alice in / out, KB", stat(rs, r -> r.aliceIn() / 1024.0).fmt("%,.1f") + " / "
                    + stat(rs, r -> r.aliceOut() / 1024.0).fmt("%,.0f"), "");
            t.row("all sync bytes / bytes of the events that moved", stat(rs, CaseRun::ratio).fmt("%.3f"),
                    catchup ? "" : "<= 1.2 (diff < 1%)");
            t.row("QUIC session bytes, both ways, KB", stat(rs, r -> r.sessionBytes() / 1024.0).fmt("%,.0f"), "");
            t.row("SyncRange messages bob / alice", stat(rs, r -> r.bobRanges()).fmt("%.0f") + " / "
                    + stat(rs, r -> r.aliceRanges()).fmt("%.0f"), "");
            t.row("flights / round trips", stat(rs, r -> r.flights()).fmt("%.0f") + " / " + stat(rs, r -> r.roundTrips()).fmt("%.0f"),
                    catchup ? "" : "<= 4 round trips");
            t.row("sync pushes / events in them / accepted (until quiet)", stat(rs, r -> r.pushes()).fmt("%.0f") + " / "
                    + stat(rs, r -> r.pushedEvents()).fmt("%.0f") + " / " + stat(rs, r -> r.acceptedFromPushes()).fmt("%.0f"), "");
            t.row("peer session lost before convergence (either side)", stat(rs, r -> r.sessionDrops()).fmt("%.0f")
                    + String.format(Locale.ROOT, " (in %d of %d runs)", rs.stream().filter(r -> r.sessionDrops() > 0).count(), rs.size()), "");
            t.row("rejected bob / alice", stat(rs, r -> r.rejectedBob()).fmt("%.0f") + " / " + stat(rs, r -> r.rejectedAlice()).fmt("%.0f"), "0");
            t.row("events waiting for parents: max / at the end", stat(rs, r -> r.pendingMax()).fmt("%.0f") + " / "
                    + stat(rs, r -> r.pendingEnd()).fmt("%.0f"), "");
            t.row("CPU of the daemon processes meanwhile: bob / alice, s", stat(rs, r -> r.bobCpuMs() / 1000.0).fmt("%.1f") + " / "
                    + stat(rs, r -> r.aliceCpuMs() / 1000.0).fmt("%.1f"), "");
            t.row("daemon start to attached: alice / bob, s", stat(rs, r -> r.aliceStartMs() / 1000).fmt("%.1f") + " / "
                    + stat(rs, r -> r.bobStartMs() / 1000).fmt("%.1f"), "");
            if (catchup) {
                boolean met = conv == rs.size() && fromAttach.median() < TARGET_CATCHUP_SECONDS;
                t.note(String.format(Locale.ROOT, "target: catch up %,d of %,d events in < 2 s -> %s (median %s s from bob's attach, %s s from the session)",
                        first.missing(), cfg.history(), met ? "MET" : "NOT MET", fromAttach.fmt("%.2f"), fromSession.fmt("%.2f")));
            } else {
                Stat ratio = stat(rs, CaseRun::ratio);
                Stat rt = stat(rs, r -> r.roundTrips());
                double share = 100.0 * first.movedEvents() / cfg.history();
                t.note(String.format(Locale.ROOT, "difference %.2f%% of the history%s; target bytes <= 1.2x and <= 4 round trips -> %s "
                                + "(worst %.3fx, %.0f round trips)", share, share < 1 ? "" : " (the target is stated for < 1%)",
                        ratio.max() <= TARGET_RATIO && rt.max() <= TARGET_ROUND_TRIPS ? "MET" : "NOT MET", ratio.max(), rt.max()));
            }
            t.note("times end when bob's store (and alice's, in small-diff) holds every event (max(rowid) of the events table, polled every 10 ms);");
            t.note("sync bytes: SyncHello + SyncRange + sync EventPush frames as the daemons count them (frame bytes, no QUIC/TLS overhead);");
            t.note("the ratio divides what both sides sent (alice out + bob out) by the encoded size of the events that had to move;");
            t.note("'flights': runs of control messages in one direction (from the daemons' debug logs); each repeat is a fresh pair of daemon processes");
            t.print();
        }
        if (!res.identical().isEmpty()) {
            List<IdenticalRun> is = res.identical();
            Results.Table t = new Results.Table("chat-sync identical: POST /api/v1/chats/sync at bob with identical histories of "
                    + String.format(Locale.ROOT, "%,d+ events", cfg.history()), "after", "bob -> alice B", "alice -> bob B",
                    "SyncRange msgs", "hellos", "round trips", "hello -> reply ms", "verdict");
            for (IdenticalRun r : is) {
                boolean ok = r.roundTrips() <= 1 && r.rangeMessages() == 0 && r.bobOut() < TARGET_IDENTICAL_BYTES && r.bobIn() < TARGET_IDENTICAL_BYTES;
                t.row(r.after() + " #" + r.repeat(), r.bobOut(), r.bobIn(), r.rangeMessages(), r.hellos(), r.roundTrips(),
                        Double.isNaN(r.millis()) ? "-" : String.format(Locale.ROOT, "%.0f", r.millis()), (ok ? "MET" : "NOT MET")
                                + (r.note().isEmpty() ? "" : " (" + r.note() + ")"));
            }
            t.note("target: one round trip, < 1 KB each way; bytes are frame bytes counted by their sender");
            t.print();
        }
        comparison(res, out);
        if (!res.notes().isEmpty()) {
            out.println();
            for (String n : res.notes()) out.println("  note: " + n);
        }
        Setup s = res.setup();
        out.printf(Locale.ROOT, "%n  setup (not measured): network %.1f s, enrolment %.1f s, history %.1f s (%s), store template %.1f s (%s)%n",
                s.networkSeconds(), s.enrolSeconds(), s.historySeconds(), s.historyCached() ? "cached" : "generated and signed",
                s.templateSeconds(), Probe.mb(s.templateBytes()));
    }

    private static void comparison(Result res, PrintStream out) {
        List<CaseRun> cu = res.runs().stream().filter(r -> r.kase().equals("catchup")).toList();
        if (cu.isEmpty()) return;
        Config cfg = res.config();
        CaseRun first = cu.get(0);
        Stat pTime = stat(cu, r -> r.fromSessionMs() / 1000);
        Stat pTimeAttach = stat(cu, r -> r.fromAttachMs() / 1000);
        Stat pSync = stat(cu, r -> (double) r.syncBytes());
        Stat pQuic = stat(cu, r -> (double) r.sessionBytes());
        Results.Table t = new Results.Table(String.format(Locale.ROOT, "chat-sync vs alternatives: catch up the newest %,d of %,d "
                + "messages (%d-byte texts)", first.missing(), cfg.history(), cfg.eventBytes()), "system", "time s", "bytes both ways",
                "Parley time / it", "Parley bytes / it");
        t.row("Parley (from session up; from attach)", pTime.fmt("%.2f") + "; " + pTimeAttach.fmt("%.2f"),
                String.format(Locale.ROOT, "%s frames, %s QUIC", Probe.mb((long) pSync.median()), Probe.mb((long) pQuic.median())), "", "");
        Xmpp x = res.xmpp();
        if (x != null && !x.runs().isEmpty()) {
            Stat xt = Stat.of(x.runs().stream().map(c -> c.millis() / 1000).toList());
            Stat xb = Stat.of(x.runs().stream().map(c -> (double) (c.bytesIn() + c.bytesOut())).toList());
            XmppArchive.CatchUp c0 = x.runs().get(0);
            t.row(String.format(Locale.ROOT, "%s, mod_mam (mnesia), MAM + RSM over TLS, %d pages of <= %d", x.version(), c0.pages(),
                    c0.largestPage()), xt.fmt("%.2f"), Probe.mb((long) xb.median()) + " TLS",
                    Results.ratio(pTime.median(), xt.median()), Results.ratio(pQuic.median(), xb.median()));
            t.note("ejabberd's time runs from the first query of a logged-in session to the last page; Parley's from the session up "
                    + "(the pair of peers has its authenticated channel in both)");
            t.note("Parley bytes / it compares QUIC session bytes (both ways, incl. handshake) with TLS socket bytes of the queries");
        } else if (x != null) {
            t.row("ejabberd MAM", "-", "-", "-", "-");
            t.note("ejabberd: " + x.skipped());
        }
        long idList = (long) cfg.history() * 32 + first.movedBytes();
        t.row("'full id list' baseline (N x 32 B ids + the missing events), computed", "-", Probe.mb(idList), "-",
                Results.ratio(pSync.median(), idList));
        t.row("the missing events alone (encoded), computed", "-", Probe.mb(first.movedBytes()), "-",
                Results.ratio(pSync.median(), first.movedBytes()));
        t.note("'Parley bytes / it' for the computed rows compares Parley's sync frame bytes");
        t.print();
    }

    // ------------------------------------------------------------------ JSON

    private static void write(Results results, CaseRun r) {
        ObjectNode j = results.line(NAME, r.kase());
        j.put("repeat", r.repeat());
        j.put("missing", r.missing());
        j.put("offline", r.offline());
        j.put("moved_events", r.movedEvents());
        j.put("moved_bytes", r.movedBytes());
        j.put("converged", r.converged());
        j.put("from_attach_s", Results.round(r.fromAttachMs() / 1000, 3));
        j.put("from_session_s", Results.round(r.fromSessionMs() / 1000, 3));
        j.put("from_hello_s", Results.round(r.fromHelloMs() / 1000, 3));
        j.put("attach_to_session_s", Results.round(r.attachToSessionMs() / 1000, 3));
        j.put("bob_sync_bytes_in", r.bobIn());
        j.put("bob_sync_bytes_out", r.bobOut());
        j.put("alice_sync_bytes_in", r.aliceIn());
        j.put("alice_sync_bytes_out", r.aliceOut());
        j.put("bytes_ratio", Results.round(r.ratio(), 4));
        j.put("quic_session_bytes", r.sessionBytes());
        j.put("bob_range_messages", r.bobRanges());
        j.put("alice_range_messages", r.aliceRanges());
        j.put("flights", r.flights());
        j.put("round_trips", r.roundTrips());
        j.put("hellos", r.hellos());
        j.put("pushes", r.pushes());
        j.put("pushed_events", r.pushedEvents());
        j.put("accepted_from_pushes", r.acceptedFromPushes());
        j.put("rejected_bob", r.rejectedBob());
        j.put("rejected_alice", r.rejectedAlice());
        j.put("pending_max", r.pendingMax());
        j.put("pending_end", r.pendingEnd());
        j.put("bob_events", r.bobEvents());
        j.put("alice_events", r.aliceEvents());
        j.put("session_path", r.sessionPath());
        j.put("bob_cpu_s", r.bobCpuMs() / 1000.0);
        j.put("session_drops", r.sessionDrops());
        j.put("alice_cpu_s", r.aliceCpuMs() / 1000.0);
        results.write(j);
    }

    private static void write(Results results, IdenticalRun r) {
        ObjectNode j = results.line(NAME, "identical");
        j.put("after", r.after());
        j.put("repeat", r.repeat());
        j.put("bob_to_alice_bytes", r.bobOut());
        j.put("alice_to_bob_bytes", r.bobIn());
        j.put("alice_counted_in", r.aliceIn());
        j.put("alice_counted_out", r.aliceOut());
        j.put("range_messages", r.rangeMessages());
        j.put("hellos", r.hellos());
        j.put("flights", r.flights());
        j.put("round_trips", r.roundTrips());
        j.put("hello_to_reply_ms", Results.round(r.millis(), 1));
        j.put("note", r.note());
        results.write(j);
    }

    private static void writeSummary(Results results, Result res) {
        Config cfg = res.config();
        ObjectNode j = results.line(NAME, "summary");
        j.put("history", cfg.history());
        j.put("missing", cfg.missing());
        j.put("event_bytes", cfg.eventBytes());
        j.put("offline", cfg.offline());
        j.put("repeat", cfg.repeat());
        ArrayNode sd = j.putArray("small_diffs");
        cfg.smallDiffs().forEach(sd::add);
        for (String k : res.runs().stream().map(CaseRun::kase).distinct().toList()) {
            List<CaseRun> rs = res.runs().stream().filter(r -> r.kase().equals(k)).toList();
            ObjectNode c = j.putObject(k);
            c.put("from_attach_s_median", Results.round(stat(rs, r -> r.fromAttachMs() / 1000).median(), 3));
            c.put("from_session_s_median", Results.round(stat(rs, r -> r.fromSessionMs() / 1000).median(), 3));
            c.put("bytes_ratio_median", Results.round(stat(rs, CaseRun::ratio).median(), 4));
            c.put("round_trips_max", stat(rs, r -> r.roundTrips()).max());
            c.put("converged", rs.stream().allMatch(CaseRun::converged));
        }
        Setup s = res.setup();
        j.put("setup_network_s", Results.round(s.networkSeconds(), 2));
        j.put("setup_history_s", Results.round(s.historySeconds(), 2));
        j.put("setup_history_cached", s.historyCached());
        j.put("setup_template_s", Results.round(s.templateSeconds(), 2));
        ArrayNode notes = j.putArray("notes");
        res.notes().forEach(notes::add);
        results.write(j);
    }
}
