package org.parley.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The installed program as users run it: every step is a separate {@code java org.parley.app.Main ...}
 * process — a login server, a supernode and two client daemons set up and driven only through the CLI,
 * then a daemon killed with SIGKILL and restarted, then garbage thrown at every port.
 */
class CliProcessTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(45);
    private static final Duration WAIT = Duration.ofSeconds(40);

    @TempDir Path tmp;
    private Path logs;
    private String classpath;
    private final AtomicInteger seq = new AtomicInteger();
    /** Long-running processes by name, in start order. */
    private final Map<String, Daemon> daemons = Collections.synchronizedMap(new LinkedHashMap<>());
    private final List<Process> all = new CopyOnWriteArrayList<>();
    /** Commands run so far and how long they took (shown when the test fails). */
    private final List<String> steps = Collections.synchronizedList(new ArrayList<>());

    private record Res(int code, String out, String err) {
        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout ---\n" + out + "\n--- stderr ---\n" + err;
        }
    }

    private record Daemon(String name, Process process, Path out, Path err) {
        String output() {
            return read(out) + read(err);
        }
    }

    @AfterEach
    void stopEverything() throws InterruptedException {
        for (Process p : all) if (p.isAlive()) p.destroy();
        for (Process p : all) {
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
        }
    }

    // ------------------------------------------------------------------ process plumbing

    private static String read(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    private ProcessBuilder builder(String... args) {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
                // quick start-up on a small machine; the program's own logging configuration, not the tests'
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-XX:-UsePerfData", "-Xss1m",
                "-Djava.io.tmpdir=" + tmp,
                "-Dlogback.configurationFile=logback.xml",
                "-cp", classpath, "org.parley.app.Main"));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).directory(tmp.toFile());
    }

    /** Runs a command to completion with {@code stdin} as its standard input. */
    private Res cli(String stdin, String... args) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        try {
            return cli0(stdin, args);
        } finally {
            steps.add(String.format("%6d ms  parley %s", (System.nanoTime() - t0) / 1_000_000,
                    String.join(" ", args).replace(tmp.toString(), "$TMP")));
        }
    }

    private Res cli0(String stdin, String... args) throws IOException, InterruptedException {
        int n = seq.incrementAndGet();
        Path out = logs.resolve(n + "-" + args[0] + ".out");
        Path err = logs.resolve(n + "-" + args[0] + ".err");
        Process p = builder(args).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        all.add(p);
        try (OutputStream in = p.getOutputStream()) {
            if (stdin != null) in.write(stdin.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            // the process may already have exited
        }
        if (!p.waitFor(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("parley " + String.join(" ", args) + " did not finish within " + COMMAND_TIMEOUT + ":\n" + read(out) + read(err));
        }
        return new Res(p.exitValue(), read(out), read(err));
    }

    private Res ok(String stdin, String... args) throws IOException, InterruptedException {
        Res r = cli(stdin, args);
        assertThat(r.code()).as("parley %s\n%s", String.join(" ", args), r).isZero();
        return r;
    }

    /** Starts a long-running command. */
    private Daemon launch(String name, String... args) throws IOException {
        int n = seq.incrementAndGet();
        Path out = logs.resolve(name + "-" + n + ".out");
        Path err = logs.resolve(name + "-" + n + ".err");
        Process p = builder(args).redirectOutput(out.toFile()).redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
        all.add(p);
        Daemon d = new Daemon(name, p, out, err);
        daemons.put(name, d);
        return d;
    }

    /** Waits until the daemon's standard output contains {@code ready}. */
    private Daemon awaitReady(Daemon d, String ready) throws InterruptedException {
        long t0 = System.nanoTime();
        long end = t0 + WAIT.toNanos();
        while (!read(d.out()).contains(ready)) {
            if (!d.process().isAlive()) fail(d.name() + " exited with " + d.process().exitValue() + " before it was ready:\n" + d.output());
            if (System.nanoTime() > end) fail(d.name() + " was not ready within " + WAIT + ":\n" + d.output());
            Thread.sleep(100);
        }
        steps.add(String.format("%6d ms  %s ready", (System.nanoTime() - t0) / 1_000_000, d.name()));
        return d;
    }

    private Daemon start(String name, String ready, String... args) throws IOException, InterruptedException {
        return awaitReady(launch(name, args), ready);
    }

    private void awaitCondition(String what, Duration timeout, CheckedSupplier<Boolean> check) throws Exception {
        long t0 = System.nanoTime();
        long end = t0 + timeout.toNanos();
        while (true) {
            if (check.get()) {
                steps.add(String.format("%6d ms  waited for %s", (System.nanoTime() - t0) / 1_000_000, what.replaceAll(" \\(last history.*", "")));
                return;
            }
            if (System.nanoTime() > end) fail("timed out after " + timeout + " waiting for " + what + "\n" + daemonLogs());
            Thread.sleep(200);
        }
    }

    @FunctionalInterface
    private interface CheckedSupplier<T> {
        T get() throws Exception;
    }

    private String daemonLogs() {
        StringBuilder b = new StringBuilder();
        for (Daemon d : daemons.values()) {
            b.append("=== ").append(d.name()).append(d.process().isAlive() ? " (running)" : " (exited)").append(" ===\n");
            String o = d.output();
            b.append(o.length() > 4000 ? "..." + o.substring(o.length() - 4000) : o).append('\n');
        }
        return b.toString();
    }

    /**
     * Copies this JVM's class path into the temporary folder. Other builds on the machine may run
     * {@code mvn install} while this test runs and rewrite the jars in the local repository under the
     * feet of the child processes; the copies keep every child on one consistent build.
     */
    private String snapshotClasspath() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("classpath"));
        List<String> out = new ArrayList<>();
        int i = 0;
        for (String e : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            if (e.isBlank()) continue;
            Path src = Path.of(e);
            Path dst = dir.resolve((i++) + "-" + src.getFileName());
            if (Files.isDirectory(src)) {
                try (var walk = Files.walk(src)) {
                    for (Path f : (Iterable<Path>) walk::iterator) {
                        Path t = dst.resolve(src.relativize(f).toString());
                        if (Files.isDirectory(f)) Files.createDirectories(t);
                        else Files.copy(f, t);
                    }
                }
            } else if (Files.isRegularFile(src)) {
                Files.copy(src, dst);
            } else {
                continue;
            }
            out.add(dst.toString());
        }
        return String.join(java.io.File.pathSeparator, out);
    }

    // ------------------------------------------------------------------ client helpers

    private JsonNode status(Path home) throws Exception {
        Res r = cli(null, "client", "--home", home.toString(), "status", "--json");
        if (r.code() != 0) return null;
        return JSON.readTree(r.out());
    }

    private void awaitAttached(Path home) throws Exception {
        awaitCondition(home.getFileName() + " attached", WAIT, () -> {
            JsonNode s = status(home);
            return s != null && "attached".equals(s.path("linkState").asText());
        });
    }

    /**
     * Reads the conversation straight from the daemon's local API (api.json: url and token), for cheap
     * polling while waiting; the assertions use the CLI's own {@code history --json}.
     */
    private static List<JsonNode> apiHistory(Path home, String with) throws Exception {
        JsonNode api;
        try {
            api = JSON.readTree(Files.readString(home.resolve("api.json")));
        } catch (IOException e) {
            return List.of();
        }
        HttpRequest req = HttpRequest.newBuilder(URI.create(api.path("url").asText() + "/api/v1/messages?with=" + with + "&limit=1000"))
                .header("Authorization", "Bearer " + api.path("token").asText()).timeout(Duration.ofSeconds(10)).GET().build();
        HttpResponse<String> r;
        try {
            r = HTTP.send(req, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            return List.of();
        }
        if (r.statusCode() != 200) return List.of();
        List<JsonNode> l = new ArrayList<>();
        JSON.readTree(r.body()).forEach(l::add);
        return l;
    }

    private List<JsonNode> history(Path home, String with) throws Exception {
        Res r = ok(null, "client", "--home", home.toString(), "history", "--with", with, "--json");
        JsonNode n = JSON.readTree(r.out());
        assertThat(n.isArray()).as("history --json: %s", r.out()).isTrue();
        List<JsonNode> l = new ArrayList<>();
        n.forEach(l::add);
        return l;
    }

    private static List<String> texts(List<JsonNode> h) {
        return h.stream().map(m -> m.path("text").asText()).toList();
    }

    private static List<String> ids(List<JsonNode> h) {
        return h.stream().map(m -> m.path("id").asText()).toList();
    }

    private void send(Path from, String to, String text) throws Exception {
        Res r = ok(null, "client", "--home", from.toString(), "send", "--to", to, text);
        assertThat(r.out()).contains("to " + to);
    }

    /** Waits until {@code home}'s conversation with {@code with} satisfies the predicate; returns it. */
    private List<JsonNode> awaitHistory(Path home, String with, String what, Predicate<List<JsonNode>> p) throws Exception {
        return awaitHistory(home, with, what, WAIT, p);
    }

    private List<JsonNode> awaitHistory(Path home, String with, String what, Duration timeout, Predicate<List<JsonNode>> p)
            throws Exception {
        List<List<JsonNode>> last = new ArrayList<>(List.of(List.of()));
        awaitCondition(what + " (last history of " + home.getFileName() + ": " + last + ")", timeout, () -> {
            List<JsonNode> h = apiHistory(home, with);
            last.set(0, h);
            return p.test(h);
        });
        return last.get(0);
    }

    private static long count(List<JsonNode> h, String text) {
        return h.stream().filter(m -> m.path("text").asText().equals(text)).count();
    }

    private static boolean delivered(List<JsonNode> h, String text) {
        return h.stream().anyMatch(m -> m.path("text").asText().equals(text) && m.path("state").asText().equals("delivered"));
    }

    // ------------------------------------------------------------------ the test

    @Test
    @Timeout(value = 175, unit = TimeUnit.SECONDS)
    void aWholeNetworkThroughTheCommandLine() throws Exception {
        logs = Files.createDirectories(tmp.resolve("logs"));
        classpath = snapshotClasspath();
        try {
            scenario();
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n=== commands ===\n" + String.join("\n", steps)
                    + "\n" + daemonLogs(), e);
        }
    }

    private void scenario() throws Exception {
        Path login = tmp.resolve("login");
        Path sn = tmp.resolve("sn1");
        Path alice = tmp.resolve("alice");
        Path bob = tmp.resolve("bob");
        int loginPort = CliTestSupport.freeTcpPort();
        int snPort = CliTestSupport.freeUdpPort();
        String nf = login.resolve("network.json").toString();

        // ---- network and accounts
        ok(null, "login-server", "init", "--data", login.toString(), "--name", "proc test",
                "--public-address", "127.0.0.1:" + loginPort);
        ok("sn1-password-123\n", "account", "add", "--data", login.toString(), "--user", "sn1", "--role", "supernode");
        ok("alice-password-123\n", "account", "add", "--data", login.toString(), "--user", "alice");
        ok("bob-password-123\n", "account", "add", "--data", login.toString(), "--user", "bob");
        assertThat(ok(null, "account", "list", "--data", login.toString()).out()).contains("sn1", "alice", "bob");

        Daemon loginServer = start("login-server", "listening on https://",
                "login-server", "run", "--data", login.toString(), "--listen", "127.0.0.1:" + loginPort);

        // ---- supernode
        ok("sn1-password-123\n", "supernode", "login", "--data", sn.toString(), "--network", nf, "--user", "sn1");
        ok(null, "network", "add-seed", "--data", login.toString(), "127.0.0.1:" + snPort);
        Daemon supernode = start("supernode", "listening on UDP",
                "supernode", "run", "--data", sn.toString(), "--listen", "127.0.0.1:" + snPort);

        // ---- clients (alice and bob side by side)
        List<CompletableFuture<Void>> enrol = new ArrayList<>();
        for (Path h : List.of(alice, bob)) {
            String user = h.getFileName().toString();
            enrol.add(CompletableFuture.runAsync(() -> {
                try {
                    ok(null, "client", "--home", h.toString(), "init", "--network", nf);
                    assertThat(ok(user + "-password-123\n", "client", "--home", h.toString(), "login", "--user", user).out())
                            .contains("logged in as '" + user + "'");
                } catch (IOException | InterruptedException e) {
                    throw new CompletionException(e);
                }
            }));
        }
        for (CompletableFuture<Void> f : enrol) {
            try {
                f.join();
            } catch (CompletionException e) {
                if (e.getCause() instanceof AssertionError a) throw a;
                throw e;
            }
        }
        Daemon aliceDaemon = launch("alice-daemon", "client", "--home", alice.toString(), "run", "--listen", "127.0.0.1:0");
        Daemon bobDaemon = launch("bob-daemon", "client", "--home", bob.toString(), "run", "--listen", "127.0.0.1:0");
        awaitReady(aliceDaemon, "client daemon of 'alice' running");
        awaitReady(bobDaemon, "client daemon of 'bob' running");
        awaitAttached(alice);
        awaitAttached(bob);
        // a second daemon for the same folder is refused in one line and leaves the first one alone
        Res twice = cli(null, "client", "--home", alice.toString(), "run", "--listen", "127.0.0.1:0");
        assertThat(twice.code()).as("second daemon for alice: %s", twice).isEqualTo(1);
        assertThat(twice.err().lines().toList()).as("second daemon for alice: %s", twice).hasSize(1);
        assertThat(twice.err()).startsWith("parley: ").contains("already running").doesNotContain("Exception");
        assertThat(aliceDaemon.process().isAlive()).isTrue();

        // ---- a round trip
        send(alice, "bob", "hello bob");
        awaitHistory(bob, "alice", "bob receives 'hello bob'", h -> count(h, "hello bob") == 1);
        send(bob, "alice", "hello alice");
        awaitHistory(alice, "bob", "alice receives 'hello alice' and 'hello bob' is delivered",
                h -> count(h, "hello alice") == 1 && delivered(h, "hello bob"));
        awaitHistory(bob, "alice", "'hello alice' is delivered", h -> delivered(h, "hello alice"));
        List<JsonNode> atAlice = history(alice, "bob");
        List<JsonNode> atBob = history(bob, "alice");
        assertThat(texts(atAlice)).containsExactly("hello bob", "hello alice");
        assertThat(texts(atBob)).containsExactly("hello bob", "hello alice");
        assertThat(ids(atAlice)).doesNotHaveDuplicates().isEqualTo(ids(atBob));

        // ---- bob's daemon is killed; alice's message waits; bob comes back
        bobDaemon.process().destroyForcibly();
        assertThat(bobDaemon.process().waitFor(10, TimeUnit.SECONDS)).as("bob's daemon died").isTrue();
        Res down = cli(null, "client", "--home", bob.toString(), "status");
        assertThat(down.code()).as("status of a killed daemon: %s", down).isEqualTo(1);
        assertThat(down.err()).contains("not running");
        Res queued = ok(null, "client", "--home", alice.toString(), "send", "--to", "bob", "while you were away");
        assertThat(queued.out()).contains("to bob: queued");
        assertThat(count(history(alice, "bob"), "while you were away")).isEqualTo(1);
        Daemon bobAgain = start("bob-daemon-2", "client daemon of 'bob' running",
                "client", "--home", bob.toString(), "run", "--listen", "127.0.0.1:0");
        awaitAttached(bob);
        // Alice's direct session to the dead daemon looks open until the QUIC idle timeout (30 s); resends
        // should also go through the supernode, but allow for the timeout in any case.
        awaitHistory(alice, "bob", "'while you were away' is delivered after bob's restart", Duration.ofSeconds(60),
                h -> delivered(h, "while you were away"));
        awaitHistory(bob, "alice", "bob received 'while you were away'", h -> count(h, "while you were away") >= 1);
        List<JsonNode> bobAfter = history(bob, "alice");
        assertThat(count(bobAfter, "while you were away")).as("copies at bob: %s", bobAfter).isEqualTo(1);
        assertThat(texts(bobAfter)).containsExactly("hello bob", "hello alice", "while you were away");
        assertThat(ids(bobAfter)).isEqualTo(ids(history(alice, "bob")));

        // ---- garbage at every port
        JsonNode aliceStatus = status(alice);
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
        awaitHistory(bob, "alice", "bob receives 'after the garbage'", h -> count(h, "after the garbage") == 1);
        send(bob, "alice", "still here");
        awaitHistory(alice, "bob", "alice receives 'still here'",
                h -> count(h, "still here") == 1 && delivered(h, "after the garbage"));
        Path alice2 = tmp.resolve("alice-laptop");
        ok(null, "client", "--home", alice2.toString(), "init", "--network", alice.resolve("network.json").toString());
        assertThat(ok("alice-password-123\n", "client", "--home", alice2.toString(), "login", "--user", "alice").out())
                .contains("logged in as 'alice'");
        awaitHistory(bob, "alice", "'still here' is delivered", h -> delivered(h, "still here"));
        List<JsonNode> finalAlice = history(alice, "bob");
        List<JsonNode> finalBob = history(bob, "alice");
        List<String> expected = List.of("hello bob", "hello alice", "while you were away", "after the garbage", "still here");
        assertThat(texts(finalAlice)).isEqualTo(expected);
        assertThat(texts(finalBob)).isEqualTo(expected);
        assertThat(ids(finalAlice)).doesNotHaveDuplicates().isEqualTo(ids(finalBob));
    }
}
