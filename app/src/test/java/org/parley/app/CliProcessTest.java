package org.parley.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.parley.app.ProcessHarness.Daemon;
import org.parley.app.ProcessHarness.Network;
import org.parley.app.ProcessHarness.Res;

/**
 * The installed program as users run it: every step is a separate {@code java org.parley.app.Main ...}
 * process — a login server, a supernode and two client daemons set up and driven only through the CLI,
 * then a daemon killed with SIGKILL and restarted, then garbage thrown at every port.
 */
class CliProcessTest {
    private static final Duration WAIT = ProcessHarness.WAIT;

    @TempDir Path tmp;
    private ProcessHarness h;

    @AfterEach
    void stopEverything() throws InterruptedException {
        if (h != null) h.close();
    }

    // ------------------------------------------------------------------ client helpers

    /**
     * Reads the conversation straight from the daemon's local API, for cheap polling while waiting; the
     * assertions use the CLI's own {@code history --json}.
     */
    private static List<JsonNode> apiHistory(Path home, String with) throws Exception {
        return ProcessHarness.list(ProcessHarness.api(home, "/api/v1/messages?with=" + with + "&limit=1000"));
    }

    private List<JsonNode> history(Path home, String with) throws Exception {
        Res r = h.ok(null, "client", "--home", home.toString(), "history", "--with", with, "--json");
        JsonNode n = ProcessHarness.JSON.readTree(r.out());
        assertThat(n.isArray()).as("history --json: %s", r.out()).isTrue();
        return ProcessHarness.list(n);
    }

    private static List<String> texts(List<JsonNode> l) {
        return l.stream().map(m -> m.path("text").asText()).toList();
    }

    private static List<String> ids(List<JsonNode> l) {
        return l.stream().map(m -> m.path("id").asText()).toList();
    }

    private void send(Path from, String to, String text) throws Exception {
        Res r = h.ok(null, "client", "--home", from.toString(), "send", "--to", to, text);
        assertThat(r.out()).contains("to " + to);
    }

    /** Waits until {@code home}'s conversation with {@code with} satisfies the predicate; returns it. */
    private List<JsonNode> awaitHistory(Path home, String with, String what, Predicate<List<JsonNode>> p) throws Exception {
        return awaitHistory(home, with, what, WAIT, p);
    }

    private List<JsonNode> awaitHistory(Path home, String with, String what, Duration timeout, Predicate<List<JsonNode>> p)
            throws Exception {
        List<List<JsonNode>> last = new ArrayList<>(List.of(List.of()));
        h.awaitCondition(what + " (last history of " + home.getFileName() + ": " + last + ")", timeout, () -> {
            List<JsonNode> l = apiHistory(home, with);
            last.set(0, l);
            return p.test(l);
        });
        return last.get(0);
    }

    private static long count(List<JsonNode> l, String text) {
        return l.stream().filter(m -> m.path("text").asText().equals(text)).count();
    }

    private static boolean delivered(List<JsonNode> l, String text) {
        return l.stream().anyMatch(m -> m.path("text").asText().equals(text) && m.path("state").asText().equals("delivered"));
    }

    // ------------------------------------------------------------------ the test

    @Test
    @Timeout(value = 175, unit = TimeUnit.SECONDS)
    void aWholeNetworkThroughTheCommandLine() throws Exception {
        h = new ProcessHarness(tmp);
        try {
            scenario();
        } catch (AssertionError e) {
            throw h.withReport(e);
        }
    }

    private void scenario() throws Exception {
        Path alice = tmp.resolve("alice");
        Path bob = tmp.resolve("bob");

        // ---- network and accounts, supernode
        Network net = h.network("proc test", List.of("alice", "bob"));
        Daemon loginServer = net.loginServer();
        Daemon supernode = net.supernode();
        int loginPort = net.loginPort();
        int snPort = net.supernodePort();

        // ---- clients (alice and bob side by side)
        Map<Path, String> devices = new LinkedHashMap<>();
        devices.put(alice, "alice");
        devices.put(bob, "bob");
        h.enrol(net, devices);
        Daemon aliceDaemon = h.launchClient("alice-daemon", alice, "127.0.0.1:0");
        Daemon bobDaemon = h.launchClient("bob-daemon", bob, "127.0.0.1:0");
        h.awaitClient(aliceDaemon, "alice");
        h.awaitClient(bobDaemon, "bob");
        h.awaitAttached(alice);
        h.awaitAttached(bob);
        // a second daemon for the same folder is refused in one line and leaves the first one alone
        Res twice = h.cli(null, "client", "--home", alice.toString(), "run", "--listen", "127.0.0.1:0");
        assertThat(twice.code()).as("second daemon for alice: %s", twice).isEqualTo(1);
        assertThat(twice.err().lines().toList()).as("second daemon for alice: %s", twice).hasSize(1);
        assertThat(twice.err()).startsWith("parley: ").contains("already running").doesNotContain("Exception");
        assertThat(aliceDaemon.process().isAlive()).isTrue();

        // ---- a round trip
        send(alice, "bob", "hello bob");
        awaitHistory(bob, "alice", "bob receives 'hello bob'", l -> count(l, "hello bob") == 1);
        send(bob, "alice", "hello alice");
        awaitHistory(alice, "bob", "alice receives 'hello alice' and 'hello bob' is delivered",
                l -> count(l, "hello alice") == 1 && delivered(l, "hello bob"));
        awaitHistory(bob, "alice", "'hello alice' is delivered", l -> delivered(l, "hello alice"));
        List<JsonNode> atAlice = history(alice, "bob");
        List<JsonNode> atBob = history(bob, "alice");
        assertThat(texts(atAlice)).containsExactly("hello bob", "hello alice");
        assertThat(texts(atBob)).containsExactly("hello bob", "hello alice");
        assertThat(ids(atAlice)).doesNotHaveDuplicates().isEqualTo(ids(atBob));

        // ---- bob's daemon is killed; alice's message waits; bob comes back
        bobDaemon.process().destroyForcibly();
        assertThat(bobDaemon.process().waitFor(10, TimeUnit.SECONDS)).as("bob's daemon died").isTrue();
        Res down = h.cli(null, "client", "--home", bob.toString(), "status");
        assertThat(down.code()).as("status of a killed daemon: %s", down).isEqualTo(1);
        assertThat(down.err()).contains("not running");
        Res queued = h.ok(null, "client", "--home", alice.toString(), "send", "--to", "bob", "while you were away");
        assertThat(queued.out()).contains("to bob: queued");
        assertThat(count(history(alice, "bob"), "while you were away")).isEqualTo(1);
        Daemon bobAgain = h.start("bob-daemon-2", "client daemon of 'bob' running",
                "client", "--home", bob.toString(), "run", "--listen", "127.0.0.1:0");
        h.awaitAttached(bob);
        // Alice's direct session to the dead daemon looks open until the QUIC idle timeout (30 s); resends
        // should also go through the supernode, but allow for the timeout in any case.
        awaitHistory(alice, "bob", "'while you were away' is delivered after bob's restart", Duration.ofSeconds(60),
                l -> delivered(l, "while you were away"));
        awaitHistory(bob, "alice", "bob received 'while you were away'", l -> count(l, "while you were away") >= 1);
        List<JsonNode> bobAfter = history(bob, "alice");
        assertThat(count(bobAfter, "while you were away")).as("copies at bob: %s", bobAfter).isEqualTo(1);
        assertThat(texts(bobAfter)).containsExactly("hello bob", "hello alice", "while you were away");
        assertThat(ids(bobAfter)).isEqualTo(ids(history(alice, "bob")));

        // ---- garbage at every port
        JsonNode aliceStatus = h.status(alice);
        assertThat(aliceStatus).isNotNull();
        int aliceQuic = Integer.parseInt(aliceStatus.path("localAddress").asText().replaceAll(".*:", ""));
        Random rnd = new Random(42);
        try (DatagramSocket s = new DatagramSocket()) {
            for (int port : new int[] {snPort, aliceQuic}) {
                InetSocketAddress to = new InetSocketAddress("127.0.0.1", port);
                for (int i = 0; i < 200; i++) {
                    byte[] b = new byte[1 + rnd.nextInt(1400)];
                    rnd.nextBytes(b);
                    if (i % 4 == 0) b[0] = (byte) (0xc0 | (b[0] & 0x3f)); // looks like a QUIC long header
                    s.send(new DatagramPacket(b, b.length, to));
                }
            }
        }
        for (int i = 0; i < 5; i++) {
            try (Socket s = new Socket("127.0.0.1", loginPort)) {
                s.setSoTimeout(2000);
                byte[] b = new byte[1000 + rnd.nextInt(20_000)];
                rnd.nextBytes(b);
                if (i == 0) b[0] = 0x16; // a TLS handshake record type
                s.getOutputStream().write(b);
                s.getOutputStream().flush();
            } catch (IOException e) {
                // the server may hang up on us mid-write: that is fine
            }
        }
        for (Daemon d : List.of(loginServer, supernode, aliceDaemon, bobAgain)) {
            assertThat(d.process().isAlive()).as("%s survives garbage", d.name()).isTrue();
        }

        // ---- everything still works
        send(alice, "bob", "after the garbage");
        awaitHistory(bob, "alice", "bob receives 'after the garbage'", l -> count(l, "after the garbage") == 1);
        send(bob, "alice", "still here");
        awaitHistory(alice, "bob", "alice receives 'still here'",
                l -> count(l, "still here") == 1 && delivered(l, "after the garbage"));
        Path alice2 = tmp.resolve("alice-laptop");
        h.ok(null, "client", "--home", alice2.toString(), "init", "--network", alice.resolve("network.json").toString());
        assertThat(h.ok("alice-password-123\n", "client", "--home", alice2.toString(), "login", "--user", "alice").out())
                .contains("logged in as 'alice'");
        awaitHistory(bob, "alice", "'still here' is delivered", l -> delivered(l, "still here"));
        List<JsonNode> finalAlice = history(alice, "bob");
        List<JsonNode> finalBob = history(bob, "alice");
        List<String> expected = List.of("hello bob", "hello alice", "while you were away", "after the garbage", "still here");
        assertThat(texts(finalAlice)).isEqualTo(expected);
        assertThat(texts(finalBob)).isEqualTo(expected);
        assertThat(ids(finalAlice)).doesNotHaveDuplicates().isEqualTo(ids(finalBob));
    }
}
