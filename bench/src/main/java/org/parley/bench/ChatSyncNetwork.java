package org.parley.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.parley.app.DemoNetwork;
import org.parley.client.DaemonClient;
import org.parley.identity.DeviceCredentials;
import org.parley.identity.HostPort;
import org.parley.identity.Keys;
import org.parley.identity.LoginClient;
import org.parley.identity.Policy;
import org.parley.identity.Role;
import org.parley.login.LoginServer;
import org.parley.login.LoginServerConfig;
import org.parley.login.LoginServerData;

/**
 * The network of the chat-sync scenario: login server data and login server in this JVM (network "bench"), one
 * supernode process ({@code parley supernode run}, with its relay), and client homes enrolled through the login server whose
 * daemons run as separate processes ({@code parley client --home H run}), each with its own log. The daemons log
 * {@code ChatSync} at DEBUG (one line per hello, SyncRange and EventPush), which the scenario reads afterwards
 * for message counts and timings.
 */
final class ChatSyncNetwork implements AutoCloseable {
    private final Path dir;
    private final LoginServerData data;
    private final LoginServer login;
    private final Process supernode;
    private final Path logback;
    private final List<Cleanup.Handle> handles;

    private ChatSyncNetwork(Path dir, LoginServerData data, LoginServer login, Process supernode, Path logback,
                            List<Cleanup.Handle> handles) {
        this.dir = dir;
        this.data = data;
        this.login = login;
        this.supernode = supernode;
        this.logback = logback;
        this.handles = handles;
    }

    /** Creates the network in {@code dir} and starts its supernode process; returns once it listens. */
    static ChatSyncNetwork start(Path dir, Cleanup cleanup) throws Exception {
        Files.createDirectories(dir);
        LoginServerData data = LoginServerData.init(dir.resolve("login"), "bench", new HostPort("127.0.0.1", 0));
        List<Cleanup.Handle> handles = new ArrayList<>();
        handles.add(cleanup.add("login data", data::close));
        try {
            LoginServer login = DemoNetwork.startLoopbackLogin(data, LoginServerConfig.DEFAULT_CERTIFICATE_LIFETIME);
            handles.add(cleanup.add("login server", login::close));
            int port = Probe.freeUdpPort();
            while (!udpFree(port + 1)) port = Probe.freeUdpPort(); // the relay listens on the next port
            int metrics = Probe.freeTcpPort();
            Path snDir = dir.resolve("supernode");
            DemoNetwork.enrol(data, snDir, "sn1", Role.SUPERNODE, Keys.randomToken(12));
            data.addSeed(new HostPort("127.0.0.1", port)); // before the users enrol: their network.json lists it
            List<String> cmd = new ArrayList<>(javaCommand(null));
            cmd.addAll(List.of("org.parley.app.Main", "supernode", "run", "--data", snDir.toString(), "--listen",
                    "127.0.0.1:" + port, "--capacity", "100", "--metrics", "127.0.0.1:" + metrics));
            Path log = dir.resolve("supernode.log");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            cleanup.notePid(p.pid());
            handles.add(cleanup.add("supernode process " + p.pid(), () -> stop(p)));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (true) {
                String text = Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
                if (text.contains("listening on UDP")) break;
                if (!p.isAlive() || System.nanoTime() > deadline) {
                    throw new IOException("the supernode process did not start (" + (p.isAlive() ? "timeout" : "exit " + p.exitValue())
                            + "); its output:\n" + Probe.lastLines(log, 20));
                }
                Thread.sleep(50);
            }
            Path logback = dir.resolve("daemon-logback.xml");
            Files.writeString(logback, """
                    <configuration>
                      <appender name="STDERR" class="ch.qos.logback.core.ConsoleAppender">
                        <target>System.err</target>
                        <encoder><pattern>%d{HH:mm:ss.SSS} %-5level [%logger{0}] %msg%n%nopex</pattern></encoder>
                      </appender>
                      <logger name="io.netty" level="ERROR"/>
                      <logger name="io.javalin" level="WARN"/>
                      <logger name="io.javalin.Javalin" level="OFF"/>
                      <logger name="org.eclipse.jetty" level="WARN"/>
                      <logger name="org.parley.client.ChatSync" level="DEBUG"/>
                      <root level="WARN"><appender-ref ref="STDERR"/></root>
                    </configuration>
                    """, StandardCharsets.UTF_8);
            java.util.Collections.reverse(handles);
            return new ChatSyncNetwork(dir, data, login, p, logback, handles);
        } catch (Exception | Error e) {
            for (int i = handles.size() - 1; i >= 0; i--) handles.get(i).close();
            throw e;
        }
    }

    private static boolean udpFree(int port) {
        try (java.net.DatagramSocket s = new java.net.DatagramSocket(new java.net.InetSocketAddress(Probe.LOOPBACK, port))) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static List<String> javaCommand(String extraEnv) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Probe.jdkTool("java").toString());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        String extra = extraEnv == null ? System.getenv("BENCH_SUPERNODE_JAVA_OPTS") : System.getenv(extraEnv);
        if (extra != null && !extra.isBlank()) cmd.addAll(List.of(extra.trim().split("\\s+")));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path")));
        return cmd;
    }

    private static void stop(Process p) throws InterruptedException {
        if (!p.isAlive()) return;
        p.destroy();
        if (!p.waitFor(15, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
        }
    }

    boolean supernodeAlive() {
        return supernode.isAlive();
    }

    Path home(String user) {
        return dir.resolve(user);
    }

    /**
     * Enrols a user's device folder through the login server. If {@code keyFrom} holds a device.key and device.crt
     * (of an earlier run), the device keeps that key (only the certificate is new): a cached history signed with it
     * stays valid.
     */
    DeviceCredentials enrol(String user, Path keyFrom) throws Exception {
        Path home = home(user);
        String pw = "bench-" + Keys.randomToken(6);
        data.accounts().add(user, Role.USER, pw.toCharArray());
        Files.createDirectories(home);
        if (keyFrom != null && Files.exists(keyFrom.resolve(DeviceCredentials.KEY)) && Files.exists(keyFrom.resolve(DeviceCredentials.CERT))) {
            Files.copy(keyFrom.resolve(DeviceCredentials.KEY), home.resolve(DeviceCredentials.KEY), StandardCopyOption.REPLACE_EXISTING);
            Files.copy(keyFrom.resolve(DeviceCredentials.CERT), home.resolve(DeviceCredentials.CERT), StandardCopyOption.REPLACE_EXISTING);
        }
        DeviceCredentials.initNetwork(home, data.networkFilePath());
        return DeviceCredentials.enroll(home, user, pw, new LoginClient(data.networkFile()));
    }

    /**
     * A certificate of the network CA for an existing device key covering {@code notBefore..notAfter} (DER): the
     * synthetic history predates the enrolment, as it would for a device that renewed its certificate many times.
     */
    byte[] historyCertificate(DeviceCredentials c, Instant notBefore, Instant notAfter) throws Exception {
        return data.ca().issueDevice(c.user(), Role.USER, c.certificate().getPublicKey(), Policy.DEFAULT, notBefore, notAfter)
                .getEncoded();
    }

    /** Starts the daemon of a home as a process; returns once its local API answers. */
    Daemon startDaemon(String user, Cleanup cleanup, int round) throws Exception {
        Path home = home(user);
        Files.deleteIfExists(home.resolve("api.json"));
        List<String> cmd = new ArrayList<>(javaCommand("BENCH_DAEMON_JAVA_OPTS"));
        cmd.add(1, "-Dlogback.configurationFile=" + logback);
        cmd.addAll(List.of("org.parley.app.Main", "client", "--home", home.toString(), "run", "--listen", "127.0.0.1:0"));
        Path log = dir.resolve(user + "-" + round + ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        cleanup.notePid(p.pid());
        Cleanup.Handle h = cleanup.add("daemon " + user + " " + p.pid(), () -> stop(p));
        Daemon d = new Daemon(user, home, log, p, h, System.currentTimeMillis());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!Files.exists(home.resolve("api.json"))) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                d.stop();
                throw new IOException("the daemon of " + user + " did not start (" + (p.isAlive() ? "timeout" : "exit " + p.exitValue())
                        + "); its output:\n" + Probe.lastLines(log, 20));
            }
            Thread.sleep(10);
        }
        Thread.sleep(20); // api.json is written atomically, but be gentle
        d.api = DaemonClient.connect(home);
        return d;
    }

    /** One running daemon process and its local API. */
    static final class Daemon {
        final String user;
        final Path home;
        final Path log;
        final Process process;
        final long startedAt;
        private final Cleanup.Handle handle;
        DaemonClient api;

        Daemon(String user, Path home, Path log, Process process, Cleanup.Handle handle, long startedAt) {
            this.user = user;
            this.home = home;
            this.log = log;
            this.process = process;
            this.handle = handle;
            this.startedAt = startedAt;
        }

        JsonNode status() throws Exception {
            return api.get("/api/v1/status");
        }

        void syncNow() throws Exception {
            api.post("/api/v1/chats/sync", Map.of());
        }

        /** Waits until the daemon reports an open supernode link; returns its attachedSince (epoch ms). */
        long awaitAttached(Duration timeout) throws Exception {
            long end = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < end) {
                JsonNode s = status();
                if ("attached".equals(s.path("linkState").asText()) && s.path("attachedSince").asLong() > 0) {
                    return s.path("attachedSince").asLong();
                }
                if (!process.isAlive()) break;
                Thread.sleep(10);
            }
            throw new IllegalStateException("the daemon of " + user + " did not attach within " + timeout.toSeconds()
                    + " s; its output:\n" + Probe.lastLines(log, 20));
        }

        /** SIGTERM, then waits for the process (its store is closed cleanly). */
        void stop() {
            handle.close();
        }

        boolean alive() {
            return process.isAlive();
        }
    }

    @Override
    public void close() {
        for (Cleanup.Handle h : handles) h.close();
    }
}
