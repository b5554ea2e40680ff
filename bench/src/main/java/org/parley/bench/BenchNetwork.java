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
import java.util.List;
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
 * A benchmark network: login server data and login server in this JVM (network "bench"), and one supernode
 * enrolled through the login server and run as a separate JVM process with
 * {@code org.parley.app.Main supernode run}. Bench clients get certificates straight from the network CA.
 */
final class BenchNetwork implements AutoCloseable {
    /** A device identity issued by the CA without a login. */
    record Identity(String user, PrivateKey key, PublicKey publicKey, X509Certificate certificate, String deviceId) {}

    private final Path dir;
    private final LoginServerData data;
    private final LoginServer login;
    private final Process process;
    private final Path log;
    private final InetSocketAddress supernode;
    private final int metricsPort;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private BenchNetwork(Path dir, LoginServerData data, LoginServer login, Process process, Path log,
                         InetSocketAddress supernode, int metricsPort) {
        this.dir = dir;
        this.data = data;
        this.login = login;
        this.process = process;
        this.log = log;
        this.supernode = supernode;
        this.metricsPort = metricsPort;
    }

    /** Creates the network in {@code dir} and starts the supernode process; waits until it listens. */
    static BenchNetwork start(Path dir, int capacity, Cleanup cleanup) throws Exception {
        LoginServerData data = LoginServerData.init(dir.resolve("login"), "bench", new HostPort("127.0.0.1", 0));
        Cleanup.Handle dataHandle = cleanup.add("login data", data::close);
        LoginServer login = DemoNetwork.startLoopbackLogin(data, LoginServerConfig.DEFAULT_CERTIFICATE_LIFETIME);
        Cleanup.Handle loginHandle = cleanup.add("login server", login::close);
        Path snDir = dir.resolve("supernode");
        DemoNetwork.enrol(data, snDir, "sn1", Role.SUPERNODE, Keys.randomToken(12));

        int port = Probe.freeUdpPort();
        int metrics = Probe.freeTcpPort();
        data.addSeed(new HostPort("127.0.0.1", port));

        List<String> cmd = new ArrayList<>();
        cmd.add(Probe.jdkTool("java").toString());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        String extra = System.getenv("BENCH_SUPERNODE_JAVA_OPTS");
        if (extra != null && !extra.isBlank()) cmd.addAll(List.of(extra.trim().split("\\s+")));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "org.parley.app.Main",
                "supernode", "run", "--data", snDir.toString(), "--listen", "127.0.0.1:" + port,
                "--capacity", Integer.toString(capacity), "--metrics", "127.0.0.1:" + metrics));
        Path log = dir.resolve("supernode.log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        cleanup.notePid(p.pid());
        Path keep = Path.of(System.getProperty("bench.results", "bench/target/results.jsonl")).toAbsolutePath()
                .resolveSibling("supernode-last.log");
        Cleanup.Handle procHandle = cleanup.add("supernode process " + p.pid(), () -> {
            stop(p);
            // keep the supernode's output of the last run next to the results
            if (Files.exists(log)) Files.copy(log, keep, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            String text = Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
            if (text.contains("listening on UDP")) break;
            if (!p.isAlive() || System.nanoTime() > deadline) {
                String tail = Probe.lastLines(log, 20);
                procHandle.close();
                loginHandle.close();
                dataHandle.close();
                throw new IOException("the supernode process did not start (" + (p.isAlive() ? "timeout" : "exit "
                        + p.exitValue()) + "); its output:\n" + tail);
            }
            Thread.sleep(50);
        }
        BenchNetwork n = new BenchNetwork(dir, data, login, p, log, new InetSocketAddress("127.0.0.1", port), metrics);
        // the handles stay registered: closing the network closes them in order
        n.handles = List.of(procHandle, loginHandle, dataHandle);
        return n;
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

    InetSocketAddress supernode() {
        return supernode;
    }

    long supernodePid() {
        return process.pid();
    }

    Path supernodeLog() {
        return log;
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

    /** A gauge or counter value from the supernode's Prometheus endpoint, or NaN. */
    double metric(String name) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + metricsPort + "/metrics")).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            for (String l : r.body().split("\n")) {
                if (l.startsWith(name + " ") || l.startsWith(name + "{")) {
                    return Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1));
                }
            }
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return Double.NaN;
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

    boolean alive() {
        return process.isAlive();
    }

    Path dir() {
        return dir;
    }

    @Override
    public void close() {
        for (Cleanup.Handle h : handles) h.close();
    }
}
