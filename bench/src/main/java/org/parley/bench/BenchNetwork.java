package org.parley.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.parley.identity.CertificateVerifier;
import org.parley.identity.HostPort;
import org.parley.identity.Keys;
import org.parley.identity.Policy;
import org.parley.identity.Role;
import org.parley.login.LoginServer;
import org.parley.login.LoginServerConfig;
import org.parley.login.LoginServerData;
import org.parley.app.DemoNetwork;

/**
 * A benchmark network: login server data and login server in this JVM (network "bench"), and one or more
 * supernodes enrolled through the login server, each run as a separate JVM process with
 * {@code org.parley.app.Main supernode run}. Bench clients get certificates straight from the network CA.
 * With several supernodes ({@link #startMany}) every supernode port is a seed in network.json before any
 * supernode is enrolled, so each supernode's copy of network.json lists all of them and they form the overlay.
 */
final class BenchNetwork implements AutoCloseable {
    /** A device identity issued by the CA without a login. */
    record Identity(String user, PrivateKey key, PublicKey publicKey, X509Certificate certificate, String deviceId) {}

    /**
     * How to run each supernode process.
     *
     * @param capacity   --capacity
     * @param keepalive  --keepalive (null: the supernode's default)
     * @param lookupRate --lookup-rate (0: the supernode's default)
     * @param attachRate --attach-rate (0: the supernode's default)
     * @param relay      whether to run the relay (on the listen port + 1); off adds --no-relay
     */
    record Spec(int capacity, Duration keepalive, int lookupRate, int attachRate, boolean relay) {
        static Spec of(int capacity) {
            return new Spec(capacity, null, 0, 0, true);
        }
    }

    /** One supernode process. */
    static final class SupernodeProcess {
        final String name;
        final Path dataDir;
        final InetSocketAddress address;
        final int metricsPort;
        final Path log;
        private final Process process;
        private final HttpClient http;
        private volatile long killedAtNanos;

        private SupernodeProcess(String name, Path dataDir, InetSocketAddress address, int metricsPort, Path log,
                                 Process process, HttpClient http) {
            this.name = name;
            this.dataDir = dataDir;
            this.address = address;
            this.metricsPort = metricsPort;
            this.log = log;
            this.process = process;
            this.http = http;
        }

        /** host:port as the supernode advertises itself (its --listen address). */
        String hostPort() {
            return "127.0.0.1:" + address.getPort();
        }

        long pid() {
            return process.pid();
        }

        boolean alive() {
            return process.isAlive();
        }

        /** Kills the process with SIGKILL (no goodbye to its clients or peers); returns the time, System.nanoTime. */
        long kill9() {
            long t = System.nanoTime();
            killedAtNanos = t;
            process.destroyForcibly();
            return t;
        }

        boolean killed() {
            return killedAtNanos != 0;
        }

        /** Waits for a killed process to be gone. */
        void awaitExit(Duration d) throws InterruptedException {
            process.waitFor(d.toMillis(), TimeUnit.MILLISECONDS);
        }

        /** Every sample of the supernode's Prometheus endpoint (name without labels -> value), or an empty map. */
        Map<String, Double> metrics(Duration timeout) {
            Map<String, Double> out = new HashMap<>();
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + metricsPort + "/metrics")).timeout(timeout).build(),
                        HttpResponse.BodyHandlers.ofString());
                for (String l : r.body().split("\n")) {
                    if (l.isEmpty() || l.startsWith("#")) continue;
                    int sp = l.lastIndexOf(' ');
                    int brace = l.indexOf('{');
                    String name = l.substring(0, brace > 0 && brace < sp ? brace : sp);
                    try {
                        out.putIfAbsent(name, Double.parseDouble(l.substring(sp + 1)));
                    } catch (NumberFormatException ignored) {
                        // not a sample line
                    }
                }
            } catch (IOException | RuntimeException e) {
                return Map.of();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Map.of();
            }
            return out;
        }

        /** A gauge or counter value from the supernode's Prometheus endpoint, or NaN. */
        double metric(String name) {
            return metrics(Duration.ofSeconds(10)).getOrDefault(name, Double.NaN);
        }

        @Override
        public String toString() {
            return name + "@" + hostPort() + " (pid " + pid() + ")";
        }
    }

    private final Path dir;
    private final LoginServerData data;
    private final LoginServer login;
    private final List<SupernodeProcess> supernodes;
    private final HttpClient http;

    private BenchNetwork(Path dir, LoginServerData data, LoginServer login, List<SupernodeProcess> supernodes, HttpClient http) {
        this.dir = dir;
        this.data = data;
        this.login = login;
        this.supernodes = List.copyOf(supernodes);
        this.http = http;
    }

    /** Creates the network in {@code dir} and starts one supernode process; waits until it listens. */
    static BenchNetwork start(Path dir, int capacity, Cleanup cleanup) throws Exception {
        return start(dir, 1, Spec.of(capacity), cleanup, false);
    }

    /**
     * Creates the network in {@code dir} with {@code n} supernode processes (sn1..snN, each with its own data
     * folder, UDP port and metrics port; all ports are seeds of network.json); waits until all listen.
     */
    static BenchNetwork startMany(Path dir, int n, Spec spec, Cleanup cleanup) throws Exception {
        return start(dir, n, spec, cleanup, true);
    }

    private static BenchNetwork start(Path dir, int n, Spec spec, Cleanup cleanup, boolean seeded) throws Exception {
        LoginServerData data = LoginServerData.init(dir.resolve("login"), "bench", new HostPort("127.0.0.1", 0));
        List<Cleanup.Handle> handles = new ArrayList<>();
        handles.add(cleanup.add("login data", data::close));
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        try {
            LoginServer login = DemoNetwork.startLoopbackLogin(data, LoginServerConfig.DEFAULT_CERTIFICATE_LIFETIME);
            handles.add(cleanup.add("login server", login::close));
            // ports first: a UDP port (and the next one for the relay) and a metrics port per supernode, all distinct
            List<Integer> ports = new ArrayList<>();
            List<Integer> metricsPorts = new ArrayList<>();
            while (ports.size() < n) {
                int p = Probe.freeUdpPort();
                if (ports.contains(p) || ports.contains(p - 1) || ports.contains(p + 1)) continue;
                if (spec.relay() && !udpFree(p + 1)) continue;
                ports.add(p);
            }
            while (metricsPorts.size() < n) {
                int m = Probe.freeTcpPort();
                if (!metricsPorts.contains(m)) metricsPorts.add(m);
            }
            List<Path> dirs = new ArrayList<>();
            if (seeded) {
                // every supernode copies network.json when it is enrolled: list all seeds before the first enrolment
                for (int p : ports) data.addSeed(new HostPort("127.0.0.1", p));
            }
            for (int i = 0; i < n; i++) {
                Path snDir = dir.resolve(n == 1 && !seeded ? "supernode" : "supernode" + (i + 1));
                DemoNetwork.enrol(data, snDir, "sn" + (i + 1), Role.SUPERNODE, Keys.randomToken(12));
                dirs.add(snDir);
            }
            if (!seeded) for (int p : ports) data.addSeed(new HostPort("127.0.0.1", p));

            List<Process> procs = new ArrayList<>();
            List<Path> logs = new ArrayList<>();
            Path keepDir = Path.of(System.getProperty("bench.results", "bench/target/results.jsonl")).toAbsolutePath().getParent();
            for (int i = 0; i < n; i++) {
                List<String> cmd = new ArrayList<>();
                cmd.add(Probe.jdkTool("java").toString());
                cmd.add("--enable-native-access=ALL-UNNAMED");
                String extra = System.getenv("BENCH_SUPERNODE_JAVA_OPTS");
                if (extra != null && !extra.isBlank()) cmd.addAll(List.of(extra.trim().split("\\s+")));
                cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "org.parley.app.Main",
                        "supernode", "run", "--data", dirs.get(i).toString(), "--listen", "127.0.0.1:" + ports.get(i),
                        "--capacity", Integer.toString(spec.capacity()), "--metrics", "127.0.0.1:" + metricsPorts.get(i)));
                if (spec.keepalive() != null) cmd.addAll(List.of("--keepalive", spec.keepalive().toString())); // ISO-8601, e.g. PT5S
                if (spec.lookupRate() > 0) cmd.addAll(List.of("--lookup-rate", Integer.toString(spec.lookupRate())));
                if (spec.attachRate() > 0) cmd.addAll(List.of("--attach-rate", Integer.toString(spec.attachRate())));
                if (!spec.relay()) cmd.add("--no-relay");
                String name = "sn" + (i + 1);
                Path log = dir.resolve(n == 1 && !seeded ? "supernode.log" : name + ".log");
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
                cleanup.notePid(p.pid());
                // keep each supernode's output of the last run next to the results
                Path keep = keepDir.resolve(i == 0 ? "supernode-last.log" : "supernode-" + name + "-last.log");
                handles.add(cleanup.add("supernode process " + name + " " + p.pid(), () -> {
                    stop(p);
                    if (Files.exists(log)) Files.copy(log, keep, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }));
                procs.add(p);
                logs.add(log);
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60 + 10L * n);
            for (int i = 0; i < n; i++) {
                Process p = procs.get(i);
                Path log = logs.get(i);
                while (true) {
                    String text = Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
                    if (text.contains("listening on UDP")) break;
                    if (!p.isAlive() || System.nanoTime() > deadline) {
                        throw new IOException("the supernode process sn" + (i + 1) + " did not start (" + (p.isAlive()
                                ? "timeout" : "exit " + p.exitValue()) + "); its output:\n" + Probe.lastLines(log, 20));
                    }
                    Thread.sleep(50);
                }
            }
            List<SupernodeProcess> sns = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                sns.add(new SupernodeProcess("sn" + (i + 1), dirs.get(i), new InetSocketAddress("127.0.0.1", ports.get(i)),
                        metricsPorts.get(i), logs.get(i), procs.get(i), http));
            }
            BenchNetwork net = new BenchNetwork(dir, data, login, sns, http);
            // the handles stay registered: closing the network closes them in reverse order
            java.util.Collections.reverse(handles);
            net.handles = List.copyOf(handles);
            return net;
        } catch (Exception | Error e) {
            for (int i = handles.size() - 1; i >= 0; i--) handles.get(i).close();
            throw e;
        }
    }

    private static boolean udpFree(int port) {
        try (java.net.DatagramSocket s = new java.net.DatagramSocket(new InetSocketAddress(Probe.LOOPBACK, port))) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private List<Cleanup.Handle> handles = List.of();

    private static void stop(Process p) throws InterruptedException {
        if (!p.isAlive()) return;
        p.destroy(); // SIGTERM: the supernode closes its node
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
        }
    }

    /** Every supernode process, sn1 first. */
    List<SupernodeProcess> supernodes() {
        return supernodes;
    }

    /** The seeds of network.json as host:port, in order (what a client's attach planner starts from). */
    List<String> seeds() {
        return data.networkFile().seeds().stream().map(HostPort::toString).toList();
    }

    /** The first (or only) supernode. */
    InetSocketAddress supernode() {
        return supernodes.get(0).address;
    }

    long supernodePid() {
        return supernodes.get(0).pid();
    }

    Path supernodeLog() {
        return supernodes.get(0).log;
    }

    PublicKey caPublicKey() {
        return data.networkFile().caPublicKey();
    }

    /** A verifier of its own (with an empty cache), as every real device has. */
    CertificateVerifier newVerifier() {
        return CertificateVerifier.of(data.networkFile(), Clock.systemUTC());
    }

    /** Issues a user certificate directly with the network CA (no Argon2 login; benchmark shortcut). */
    Identity issue(String user) {
        KeyPair kp = Keys.newDeviceKeyPair();
        Instant now = Instant.now();
        X509Certificate cert = data.ca().issueDevice(user, Role.USER, kp.getPublic(), Policy.DEFAULT,
                now.minus(Duration.ofMinutes(5)), now.plus(Duration.ofHours(24)));
        return new Identity(user, kp.getPrivate(), kp.getPublic(), cert, Keys.deviceId(kp.getPublic()));
    }

    /** A gauge or counter value from the first supernode's Prometheus endpoint, or NaN. */
    double metric(String name) {
        return supernodes.get(0).metric(name);
    }

    /** Waits until the supernode reports {@code n} attached clients; returns the last value seen. */
    double awaitAttached(int n, Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        double v = Double.NaN;
        while (System.nanoTime() < end) {
            v = metric("parley_supernode_attached_clients");
            if (v == n) return v;
            Thread.sleep(200);
        }
        return v;
    }

    /** Whether the first supernode's process is running. */
    boolean alive() {
        return supernodes.get(0).alive();
    }

    Path dir() {
        return dir;
    }

    @Override
    public void close() {
        for (Cleanup.Handle h : handles) h.close();
    }
}
