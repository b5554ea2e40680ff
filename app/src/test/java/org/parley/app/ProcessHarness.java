package org.parley.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.OutputStream;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs the installed program as users run it, for tests: every command is a separate
 * {@code java org.parley.app.Main ...} process started from a snapshot of the test's class path, with its
 * output kept in {@code TMP/logs}. Long-running commands (servers, daemons) are {@link Daemon}s, stopped by
 * {@link #close()}. Every command and every wait is recorded with its duration in {@link #steps()} (the
 * timeline shown when a test fails, or on purpose).
 *
 * <p>{@link #network} sets up a whole network the way an operator would: a login server with accounts, one
 * supernode enrolled and listed as the seed; {@link #enrol} and {@link #startClient} add devices.
 */
final class ProcessHarness implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(45);
    static final Duration WAIT = Duration.ofSeconds(40);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();

    private final Path tmp;
    private final Path logs;
    private final String classpath;
    /** JVM options for a class data sharing archive of the CLI's classes (empty if none could be made). */
    private List<String> cds = List.of();
    private final long startNanos = System.nanoTime();
    private final AtomicInteger seq = new AtomicInteger();
    /** Long-running processes by name, in start order. */
    private final Map<String, Daemon> daemons = Collections.synchronizedMap(new LinkedHashMap<>());
    private final List<Process> all = new CopyOnWriteArrayList<>();
    /** Commands run so far, waits, milestones, with when they ended and how long they took. */
    private final List<String> steps = Collections.synchronizedList(new ArrayList<>());

    /** What a finished command printed and returned. */
    record Res(int code, String out, String err) {
        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout ---\n" + out + "\n--- stderr ---\n" + err;
        }
    }

    /** A long-running command and the files holding its output. */
    record Daemon(String name, Process process, Path out, Path err) {
        String output() {
            return read(out) + read(err);
        }
    }

    /** A network set up by {@link #network}: the login server's folder and network file, both servers. */
    record Network(Path loginData, Path networkFile, int loginPort, int supernodePort, Daemon loginServer, Daemon supernode) {}

    @FunctionalInterface
    interface CheckedSupplier<T> {
        T get() throws Exception;
    }

    /** A harness working in {@code tmp} (a test's temporary folder): copies the class path there first. */
    ProcessHarness(Path tmp) throws IOException {
        this.tmp = tmp;
        this.logs = Files.createDirectories(tmp.resolve("logs"));
        long t0 = System.nanoTime();
        this.classpath = snapshotClasspath();
        step(t0, "class path copied");
        t0 = System.nanoTime();
        List<String> archive = classDataArchive();
        step(t0, archive.isEmpty() ? "no class data archive (commands start without it)" : "class data archive made");
        this.cds = archive;
    }

    Path tmp() {
        return tmp;
    }

    Path logs() {
        return logs;
    }

    /** Stops every process still running: politely first, then SIGKILL. */
    @Override
    public void close() throws InterruptedException {
        for (Process p : all) if (p.isAlive()) p.destroy();
        for (Process p : all) {
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
        }
    }

    // ------------------------------------------------------------------ timeline

    /** The timeline: one line per command, wait or milestone: time since start, duration, what. */
    List<String> steps() {
        synchronized (steps) {
            return List.copyOf(steps);
        }
    }

    /** Records a step that began at {@code t0} (System.nanoTime) and ends now. */
    void step(long t0, String what) {
        long now = System.nanoTime();
        steps.add(String.format("%8.2f s %7d ms  %s", (now - startNanos) / 1e9, (now - t0) / 1_000_000,
                what.replace(tmp.toString(), "$TMP")));
    }

    /** Records a milestone (no duration). */
    void mark(String what) {
        long now = System.nanoTime();
        steps.add(String.format("%8.2f s %7s     == %s", (now - startNanos) / 1e9, "", what.replace(tmp.toString(), "$TMP")));
    }

    /** The timeline and the tail of every daemon's output, for a failure message. */
    String report() {
        return "=== commands ===\n" + String.join("\n", steps()) + "\n" + daemonLogs();
    }

    /** Rethrows an assertion failure with {@link #report()} appended. */
    AssertionError withReport(AssertionError e) {
        return new AssertionError(e.getMessage() + "\n" + report(), e);
    }

    // ------------------------------------------------------------------ process plumbing

    static String read(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    ProcessBuilder builder(String... args) {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
                // quick start-up on a small machine; the program's own logging configuration, not the tests'
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-XX:-UsePerfData", "-Xss1m",
                "-Djava.io.tmpdir=" + tmp,
                "-Dlogback.configurationFile=logback.xml"));
        cmd.addAll(cds);
        cmd.addAll(List.of("-cp", classpath, "org.parley.app.Main"));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).directory(tmp.toFile());
    }

    /** Runs a command to completion with {@code stdin} as its standard input. */
    Res cli(String stdin, String... args) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        try {
            return cli0(stdin, args);
        } finally {
            step(t0, "parley " + String.join(" ", args));
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
        all.remove(p);
        return new Res(p.exitValue(), read(out), read(err));
    }

    /** Runs a command that must succeed (exit 0). */
    Res ok(String stdin, String... args) throws IOException, InterruptedException {
        Res r = cli(stdin, args);
        assertThat(r.code()).as("parley %s\n%s", String.join(" ", args), r).isZero();
        return r;
    }

    /** Starts a long-running command. */
    Daemon launch(String name, String... args) throws IOException {
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
    Daemon awaitReady(Daemon d, String ready) throws InterruptedException {
        long t0 = System.nanoTime();
        long end = t0 + WAIT.toNanos();
        while (!read(d.out()).contains(ready)) {
            if (!d.process().isAlive()) fail(d.name() + " exited with " + d.process().exitValue() + " before it was ready:\n" + d.output());
            if (System.nanoTime() > end) fail(d.name() + " was not ready within " + WAIT + ":\n" + d.output());
            Thread.sleep(100);
        }
        step(t0, d.name() + " ready");
        return d;
    }

    Daemon start(String name, String ready, String... args) throws IOException, InterruptedException {
        return awaitReady(launch(name, args), ready);
    }

    /** Polls {@code check} every 200 ms until it holds; fails with the daemons' logs after {@code timeout}. */
    void awaitCondition(String what, Duration timeout, CheckedSupplier<Boolean> check) throws Exception {
        long t0 = System.nanoTime();
        long end = t0 + timeout.toNanos();
        while (true) {
            if (check.get()) {
                step(t0, "waited for " + what.replaceAll(" \\(last .*", ""));
                return;
            }
            if (System.nanoTime() > end) fail("timed out after " + timeout + " waiting for " + what + "\n" + daemonLogs());
            Thread.sleep(200);
        }
    }

    /** The same, with {@code detail} (say, what was seen last) added to the failure message. */
    void awaitCondition(String what, Duration timeout, CheckedSupplier<Boolean> check, java.util.function.Supplier<String> detail)
            throws Exception {
        try {
            awaitCondition(what, timeout, check);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\nlast seen: " + detail.get(), e);
        }
    }

    /** The last 4000 characters of every daemon's output. */
    String daemonLogs() {
        StringBuilder b = new StringBuilder();
        synchronized (daemons) {
            for (Daemon d : daemons.values()) {
                b.append("=== ").append(d.name()).append(d.process().isAlive() ? " (running)" : " (exited)").append(" ===\n");
                String o = d.output();
                b.append(o.length() > 4000 ? "..." + o.substring(o.length() - 4000) : o).append('\n');
            }
        }
        return b.toString();
    }

    /**
     * Makes an application class data sharing archive of the classes a command loads (one run of
     * {@code client status} with {@code -XX:ArchiveClassesAtExit}): every later command maps it instead of
     * loading and verifying those classes, which cuts its start-up by a third or more on a small machine. JVM
     * logging is off (its warnings go to stdout by default and would spoil {@code --json} output, and the
     * one-line error messages on stderr are part of what the tests check). Returns the options for the later
     * commands, or none if the archive was not made.
     */
    private List<String> classDataArchive() throws IOException {
        Path jsa = tmp.resolve("parley-cli.jsa");
        // not even errors: the JDK's own archive lacks --enable-native-access, which the JVM reports as an error
        List<String> quiet = List.of("-Xlog:disable");
        List<String> dump = new ArrayList<>(quiet);
        dump.add("-XX:ArchiveClassesAtExit=" + jsa);
        cds = dump;
        Path out = logs.resolve("0-class-data-archive.out");
        try {
            Process p = builder("client", "--home", tmp.resolve("no-such-device").toString(), "status", "--json")
                    .redirectOutput(out.toFile()).redirectErrorStream(true).start();
            p.getOutputStream().close();
            if (!p.waitFor(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return List.of();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return List.of();
        } finally {
            cds = List.of();
        }
        if (!Files.isRegularFile(jsa) || Files.size(jsa) == 0) return List.of();
        List<String> use = new ArrayList<>(quiet);
        use.add("-XX:SharedArchiveFile=" + jsa);
        return use;
    }

    /**
     * Copies this JVM's class path into the temporary folder, folders as jars (class data sharing takes
     * only jars). Other builds on the machine may run {@code mvn install} while this test runs and rewrite
     * the jars in the local repository under the feet of the child processes; the copies keep every child
     * on one consistent build.
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
                dst = dir.resolve((i - 1) + "-" + src.getFileName() + ".jar");
                try (var walk = Files.walk(src);
                        var jar = new java.util.jar.JarOutputStream(Files.newOutputStream(dst))) {
                    for (Path f : (Iterable<Path>) walk::iterator) {
                        if (f.equals(src)) continue;
                        String name = src.relativize(f).toString().replace(java.io.File.separatorChar, '/');
                        if (Files.isDirectory(f)) {
                            jar.putNextEntry(new java.util.jar.JarEntry(name + "/"));
                        } else {
                            jar.putNextEntry(new java.util.jar.JarEntry(name));
                            Files.copy(f, jar);
                        }
                        jar.closeEntry();
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

    // ------------------------------------------------------------------ network and devices

    /** The password {@link #network} gives an account. */
    static String password(String user) {
        return user + "-password-123";
    }

    /**
     * A login server (folder {@code TMP/login}, accounts {@code sn1} for the supernode and every user, each
     * with {@link #password}) and a supernode ({@code TMP/sn1}) listed as the network's seed, both running
     * on 127.0.0.1.
     */
    Network network(String name, List<String> users) throws Exception {
        Path login = tmp.resolve("login");
        Path sn = tmp.resolve("sn1");
        int loginPort = CliTestSupport.freeTcpPort();
        int snPort = CliTestSupport.freeUdpPort();
        Path nf = login.resolve("network.json");

        ok(null, "login-server", "init", "--data", login.toString(), "--name", name,
                "--public-address", "127.0.0.1:" + loginPort);
        ok(password("sn1") + "\n", "account", "add", "--data", login.toString(), "--user", "sn1", "--role", "supernode");
        for (String u : users) ok(password(u) + "\n", "account", "add", "--data", login.toString(), "--user", u);
        List<String> everyone = new ArrayList<>(users);
        everyone.add("sn1");
        assertThat(ok(null, "account", "list", "--data", login.toString()).out()).contains(everyone);

        Daemon loginServer = start("login-server", "listening on https://",
                "login-server", "run", "--data", login.toString(), "--listen", "127.0.0.1:" + loginPort);

        ok(password("sn1") + "\n", "supernode", "login", "--data", sn.toString(), "--network", nf.toString(), "--user", "sn1");
        ok(null, "network", "add-seed", "--data", login.toString(), "127.0.0.1:" + snPort);
        Daemon supernode = start("supernode", "listening on UDP",
                "supernode", "run", "--data", sn.toString(), "--listen", "127.0.0.1:" + snPort);
        return new Network(login, nf, loginPort, snPort, loginServer, supernode);
    }

    /**
     * Creates device folders and logs them in, all at once: {@code init --network} then {@code login --user}
     * with the user's {@link #password}, keyed by folder with the user as value.
     */
    void enrol(Network net, Map<Path, String> devices) throws Exception {
        List<CheckedSupplier<Void>> calls = new ArrayList<>();
        for (Map.Entry<Path, String> e : devices.entrySet()) {
            Path h = e.getKey();
            String user = e.getValue();
            calls.add(() -> {
                ok(null, "client", "--home", h.toString(), "init", "--network", net.networkFile().toString());
                assertThat(ok(password(user) + "\n", "client", "--home", h.toString(), "login", "--user", user).out())
                        .contains("logged in as '" + user + "'");
                return null;
            });
        }
        parallel(calls);
    }

    /**
     * Runs the calls at once, a thread each (the common pool has a single thread on a two-core machine), and
     * returns their results in order; the first failure is rethrown as it is.
     */
    <T> List<T> parallel(List<CheckedSupplier<T>> calls) throws Exception {
        List<CompletableFuture<T>> fs = new ArrayList<>();
        for (CheckedSupplier<T> c : calls) {
            fs.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return c.get();
                } catch (RuntimeException | Error e) {
                    throw e;
                } catch (Exception e) {
                    throw new CompletionException(e);
                }
            }, r -> Thread.ofPlatform().daemon().name("harness-parallel").start(r)));
        }
        List<T> out = new ArrayList<>();
        for (CompletableFuture<T> f : fs) {
            try {
                out.add(f.join());
            } catch (CompletionException e) {
                if (e.getCause() instanceof Error err) throw err;
                if (e.getCause() instanceof Exception ex) throw ex;
                throw e;
            }
        }
        return out;
    }

    /** Launches {@code client run} for a device folder (not waiting for it). */
    Daemon launchClient(String name, Path home, String listen) throws IOException {
        return launch(name, "client", "--home", home.toString(), "run", "--listen", listen);
    }

    /** Waits until a client daemon of {@code user} says it is running. */
    Daemon awaitClient(Daemon d, String user) throws InterruptedException {
        return awaitReady(d, "client daemon of '" + user + "' running");
    }

    // ------------------------------------------------------------------ client helpers

    /** {@code client status --json}, or null if the command fails (no daemon). */
    JsonNode status(Path home) throws Exception {
        Res r = cli(null, "client", "--home", home.toString(), "status", "--json");
        if (r.code() != 0) return null;
        return JSON.readTree(r.out());
    }

    void awaitAttached(Path home) throws Exception {
        awaitCondition(home.getFileName() + " attached", WAIT, () -> {
            JsonNode s = status(home);
            return s != null && "attached".equals(s.path("linkState").asText());
        });
    }

    /**
     * GET on the daemon's local API (api.json: url and token), for cheap polling while waiting (no process
     * start); null if the daemon is not there or answers with an error. Assertions should use the CLI.
     */
    static JsonNode api(Path home, String pathAndQuery) throws Exception {
        JsonNode api;
        try {
            api = JSON.readTree(Files.readString(home.resolve("api.json")));
        } catch (IOException e) {
            return null;
        }
        HttpRequest req = HttpRequest.newBuilder(URI.create(api.path("url").asText() + pathAndQuery))
                .header("Authorization", "Bearer " + api.path("token").asText()).timeout(Duration.ofSeconds(10)).GET().build();
        HttpResponse<String> r;
        try {
            r = HTTP.send(req, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            return null;
        }
        if (r.statusCode() != 200) return null;
        return JSON.readTree(r.body());
    }

    /** The elements of a JSON array (none for null or a non-array). */
    static List<JsonNode> list(JsonNode array) {
        List<JsonNode> l = new ArrayList<>();
        if (array != null && array.isArray()) array.forEach(l::add);
        return l;
    }
}
