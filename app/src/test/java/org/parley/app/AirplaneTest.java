package org.parley.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.parley.app.ProcessHarness.list;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.parley.app.ProcessHarness.Daemon;
import org.parley.app.ProcessHarness.Network;
import org.parley.app.ProcessHarness.Res;

/**
 * The seed scenario with real processes and a real network cut: a long-lived group of alice, bob and carol
 * (carol with two devices); carol's first device goes "on a plane" (every UDP packet to and from its QUIC port
 * dropped by iptables), reads and writes while offline, has its daemon killed with SIGKILL and restarted still
 * offline, writes more, while the others keep talking; back on the ground, every device must end up with the
 * same history: everything exactly once, in the same causally consistent order, within a bounded time.
 *
 * <p>Needs root and iptables ({@code .ci/run} installs it); skipped otherwise. The rules carry the comment
 * {@code parley-airplane-test-PID} and are removed after the test whatever happens.
 */
@Timeout(value = 200, unit = TimeUnit.SECONDS)
class AirplaneTest {
    private static final Pattern CREATED = Pattern.compile("created group ([0-9a-f]{32}) '([^']*)': members (.*)");
    private static final String COMMENT = "parley-airplane-test-" + ProcessHandle.current().pid();
    private static final Pattern COUNTERS = Pattern.compile(" -c (\\d+) (\\d+)");
    private static final Duration CATCH_UP = Duration.ofSeconds(60);

    @TempDir Path tmp;
    private ProcessHarness h;
    /** iptables rules inserted, each as the arguments after {@code -I}/{@code -D}. */
    private final List<List<String>> rules = Collections.synchronizedList(new ArrayList<>());

    // ------------------------------------------------------------------ iptables

    private record Cmd(int code, String out) {}

    /** Runs a command of the OS (not parley); null if it cannot be started (not installed). */
    private static Cmd os(String... cmd) throws InterruptedException {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Cmd(-1, out + "(timed out)");
            }
            return new Cmd(p.exitValue(), out);
        } catch (IOException e) {
            return null;
        }
    }

    @BeforeEach
    void needRootAndIptables() throws InterruptedException {
        Cmd id = os("id", "-u");
        boolean root = id != null ? id.code() == 0 && id.out().strip().equals("0") : "root".equals(System.getProperty("user.name"));
        Assumptions.assumeTrue(root, "AirplaneTest cuts the network with iptables and needs root: running as uid "
                + (id == null ? System.getProperty("user.name") : id.out().strip()));
        Cmd s = os("iptables", "-S");
        Assumptions.assumeTrue(s != null, "AirplaneTest needs iptables, which is not installed (.ci/run installs the iptables package)");
        Assumptions.assumeTrue(s.code() == 0, "AirplaneTest needs a working iptables: 'iptables -S' exited with " + s.code()
                + ": " + s.out().strip());
        // rules left behind by a test JVM that was killed before its clean-up (never those of a live one)
        Matcher stale = Pattern.compile("parley-airplane-test-(\\d+)").matcher(s.out());
        Set<String> dead = new LinkedHashSet<>();
        while (stale.find()) {
            if (ProcessHandle.of(Long.parseLong(stale.group(1))).isEmpty()) dead.add(stale.group());
        }
        for (String comment : dead) deleteRulesWith(comment);
    }

    @AfterEach
    void landAndStop() throws InterruptedException {
        try {
            removeRules();
        } finally {
            if (h != null) h.close();
        }
    }

    private void iptables(String op, List<String> rule) throws InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("iptables", op));
        cmd.addAll(rule);
        Cmd r = os(cmd.toArray(String[]::new));
        assertThat(r).as("iptables").isNotNull();
        assertThat(r.code()).as("%s: %s", String.join(" ", cmd), r.out()).isZero();
    }

    /** Drops every UDP datagram to and from {@code port} on this machine (loopback included). */
    private void cut(int port) throws InterruptedException {
        List<String> in = List.of("INPUT", "-p", "udp", "--dport", String.valueOf(port), "-m", "comment", "--comment", COMMENT, "-j", "DROP");
        List<String> out = List.of("OUTPUT", "-p", "udp", "--sport", String.valueOf(port), "-m", "comment", "--comment", COMMENT, "-j", "DROP");
        rules.add(in);
        iptables("-I", in);
        rules.add(out);
        iptables("-I", out);
    }

    /** Packets dropped so far by this test's rule in a chain. */
    private static long dropped(String chain) throws InterruptedException {
        Cmd r = os("iptables", "-S", chain, "-v");
        long n = 0;
        if (r == null) return -1;
        for (String line : r.out().lines().toList()) {
            if (!line.contains(COMMENT)) continue;
            Matcher m = COUNTERS.matcher(line);
            if (m.find()) n += Long.parseLong(m.group(1));
        }
        return n;
    }

    /** Removes this test's rules: the recorded ones, then any other carrying its comment. */
    private void removeRules() throws InterruptedException {
        synchronized (rules) {
            for (List<String> rule : rules) {
                List<String> cmd = new ArrayList<>(List.of("iptables", "-D"));
                cmd.addAll(rule);
                os(cmd.toArray(String[]::new));
            }
            rules.clear();
        }
        deleteRulesWith(COMMENT);
        Cmd after = os("iptables", "-S");
        if (after != null && after.out().contains(COMMENT)) {
            throw new AssertionError("could not remove the iptables rules " + COMMENT + ":\n" + after.out());
        }
    }

    /** Deletes every rule whose comment is {@code comment} (as {@code iptables -S} lists them). */
    private static void deleteRulesWith(String comment) throws InterruptedException {
        Cmd s = os("iptables", "-S");
        if (s == null) return;
        for (String line : s.out().lines().toList()) {
            if (!line.startsWith("-A ") || !List.of(line.split("\\s+")).contains(comment)) continue;
            List<String> cmd = new ArrayList<>(List.of("iptables", "-D"));
            cmd.addAll(List.of(line.substring(3).trim().split("\\s+")));
            os(cmd.toArray(String[]::new));
        }
    }

    // ------------------------------------------------------------------ chat helpers

    private Res chat(Path home, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("client", "--home", home.toString(), "chat"));
        cmd.addAll(List.of(args));
        return h.ok(null, cmd.toArray(String[]::new));
    }

    private void say(Path home, String conv, String text) throws Exception {
        Res r = chat(home, "send", "--chat", conv, text);
        assertThat(r.out()).as("chat send by %s", home.getFileName()).contains("stored");
    }

    /** {@code chat history --json} through the CLI: every line, in display order. */
    private List<JsonNode> history(Path home, String conv) throws Exception {
        Res r = chat(home, "history", "--chat", conv, "--json", "--limit", "1000");
        JsonNode n = ProcessHarness.JSON.readTree(r.out());
        assertThat(n.isArray()).as("chat history --json of %s: %s", home.getFileName(), r.out()).isTrue();
        return list(n);
    }

    /** The same from the daemon's local API, for cheap polling; empty if the daemon does not answer. */
    private static List<JsonNode> apiHistory(Path home, String conv) throws Exception {
        return list(ProcessHarness.api(home, "/api/v1/chats/" + conv + "/events?limit=1000"));
    }

    private static List<String> ids(List<JsonNode> l) {
        return l.stream().map(e -> e.path("id").asText()).toList();
    }

    private static List<JsonNode> messages(List<JsonNode> l) {
        return l.stream().filter(e -> e.path("kind").asText().equals("message")).toList();
    }

    private static List<String> texts(List<JsonNode> l) {
        return messages(l).stream().map(e -> e.path("text").asText()).toList();
    }

    private static long count(List<JsonNode> l, String text) {
        return texts(l).stream().filter(text::equals).count();
    }

    private static boolean hasAll(List<JsonNode> l, List<String> expected) {
        return expected.stream().allMatch(t -> count(l, t) >= 1);
    }

    private static boolean hasNone(List<JsonNode> l, List<String> unexpected) {
        return unexpected.stream().noneMatch(t -> count(l, t) > 0);
    }

    private static int indexOfText(List<JsonNode> l, String text) {
        for (int i = 0; i < l.size(); i++) {
            JsonNode e = l.get(i);
            if (e.path("kind").asText().equals("message") && e.path("text").asText().equals(text)) return i;
        }
        return -1;
    }

    /** A readable dump of a history, for failure messages. */
    private static String show(List<JsonNode> l) {
        StringBuilder b = new StringBuilder();
        for (JsonNode e : l) {
            b.append("\n  ").append(e.path("id").asText(), 0, Math.min(12, e.path("id").asText().length())).append(' ')
                    .append(e.path("hlc").asLong()).append(' ').append(e.path("kind").asText()).append(' ')
                    .append(e.path("author").asText()).append(": ").append(e.path("text").asText());
        }
        return b.toString();
    }

    // ------------------------------------------------------------------ the test

    @Test
    void carolFliesReadsAndWritesOfflineAndCatchesUpOnLanding() throws Exception {
        h = new ProcessHarness(tmp);
        try {
            scenario();
        } catch (AssertionError e) {
            throw h.withReport(e);
        } finally {
            System.out.println("=== AirplaneTest timeline (s since start, duration, step) ===\n" + String.join("\n", h.steps()));
        }
    }

    private void scenario() throws Exception {
        Path alice = tmp.resolve("alice");
        Path bob = tmp.resolve("bob");
        Path carol = tmp.resolve("carol");
        Path carol2 = tmp.resolve("carol2");
        Map<Path, String> devices = new LinkedHashMap<>();
        devices.put(alice, "alice");
        devices.put(bob, "bob");
        devices.put(carol, "carol");
        devices.put(carol2, "carol");
        List<Path> everyone = List.copyOf(devices.keySet());

        // ---- network, four devices (carol's phone is a second device of carol)
        Network net = h.network("airplane test", List.of("alice", "bob", "carol"));
        h.enrol(net, devices);
        int carolPort = CliTestSupport.freeUdpPort();
        String carolListen = "127.0.0.1:" + carolPort;
        Daemon aliceD = h.launchClient("alice-daemon", alice, "127.0.0.1:0");
        Daemon bobD = h.launchClient("bob-daemon", bob, "127.0.0.1:0");
        Daemon carolD = h.launchClient("carol-daemon", carol, carolListen);
        Daemon carol2D = h.launchClient("carol2-daemon", carol2, "127.0.0.1:0");
        h.awaitClient(aliceD, "alice");
        h.awaitClient(bobD, "bob");
        h.awaitClient(carolD, "carol");
        h.awaitClient(carol2D, "carol");
        awaitLink("all four devices attached to the supernode", everyone, true, ProcessHarness.WAIT);
        JsonNode carolStatus = h.status(carol);
        assertThat(carolStatus.path("linkState").asText()).as("carol's status --json: %s", carolStatus).isEqualTo("attached");
        assertThat(carolStatus.path("localAddress").asText()).as("carol's QUIC address").isEqualTo(carolListen);

        // ---- 1. a group; everyone sees it and writes once; all four devices agree
        Res created = chat(alice, "create", "--name", "flight crew", "--members", "bob,carol");
        Matcher m = CREATED.matcher(created.out().strip());
        assertThat(m.matches()).as("chat create output: %s", created.out()).isTrue();
        String conv = m.group(1);
        h.mark("group " + conv + " created by alice");
        for (Path d : List.of(bob, carol, carol2)) {
            h.awaitCondition(d.getFileName() + " lists the group", ProcessHarness.WAIT, () -> {
                Res r = h.cli(null, "client", "--home", d.toString(), "chat", "list", "--json");
                return r.code() == 0 && list(ProcessHarness.JSON.readTree(r.out())).stream()
                        .anyMatch(c -> c.path("id").asText().equals(conv));
            });
        }
        List<String> before = List.of("alice: boarding at ten", "bob: see you at the gate", "carol: on my way",
                "carol (phone): battery at 80%");
        say(alice, conv, before.get(0));
        say(bob, conv, before.get(1));
        say(carol, conv, before.get(2));
        say(carol2, conv, before.get(3));
        awaitSame("all four devices show the first 4 messages", everyone, conv, before, ProcessHarness.WAIT);
        List<List<JsonNode>> first = histories(everyone, conv);
        for (int i = 0; i < everyone.size(); i++) {
            assertThat(ids(first.get(i))).as("history of %s vs alice%s", everyone.get(i).getFileName(), show(first.get(i)))
                    .doesNotHaveDuplicates().isEqualTo(ids(first.get(0)));
            for (String t : before) assertThat(count(first.get(i), t)).as("'%s' at %s", t, everyone.get(i).getFileName()).isEqualTo(1);
        }
        // what carol has seen before the flight: her offline messages must come after all of it
        List<String> seenBeforeCut = ids(first.get(everyone.indexOf(carol)));

        // ---- 2. carol boards: all UDP to and from her daemon's port is dropped
        cut(carolPort);
        h.mark("carol's network cut (iptables DROP udp port " + carolPort + " in INPUT and OUTPUT)");
        awaitLink("carol's daemon notices it is offline", List.of(carol), false, Duration.ofSeconds(45));
        JsonNode offlineStatus = h.status(carol);
        assertThat(offlineStatus.path("linkState").asText()).as("carol's status --json in flight: %s", offlineStatus)
                .isNotEqualTo("attached");
        h.mark("carol's status: " + offlineStatus.path("linkState").asText() + " (" + offlineStatus.path("lastLinkError").asText()
                + "), " + offlineStatus.path("sessions").size() + " peer session(s) listed");

        // ---- 3. on the plane: carol reads and writes; killed after the third send; restarted, still offline
        List<String> offline = List.of("carol offline 1: taking off", "carol offline 2: the food is bad",
                "carol offline 3: watching a film", "carol offline 4: after a reboot", "carol offline 5: landing soon");
        List<String> away = List.of("alice away 1: did carol land?", "bob away 1: not yet", "alice away 2: weather is fine",
                "bob away 2: traffic on the way to the airport", "alice away 3: I brought coffee", "bob away 3: parking now");
        List<JsonNode> onBoard = history(carol, conv);
        assertThat(ids(onBoard)).as("carol reads her history offline").isEqualTo(seenBeforeCut);
        Res text = chat(carol, "history", "--chat", conv);
        assertThat(text.out()).contains(before.get(0), before.get(1), before.get(2), before.get(3));
        h.ok(null, "client", "--home", carol.toString(), "chat", "read", "--chat", conv);

        say(carol, conv, offline.get(0));
        say(alice, conv, away.get(0));
        say(carol, conv, offline.get(1));
        say(bob, conv, away.get(1));
        say(carol, conv, offline.get(2));
        long k0 = System.nanoTime();
        carolD.process().destroyForcibly(); // SIGKILL right after the third acknowledged send
        assertThat(carolD.process().waitFor(10, TimeUnit.SECONDS)).as("carol's daemon died").isTrue();
        h.step(k0, "carol's daemon killed with SIGKILL (exit " + carolD.process().exitValue() + ")");
        say(alice, conv, away.get(2));
        Daemon carolAgain = h.launchClient("carol-daemon-2", carol, carolListen);
        h.awaitClient(carolAgain, "carol");
        List<JsonNode> afterRestart = history(carol, conv);
        for (String t : offline.subList(0, 3)) {
            assertThat(count(afterRestart, t)).as("'%s' at carol after the restart%s", t, show(afterRestart)).isEqualTo(1);
        }
        JsonNode restarted = h.status(carol);
        h.mark("carol restarted offline: linkState " + restarted.path("linkState").asText() + ", outbox "
                + restarted.path("queued").asInt() + ", chat " + restarted.path("chat"));
        say(bob, conv, away.get(3));
        say(carol, conv, offline.get(3));
        say(alice, conv, away.get(4));
        say(carol, conv, offline.get(4));
        say(bob, conv, away.get(5));
        // carol's phone is online and gets everything alice and bob write; nothing of carol's flight leaks out
        awaitSame("alice, bob and carol2 agree on the 6 messages written while carol is away", List.of(alice, bob, carol2),
                conv, Stream.concat(before.stream(), away.stream()).toList(), ProcessHarness.WAIT);
        for (Path d : List.of(alice, bob, carol2)) {
            List<JsonNode> l = apiHistory(d, conv);
            assertThat(hasNone(l, offline)).as("%s got carol's offline messages while she was cut off%s", d.getFileName(), show(l))
                    .isTrue();
        }
        List<JsonNode> inFlight = history(carol, conv);
        assertThat(hasNone(inFlight, away)).as("carol got messages while cut off%s", show(inFlight)).isTrue();
        assertThat(texts(inFlight)).as("carol's history in flight").containsSubsequence(offline);
        long droppedIn = dropped("INPUT");
        long droppedOut = dropped("OUTPUT");
        h.mark("packets dropped so far: " + droppedIn + " in, " + droppedOut + " out");
        assertThat(droppedIn).as("datagrams to carol dropped (INPUT)").isPositive();
        assertThat(droppedOut).as("datagrams from carol dropped (OUTPUT)").isPositive();

        // ---- 4. landing: the rules go; within a bounded time every device has the same history
        removeRules();
        long landed = System.nanoTime();
        h.mark("carol's network restored");
        List<String> all = new ArrayList<>(before);
        all.addAll(offline);
        all.addAll(away);
        Set<String> done = Collections.synchronizedSet(new LinkedHashSet<>());
        // when carol's supernode link comes back, watched on the side (catching up may not wait for it)
        Thread watcher = Thread.ofVirtual().name("attach-watcher").start(() -> {
            while (System.nanoTime() - landed < CATCH_UP.toNanos()) {
                try {
                    JsonNode s = ProcessHarness.api(carol, "/api/v1/status");
                    if (s != null && "attached".equals(s.path("linkState").asText())) {
                        done.add("attached");
                        h.step(landed, "carol attached to the supernode again");
                        return;
                    }
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                } catch (Exception e) {
                    // the daemon is busy: ask again
                }
            }
        });
        List<List<JsonNode>> hs = new ArrayList<>();
        h.awaitCondition("all four devices converge after landing", CATCH_UP, () -> {
            hs.clear();
            for (Path d : everyone) {
                List<JsonNode> l = apiHistory(d, conv);
                hs.add(l);
                if (hasAll(l, all) && done.add(d.getFileName().toString())) h.step(landed, d.getFileName() + " has all 15 messages");
            }
            return hs.stream().allMatch(l -> hasAll(l, all)) && hs.stream().allMatch(l -> ids(l).equals(ids(hs.get(0))));
        }, () -> shows(everyone, hs) + "\nmilestones reached: " + done);

        // the CLI's view: identical everywhere, each message once, causally ordered
        List<List<JsonNode>> last = histories(everyone, conv);
        List<JsonNode> ref = last.get(0);
        for (int i = 0; i < everyone.size(); i++) {
            String who = everyone.get(i).getFileName().toString();
            List<JsonNode> l = last.get(i);
            assertThat(ids(l)).as("event ids at %s vs alice%s\nvs%s", who, show(l), show(ref)).doesNotHaveDuplicates().isEqualTo(ids(ref));
            for (String t : all) assertThat(count(l, t)).as("copies of '%s' at %s%s", t, who, show(l)).isEqualTo(1);
            assertThat(messages(l)).as("messages at %s%s", who, show(l)).hasSize(all.size());
        }
        int lastSeen = 0;
        for (String id : seenBeforeCut) lastSeen = Math.max(lastSeen, ids(ref).indexOf(id));
        for (String t : offline) {
            assertThat(indexOfText(ref, t)).as("'%s' comes after everything carol had seen before the flight%s", t, show(ref))
                    .isGreaterThan(lastSeen);
        }
        assertThat(texts(ref)).as("carol's messages in the order she wrote them%s", show(ref)).containsSubsequence(offline);
        assertThat(texts(ref)).as("alice's messages in order%s", show(ref))
                .containsSubsequence(away.get(0), away.get(2), away.get(4));
        assertThat(texts(ref)).as("bob's messages in order%s", show(ref))
                .containsSubsequence(away.get(1), away.get(3), away.get(5));
        // status --json: nothing rejected, nothing waiting for parents (pending may need a moment to drain)
        Map<Path, JsonNode> chatStatus = Collections.synchronizedMap(new LinkedHashMap<>());
        h.awaitCondition("no event pending or rejected on any device", Duration.ofSeconds(20), () -> {
            List<Path> todo = everyone.stream().filter(d -> !chatStatus.containsKey(d)).toList();
            List<JsonNode> ss = h.parallel(todo.stream().<ProcessHarness.CheckedSupplier<JsonNode>>map(d -> () -> h.status(d)).toList());
            for (int i = 0; i < todo.size(); i++) {
                JsonNode s = ss.get(i);
                if (s == null) continue;
                JsonNode c = s.path("chat");
                assertThat(c.path("rejected").asLong()).as("chat.rejected at %s: %s", todo.get(i).getFileName(), c).isZero();
                if (c.path("pending").asInt() == 0) chatStatus.put(todo.get(i), c);
            }
            return chatStatus.size() == everyone.size();
        }, () -> "chat status: " + chatStatus);
        chatStatus.forEach((d, c) -> h.mark(d.getFileName() + " chat status " + c));
        watcher.join(Math.max(1, CATCH_UP.toMillis() - (System.nanoTime() - landed) / 1_000_000 + 1000));
        watcher.interrupt();
        assertThat(done).as("carol's daemon attached to the supernode again within %s of landing", CATCH_UP).contains("attached");
        h.step(landed, "landing to verified convergence");
    }

    /** {@code chat history --json} of several devices, all at once. */
    private List<List<JsonNode>> histories(List<Path> devices, String conv) throws Exception {
        return h.parallel(devices.stream().<ProcessHarness.CheckedSupplier<List<JsonNode>>>map(d -> () -> history(d, conv)).toList());
    }

    /**
     * Waits until every device's supernode link is (or is not) attached, polling the local API's status (the
     * data of {@code status --json}) so that the moment is seen without starting a process each time.
     */
    private void awaitLink(String what, List<Path> devices, boolean attached, Duration timeout) throws Exception {
        Map<Path, String> seen = Collections.synchronizedMap(new LinkedHashMap<>());
        h.awaitCondition(what, timeout, () -> {
            boolean all = true;
            for (Path d : devices) {
                JsonNode s = ProcessHarness.api(d, "/api/v1/status");
                seen.put(d, s == null ? "(no answer)" : s.path("linkState").asText() + " " + s.path("lastLinkError").asText());
                all &= s != null && "attached".equals(s.path("linkState").asText()) == attached;
            }
            return all;
        }, () -> "link states: " + seen);
    }

    /** Waits until every device shows all {@code expected} messages and the same event ids in the same order. */
    private void awaitSame(String what, List<Path> devices, String conv, List<String> expected, Duration timeout) throws Exception {
        List<List<JsonNode>> seen = new ArrayList<>();
        h.awaitCondition(what, timeout, () -> {
            seen.clear();
            for (Path d : devices) seen.add(apiHistory(d, conv));
            return seen.stream().allMatch(l -> hasAll(l, expected)) && seen.stream().allMatch(l -> ids(l).equals(ids(seen.get(0))));
        }, () -> shows(devices, seen));
    }

    private static String shows(List<Path> devices, List<List<JsonNode>> histories) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < Math.min(devices.size(), histories.size()); i++) {
            b.append("\n").append(devices.get(i).getFileName()).append(':').append(show(histories.get(i)));
        }
        return b.toString();
    }
}
