package org.parley.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.parley.app.DemoNetwork;
import org.parley.identity.HostPort;
import org.parley.identity.Role;
import org.parley.login.LoginServer;
import org.parley.login.LoginServerData;

/**
 * Drives the NAT lab ({@code lab/natlab.sh}): network namespaces with full-cone, address-restricted,
 * port-restricted and symmetric NATs, a supernode on the lab's "internet", and one real client daemon
 * process per node, controlled through its local API (curl inside the node's namespace). Used by the
 * lab test suite and by {@code bench/run.sh natlab}.
 */
public final class NatLab implements AutoCloseable {
    public static final String SERVER = "198.18.0.1";
    /** Every client node of the lab, in natlab.sh's order. */
    public static final List<String> NODES = List.of("full1", "full2", "addr1", "addr2", "port1", "port2", "sym1", "sym2",
            "lan1", "lan2");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One pair of the matrix and the path it must end up on. */
    public record Pair(String a, String b, String expected) {
        @Override
        public String toString() {
            return a + "<->" + b;
        }
    }

    /** The pair matrix: every NAT type with every other (instance 1 with instance 2 for the same type) and the LAN pair. */
    public static List<Pair> matrix() {
        String[] types = {"full", "addr", "port", "sym"};
        List<Pair> out = new ArrayList<>();
        for (int i = 0; i < types.length; i++) {
            for (int j = i; j < types.length; j++) {
                String a = types[i] + "1";
                String b = types[j] + (i == j ? "2" : "1");
                out.add(new Pair(a, b, expected(types[i], types[j])));
            }
        }
        out.add(new Pair("lan1", "lan2", "direct-lan"));
        return out;
    }

    /** Hole punching works unless one side is symmetric and the other port-restricted or symmetric. */
    static String expected(String t1, String t2) {
        boolean sym1 = t1.equals("sym");
        boolean sym2 = t2.equals("sym");
        if (sym1 && (sym2 || t2.equals("port")) || sym2 && t1.equals("port")) return "relayed";
        return "direct-punched";
    }

    private final Path root;
    private final Path work;
    private final Path script;
    private final String classpath;
    private final String java;
    private final List<Process> processes = new CopyOnWriteArrayList<>();
    private final Map<String, Process> clients = new LinkedHashMap<>();
    private final Map<String, String[]> apis = new LinkedHashMap<>();
    private Process supernode;
    private LoginServerData data;
    private boolean up;
    private int portBase = 40001;

    public NatLab(Path root, Path work) {
        this.root = root;
        this.work = work;
        this.script = root.resolve("lab/natlab.sh");
        this.classpath = System.getProperty("java.class.path");
        this.java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    /** Finds the project root (the folder holding lab/natlab.sh) from the working directory upwards. */
    public static Path findRoot() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null) {
            if (Files.isRegularFile(p.resolve("lab/natlab.sh"))) return p;
            p = p.getParent();
        }
        throw new IllegalStateException("lab/natlab.sh not found above " + Path.of("").toAbsolutePath());
    }

    /** Why the lab cannot run here, or empty when it can. */
    public static Optional<String> unavailable(Path root) {
        if (!"root".equals(System.getProperty("user.name"))) return Optional.of("the NAT lab needs root (network namespaces, iptables)");
        for (String tool : List.of("ip", "iptables", "curl")) {
            boolean found = false;
            for (String dir : List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin")) found |= Files.isExecutable(Path.of(dir, tool));
            if (!found) return Optional.of("the NAT lab needs '" + tool + "' (Debian packages iproute2, iptables, curl)");
        }
        return Optional.empty();
    }

    // ------------------------------------------------------------------ shell

    record Res(int code, String out, String err) {}

    private Res run(Duration timeout, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        var errText = new java.util.concurrent.CompletableFuture<String>();
        Thread.ofVirtual().start(() -> {
            try {
                errText.complete(new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                errText.complete("");
            }
        });
        var outText = new java.util.concurrent.CompletableFuture<String>();
        Thread.ofVirtual().start(() -> {
            try {
                outText.complete(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                outText.complete("");
            }
        });
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            throw new IOException("timed out after " + timeout.toSeconds() + " s: " + String.join(" ", cmd));
        }
        try {
            return new Res(p.exitValue(), outText.get(5, TimeUnit.SECONDS), errText.get(5, TimeUnit.SECONDS));
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IOException("cannot read the output of " + String.join(" ", cmd));
        }
    }

    private Res lab(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("bash", script.toString()));
        cmd.addAll(List.of(args));
        return run(Duration.ofSeconds(120), cmd.toArray(String[]::new));
    }

    // ------------------------------------------------------------------ lifecycle

    /** Builds the namespaces, enrols the supernode and every client, starts them all. */
    public void start() throws Exception {
        Res r = lab("up");
        if (r.code() != 0) throw new IOException("natlab.sh up failed (" + r.code() + "): " + r.err().strip());
        up = true;
        Files.createDirectories(work);
        data = LoginServerData.init(work.resolve("login"), "natlab", new HostPort(SERVER, 7443));
        data.addSeed(new HostPort(SERVER, 7700));
        // enrolment is not what the lab tests: do it through a login server on this host's loopback
        LoginServer ls = DemoNetwork.startLoopbackLogin(data, Duration.ofHours(24));
        try {
            DemoNetwork.enrol(data, work.resolve("sn1"), "sn1", Role.SUPERNODE, "supernode-password");
            for (String n : NODES) DemoNetwork.enrol(data, work.resolve(n), n, Role.USER, "password-of-" + n);
        } finally {
            ls.close();
        }
        supernode = spawn("inet", "supernode", "supernode", "run", "--data", work.resolve("sn1").toString(),
                "--listen", SERVER + ":7700");
        for (int i = 0; i < NODES.size(); i++) startClient(NODES.get(i));
        for (String n : NODES) awaitAttached(n, Duration.ofSeconds(120));
    }

    private Process spawn(String node, String name, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("bash", script.toString(), "exec", node, java,
                "--enable-native-access=ALL-UNNAMED", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx160m",
                "-XX:-UsePerfData", "-Djava.io.tmpdir=" + work, "-cp", classpath, "org.parley.app.Main"));
        cmd.addAll(List.of(args));
        Path logFile = work.resolve(name + ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        processes.add(p);
        return p;
    }

    public void startClient(String node) throws IOException {
        Files.deleteIfExists(work.resolve(node).resolve("api.json"));
        int port = portBase + NODES.indexOf(node);
        clients.put(node, spawn(node, node, "client", "--home", work.resolve(node).toString(), "run",
                "--listen", "0.0.0.0:" + port));
        apis.remove(node);
    }

    /**
     * Restarts every client on fresh UDP ports, so that no NAT mapping or conntrack entry of an earlier
     * session helps the next one: each round starts from cold NAT state.
     */
    public void restartClients() throws Exception {
        for (String n : List.copyOf(clients.keySet())) stopClient(n);
        portBase += 100;
        if (portBase > 60000) portBase = 40001;
        for (String n : NODES) startClient(n);
        for (String n : NODES) awaitAttached(n, Duration.ofSeconds(120));
    }

    public void stopClient(String node) throws InterruptedException {
        Process p = clients.remove(node);
        apis.remove(node);
        if (p == null) return;
        // the daemon is a grandchild (bash -> ip netns exec -> java): wait for all of them, or the next
        // start finds the device folder still locked
        List<ProcessHandle> tree = new ArrayList<>(p.descendants().toList());
        tree.forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
        for (ProcessHandle h : tree) {
            try {
                h.onExit().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException("process " + h.pid() + " of " + node + " does not exit");
            }
        }
    }

    private String[] api(String node) throws IOException {
        String[] a = apis.get(node);
        if (a != null) return a;
        Path f = work.resolve(node).resolve("api.json");
        if (!Files.exists(f)) throw new IOException(node + " has no api.json yet");
        JsonNode j = JSON.readTree(f.toFile());
        a = new String[] {String.valueOf(j.path("port").asInt()), j.path("token").asText()};
        apis.put(node, a);
        return a;
    }

    /** Calls the node's local API with curl inside its namespace. */
    public JsonNode call(String node, String method, String path, String body) throws IOException, InterruptedException {
        String[] a = api(node);
        List<String> cmd = new ArrayList<>(List.of("bash", script.toString(), "exec", node, "curl", "-sS", "-m", "10",
                "-X", method, "-H", "Authorization: Bearer " + a[1], "-H", "Content-Type: application/json"));
        if (body != null) cmd.addAll(List.of("--data-binary", body));
        cmd.add("http://127.0.0.1:" + a[0] + path);
        Res r = run(Duration.ofSeconds(20), cmd.toArray(String[]::new));
        if (r.code() != 0) throw new IOException("curl " + path + " on " + node + " failed: " + r.err().strip());
        return JSON.readTree(r.out());
    }

    public JsonNode status(String node) throws IOException, InterruptedException {
        return call(node, "GET", "/api/v1/status", null);
    }

    public void awaitAttached(String node, Duration timeout) throws Exception {
        Process p = clients.get(node);
        await(timeout, "client " + node + " attached (log: " + logFile(node) + ")", () -> {
            if (p != null && !p.isAlive()) throw new IllegalStateException("client " + node + " exited: " + tail(logFile(node)));
            try {
                return "attached".equals(status(node).path("linkState").asText());
            } catch (IOException e) {
                return false;
            }
        });
    }

    /** Sends a message; returns its stored record (with id and sentAtMillis). */
    public JsonNode send(String from, String to, String text) throws IOException, InterruptedException {
        return call(from, "POST", "/api/v1/messages", JSON.writeValueAsString(Map.of("to", to, "text", text)));
    }

    public JsonNode history(String node, String with) throws IOException, InterruptedException {
        return call(node, "GET", "/api/v1/messages?with=" + with + "&limit=1000", null);
    }

    /** The node's session with {@code peer}, or null. */
    public JsonNode session(String node, String peer) throws IOException, InterruptedException {
        for (JsonNode s : status(node).path("sessions")) if (peer.equals(s.path("user").asText())) return s;
        return null;
    }

    public void block(String a, String b) throws IOException, InterruptedException {
        Res r = lab("block", a, b);
        if (r.code() != 0) throw new IOException("block failed: " + r.err().strip());
    }

    public void unblock(String a, String b) throws IOException, InterruptedException {
        Res r = lab("unblock", a, b);
        if (r.code() != 0) throw new IOException("unblock failed: " + r.err().strip());
    }

    public interface Check {
        boolean ok() throws Exception;
    }

    public static void await(Duration timeout, String what, Check c) throws Exception {
        long end = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (c.ok()) return;
            if (System.nanoTime() > end) throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what);
            Thread.sleep(100);
        }
    }

    /** Waits until {@code id} is delivered at the sender; returns the delivered record. */
    public JsonNode awaitDelivered(String from, String to, String id, Duration timeout) throws Exception {
        JsonNode[] found = new JsonNode[1];
        await(timeout, "message " + id + " from " + from + " delivered to " + to, () -> {
            for (JsonNode m : history(from, to)) {
                if (id.equals(m.path("id").asText()) && "delivered".equals(m.path("state").asText())) {
                    found[0] = m;
                    return true;
                }
            }
            return false;
        });
        return found[0];
    }

    public static Predicate<JsonNode> onPath(String path) {
        return s -> s != null && path.equals(s.path("path").asText());
    }

    private static String tail(Path f) {
        try {
            List<String> lines = Files.readAllLines(f);
            return String.join(" | ", lines.subList(Math.max(0, lines.size() - 3), lines.size()));
        } catch (IOException e) {
            return "(no log)";
        }
    }

    public Path logFile(String name) {
        return work.resolve(name + ".log");
    }

    @Override
    public void close() {
        for (Process p : processes) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        for (Process p : processes) {
            try {
                p.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (data != null) data.close();
        if (up) {
            try {
                Res r = lab("down");
                if (r.code() != 0) System.err.println("natlab.sh down failed: " + r.err().strip());
            } catch (Exception e) {
                System.err.println("natlab.sh down failed: " + e.getMessage());
            }
        }
    }
}
