package org.parley.app;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.parley.client.ClientConfig;
import org.parley.client.ClientDaemon;
import org.parley.client.LocalApi;
import org.parley.identity.DeviceCredentials;
import org.parley.identity.HostPort;
import org.parley.identity.Keys;
import org.parley.identity.LoginClient;
import org.parley.identity.Role;
import org.parley.login.LoginServer;
import org.parley.login.LoginServerConfig;
import org.parley.login.LoginServerData;
import org.parley.supernode.Supernode;
import org.parley.supernode.SupernodeConfig;

/**
 * A whole Parley network on loopback in one folder: login server, one or more supernodes forming the
 * directory overlay, and client daemons with their local APIs, all on real sockets with embedded stores.
 * Used by {@code parley demo} (two supernodes, users spread over them), the integration tests and the
 * benchmarks.
 */
public final class DemoNetwork implements AutoCloseable {
    private final Path dir;
    private final LoginServerData data;
    private final LoginServer login;
    private final Supernode supernode;
    private final List<Supernode> supernodes = new java.util.ArrayList<>();
    private final Map<String, String> passwords = new LinkedHashMap<>();
    private final Map<String, ClientDaemon> clients = new LinkedHashMap<>();
    private final Map<String, LocalApi> apis = new LinkedHashMap<>();
    private final boolean directSessions;

    private DemoNetwork(Path dir, List<String> users, boolean directSessions, Duration certLifetime, int capacity,
                        int supernodeCount) throws Exception {
        this.dir = dir;
        this.directSessions = directSessions;
        data = LoginServerData.init(dir.resolve("login"), "demo", new HostPort("127.0.0.1", 0));
        LoginServer ls = null;
        Supernode sn = null;
        try {
            ls = startLoopbackLogin(data, certLifetime);
            DeviceCredentials snCreds = enrol(data, dir.resolve("supernode"), "sn1", Role.SUPERNODE, Keys.randomToken(12));
            sn = Supernode.start(snCreds, SupernodeConfig.defaults(new HostPort("127.0.0.1", 0)).withCapacity(capacity),
                    new SimpleMeterRegistry());
            data.addSeed(HostPort.of(sn.address()));
            supernodes.add(sn);
            for (int i = 2; i <= supernodeCount; i++) {
                // enrolled after the first seed is listed, so it joins the overlay through it
                DeviceCredentials more = enrol(data, dir.resolve("supernode" + i), "sn" + i, Role.SUPERNODE, Keys.randomToken(12));
                Supernode extra = Supernode.start(more, SupernodeConfig.defaults(new HostPort("127.0.0.1", 0))
                        .withCapacity(capacity), new SimpleMeterRegistry());
                supernodes.add(extra);
                data.addSeed(HostPort.of(extra.address()));
            }
            int index = 0;
            for (String u : users) {
                String pw = "demo-" + Keys.randomToken(6);
                enrol(data, home(u), u, Role.USER, pw);
                passwords.put(u, pw);
                // spread the users: each one's host cache starts with "its" supernode, tried before the seeds
                Supernode home = supernodes.get(index++ % supernodes.size());
                org.parley.overlay.HostCache hc = new org.parley.overlay.HostCache();
                hc.success(HostPort.of(home.address()).toString(), System.currentTimeMillis());
                Files.writeString(home(u).resolve("hosts.txt"), hc.encode());
            }
        } catch (Exception e) {
            for (Supernode x : supernodes) x.close();
            if (sn != null) sn.close();
            if (ls != null) ls.close();
            data.close();
            throw e;
        }
        this.login = ls;
        this.supernode = sn;
    }

    /** Starts the login server on a free loopback port and points the network file at it. */
    public static LoginServer startLoopbackLogin(LoginServerData data, Duration certLifetime) {
        LoginServer ls = LoginServer.start(data, LoginServerConfig.defaults(data.networkFile())
                .withListen(new HostPort("127.0.0.1", 0)).withCertificateLifetime(certLifetime));
        data.setLoginServerAddress(new HostPort("127.0.0.1", ls.port()));
        return ls;
    }

    /** Adds an account and enrols a device folder for it through the running login server. */
    public static DeviceCredentials enrol(LoginServerData data, Path folder, String user, Role role, String password)
            throws IOException, org.parley.identity.LoginException {
        data.accounts().add(user, role, password.toCharArray());
        Files.createDirectories(folder);
        DeviceCredentials.initNetwork(folder, data.networkFilePath());
        return DeviceCredentials.enroll(folder, user, password, new LoginClient(data.networkFile()));
    }

    /** Creates the network and starts every user's daemon. */
    public static DemoNetwork start(Path dir, List<String> users, boolean directSessions) throws Exception {
        return start(dir, users, directSessions, Duration.ofHours(24));
    }

    public static DemoNetwork start(Path dir, List<String> users, boolean directSessions, Duration certLifetime)
            throws Exception {
        return start(dir, users, directSessions, certLifetime, 10_000, true);
    }

    /**
     * @param capacity    the supernode's client capacity
     * @param startAll    whether to start every user's daemon now (else call {@link #startClient})
     */
    public static DemoNetwork start(Path dir, List<String> users, boolean directSessions, Duration certLifetime,
                                    int capacity, boolean startAll) throws Exception {
        return start(dir, users, directSessions, certLifetime, capacity, startAll, 1);
    }

    /**
     * @param supernodeCount supernodes in the overlay; users are spread over them round-robin
     */
    public static DemoNetwork start(Path dir, List<String> users, boolean directSessions, Duration certLifetime,
                                    int capacity, boolean startAll, int supernodeCount) throws Exception {
        DemoNetwork n = new DemoNetwork(dir, users, directSessions, certLifetime, capacity, supernodeCount);
        if (!startAll) return n;
        try {
            for (String u : users) n.startClient(u);
        } catch (Exception e) {
            n.close();
            throw e;
        }
        return n;
    }

    public Path dir() {
        return dir;
    }

    public Path home(String user) {
        return dir.resolve(user);
    }

    public String password(String user) {
        return passwords.get(user);
    }

    public LoginServer loginServer() {
        return login;
    }

    public LoginServerData loginData() {
        return data;
    }

    public Supernode supernode() {
        return supernode;
    }

    public List<Supernode> supernodes() {
        return List.copyOf(supernodes);
    }

    public synchronized ClientDaemon client(String user) {
        return clients.get(user);
    }

    public synchronized LocalApi api(String user) {
        return apis.get(user);
    }

    /**
     * Enrols another device folder (named {@code deviceName}, e.g. "alice2") for an existing user, or a new account of
     * the given role when {@code user} has none yet (e.g. an archive node). Start it with {@link #startClient}.
     */
    public synchronized void addDevice(String deviceName, String user, Role role) throws IOException, org.parley.identity.LoginException {
        String pw = passwords.get(user);
        if (pw == null) {
            pw = "demo-" + Keys.randomToken(6);
            data.accounts().add(user, role, pw.toCharArray());
        }
        Files.createDirectories(home(deviceName));
        DeviceCredentials.initNetwork(home(deviceName), data.networkFilePath());
        DeviceCredentials.enroll(home(deviceName), user, pw, new LoginClient(data.networkFile()));
        passwords.putIfAbsent(user, pw);
        if (!deviceName.equals(user)) passwords.put(deviceName, pw);
    }

    public synchronized List<String> users() {
        return List.copyOf(passwords.keySet());
    }

    private double mediaDropPercent;

    /** Clients started from now on drop this share of their outgoing call media (a lossy-link shim for tests). */
    public synchronized void setMediaDropPercent(double p) {
        mediaDropPercent = p;
    }

    public synchronized void startClient(String user) throws IOException {
        if (clients.containsKey(user)) return;
        ClientConfig cfg = ClientConfig.defaults().withListen(new HostPort("127.0.0.1", 0)).withDirectSessions(directSessions)
                .withMediaDropPercent(mediaDropPercent);
        ClientDaemon d = ClientDaemon.start(home(user), cfg, new SimpleMeterRegistry());
        try {
            apis.put(user, LocalApi.start(d, 0, () -> stopClient(user)));
        } catch (IOException e) {
            d.close();
            throw e;
        }
        clients.put(user, d);
    }

    public synchronized void stopClient(String user) {
        LocalApi a = apis.remove(user);
        if (a != null) a.close();
        ClientDaemon d = clients.remove(user);
        if (d != null) d.close();
    }

    /** Waits until every running client is attached to the supernode. */
    public boolean awaitAttached(Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < end) {
            boolean all;
            synchronized (this) {
                all = clients.values().stream().allMatch(ClientDaemon::attached);
            }
            if (all) return true;
            Thread.sleep(20);
        }
        return false;
    }

    @Override
    public void close() {
        for (String u : List.copyOf(clients.keySet())) stopClient(u);
        for (Supernode x : supernodes) x.close();
        login.close();
        data.close();
    }

    /** Deletes a folder tree (best effort). */
    public static void deleteTree(Path p) {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            s.sorted(Comparator.reverseOrder()).forEach(x -> {
                try {
                    Files.deleteIfExists(x);
                } catch (IOException ignored) {
                    // best effort
                }
            });
        } catch (IOException ignored) {
            // best effort
        }
    }
}
