package org.parley.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.parley.app.CliTestSupport.assertOneLineError;
import static org.parley.app.CliTestSupport.run;

import ch.qos.logback.classic.Level;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.parley.app.CliTestSupport.LoginFixture;
import org.parley.app.CliTestSupport.Result;
import org.parley.identity.DeviceCredentials;
import org.parley.identity.HostPort;
import org.parley.identity.Keys;
import org.parley.identity.NetworkFile;
import org.parley.identity.Policy;
import org.parley.identity.Role;
import org.parley.login.LoginServerData;

/**
 * Wrong input and broken environments give one line on stderr starting with "parley: " that names the
 * problem, exit status 1 (2 for usage errors) and never a stack trace.
 */
@Timeout(120)
class CliBadInputTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PW = "correct horse battery";

    @TempDir Path tmp;
    private Level savedLevel;

    @BeforeAll
    static void productionLogging() {
        CliTestSupport.useProductionLogging();
    }

    @AfterAll
    static void testLogging() {
        CliTestSupport.restoreTestLogging();
    }

    @BeforeEach
    void saveLogLevel() {
        savedLevel = CliTestSupport.rootLevel();
    }

    @AfterEach
    void restoreLogLevel() {
        CliTestSupport.rootLevel(savedLevel);
    }

    /** A complete login server folder without a running server; returns its network.json. */
    private Path initNetwork(Path dir) {
        try (LoginServerData d = LoginServerData.init(dir, "t", new HostPort("127.0.0.1", 7443))) {
            return d.networkFilePath();
        }
    }

    // ------------------------------------------------------------------ network files

    @Test
    void clientInitWithMissingNetworkFile() {
        Path missing = tmp.resolve("missing.json");
        Result r = run("", "client", "--home", tmp.resolve("h").toString(), "init", "--network", missing.toString());
        assertOneLineError(r, 1, "missing.json", "does not exist");
    }

    @Test
    void clientInitWithGarbledNetworkFile() throws IOException {
        Path f = tmp.resolve("garbled.json");
        Files.writeString(f, "this is {not json at all\n\u0000\u00ff");
        Result r = run("", "client", "--home", tmp.resolve("h").toString(), "init", "--network", f.toString());
        assertOneLineError(r, 1, "garbled.json", "not valid JSON");
        assertThat(tmp.resolve("h").resolve(DeviceCredentials.NETWORK)).doesNotExist();
    }

    @Test
    void clientInitWithWrongFormatField() throws IOException {
        Path good = initNetwork(tmp.resolve("login"));
        Path f = tmp.resolve("wrong-format.json");
        Files.writeString(f, Files.readString(good).replace(NetworkFile.FORMAT, "parley-network/99"));
        Result r = run("", "client", "--home", tmp.resolve("h").toString(), "init", "--network", f.toString());
        assertOneLineError(r, 1, "wrong-format.json", "format");
        assertThat(tmp.resolve("h").resolve(DeviceCredentials.NETWORK)).doesNotExist();
    }

    // ------------------------------------------------------------------ login-server init

    @Test
    void loginServerInitTwiceRefusesToOverwrite() throws IOException {
        Path d = tmp.resolve("login");
        Result first = run("", "login-server", "init", "--data", d.toString(), "--name", "first");
        assertThat(first.code()).as("%s", first).isZero();
        String before = Files.readString(d.resolve("network.json"));
        Result r = run("", "login-server", "init", "--data", d.toString(), "--name", "second");
        assertOneLineError(r, 1, "already holds a login server", "refusing to overwrite");
        assertThat(Files.readString(d.resolve("network.json"))).isEqualTo(before);
    }

    @Test
    void loginServerInitWithInvalidNetworkName() {
        Path d = tmp.resolve("login");
        Result r = run("", "login-server", "init", "--data", d.toString(), "--name", "bad/name!");
        assertOneLineError(r, 1, "network name", "invalid");
        assertThat(d.resolve("network.json")).doesNotExist();
    }

    @Test
    void loginServerInitWithBadPublicAddress() {
        Path d = tmp.resolve("login");
        Result r = run("", "login-server", "init", "--data", d.toString(), "--name", "t", "--public-address", "nonsense");
        assertOneLineError(r, 1, "--public-address", "nonsense");
        assertThat(d.resolve("network.json")).doesNotExist();
    }

    // ------------------------------------------------------------------ accounts

    @Test
    void accountAddWithInvalidUserName() {
        Path d = tmp.resolve("login");
        initNetwork(d);
        Result r = run(PW + "\n", "account", "add", "--data", d.toString(), "--user", "Bad Name");
        assertOneLineError(r, 1, "user name", "Bad Name", "invalid");
    }

    @Test
    void accountAddWithTooShortPassword() {
        Path d = tmp.resolve("login");
        initNetwork(d);
        Result r = run("short\n", "account", "add", "--data", d.toString(), "--user", "alice");
        assertOneLineError(r, 1, "password", "too short");
        assertThat(run("", "account", "list", "--data", d.toString()).out()).doesNotContain("alice");
    }

    @Test
    void accountAddDuplicateUser() {
        Path d = tmp.resolve("login");
        initNetwork(d);
        Result first = run(PW + "\n", "account", "add", "--data", d.toString(), "--user", "alice");
        assertThat(first.code()).as("%s", first).isZero();
        Result r = run(PW + "\n", "account", "add", "--data", d.toString(), "--user", "alice");
        assertOneLineError(r, 1, "alice", "already exists");
    }

    @Test
    void accountAddWithEmptyStdin() {
        Path d = tmp.resolve("login");
        initNetwork(d);
        Result r = run("", "account", "add", "--data", d.toString(), "--user", "alice");
        assertOneLineError(r, 1, "password", "standard input");
    }

    @Test
    void accountDisableUnknownUser() {
        Path d = tmp.resolve("login");
        initNetwork(d);
        Result r = run("", "account", "disable", "--data", d.toString(), "--user", "nobody");
        assertOneLineError(r, 1, "no account", "nobody");
    }

    @Test
    void accountListOnFolderThatIsNotALoginServer() throws IOException {
        Path d = Files.createDirectories(tmp.resolve("just-a-folder"));
        Files.writeString(d.resolve("notes.txt"), "hello");
        Result r = run("", "account", "list", "--data", d.toString());
        assertOneLineError(r, 1, "not a login server folder", "login-server init");
        assertThat(d.resolve("login.db")).doesNotExist();
    }

    // ------------------------------------------------------------------ against a running login server

    @Nested
    class WithRunningLoginServer {
        LoginFixture login;

        Level serviceLevel;

        @BeforeEach
        void start() {
            // the in-process server's own log (e.g. "account alice is locked") belongs to another process in real use
            serviceLevel = CliTestSupport.level("org.parley.login.LoginService");
            CliTestSupport.level("org.parley.login.LoginService", Level.ERROR);
            login = LoginFixture.start(tmp.resolve("login"));
            login.add("alice", Role.USER, PW);
            login.add("carol", Role.USER, PW);
            login.add("sn1", Role.SUPERNODE, PW);
        }

        @AfterEach
        void stop() {
            login.close();
            CliTestSupport.level("org.parley.login.LoginService", serviceLevel);
        }

        private Path home(String name) {
            Path h = tmp.resolve(name);
            Result r = run("", "client", "--home", h.toString(), "init", "--network", login.networkFile().toString());
            assertThat(r.code()).as("%s", r).isZero();
            return h;
        }

        private Result clientLogin(Path home, String user, String password) {
            return run(password + "\n", "client", "--home", home.toString(), "login", "--user", user);
        }

        @Test
        void unknownUserAndWrongPasswordGiveTheSameLine() {
            Path h = home("h");
            String unknown = assertOneLineError(clientLogin(h, "nobody", PW), 1, "wrong user name or password");
            String wrong = assertOneLineError(clientLogin(h, "alice", "not the password"), 1, "wrong user name or password");
            assertThat(wrong).isEqualTo(unknown);
            assertThat(DeviceCredentials.enrolled(h)).isFalse();
            // and the right password still works afterwards
            Result ok = clientLogin(h, "alice", PW);
            assertThat(ok.code()).as("%s", ok).isZero();
            assertThat(ok.out()).contains("logged in as 'alice'");
        }

        @Test
        void disabledAccount() {
            Path h = home("h");
            Result off = run("", "account", "disable", "--data", login.data.dir().toString(), "--user", "carol");
            // the login server holds the database open: disable through the CLI must still work
            assertThat(off.code()).as("%s", off).isZero();
            assertOneLineError(clientLogin(h, "carol", PW), 1, "carol", "disabled");
            assertThat(DeviceCredentials.enrolled(h)).isFalse();
        }

        @Test
        void repeatedWrongPasswordsAreRateLimited() {
            Path h = home("h");
            for (int i = 1; i <= 5; i++) {
                assertOneLineError(clientLogin(h, "alice", "wrong password " + i), 1, "wrong user name or password");
            }
            // The fifth failure locks the account for 1 s, the next one for 2 s, ...: the sixth attempt
            // normally lands inside the lockout; on a very slow machine allow two more tries.
            String line = null;
            for (int i = 6; i <= 8 && line == null; i++) {
                Result r = clientLogin(h, "alice", "wrong password " + i);
                String l = assertOneLineError(r, 1);
                if (l.contains("too many failed logins")) line = l;
                else assertThat(l).contains("wrong user name or password");
            }
            assertThat(line).as("rate-limited message").isNotNull().containsIgnoringCase("try again in");
            // even the right password is refused while locked
            Result locked = clientLogin(h, "alice", PW);
            assertOneLineError(locked, 1, "too many failed logins");
        }

        @Test
        void supernodeLoginWithUserAccount() {
            Path sn = tmp.resolve("sn");
            Result r = run(PW + "\n", "supernode", "login", "--data", sn.toString(), "--network",
                    login.networkFile().toString(), "--user", "alice");
            assertOneLineError(r, 1, "alice", "role user", "not supernode");
            assertThat(DeviceCredentials.enrolled(sn)).isFalse();
            // the real supernode account works
            Result ok = run(PW + "\n", "supernode", "login", "--data", sn.toString(), "--network",
                    login.networkFile().toString(), "--user", "sn1");
            assertThat(ok.code()).as("%s", ok).isZero();
            assertThat(DeviceCredentials.enrolled(sn)).isTrue();
        }
    }

    // ------------------------------------------------------------------ login server trouble

    @Test
    void unreachableLoginServer() throws IOException {
        int closed = CliTestSupport.freeTcpPort();
        Path nf;
        try (LoginServerData d = LoginServerData.init(tmp.resolve("login"), "t", new HostPort("127.0.0.1", closed))) {
            d.accounts().add("alice", Role.USER, PW.toCharArray());
            nf = d.networkFilePath();
        }
        Path h = tmp.resolve("h");
        assertThat(run("", "client", "--home", h.toString(), "init", "--network", nf.toString()).code()).isZero();
        Result r = run(PW + "\n", "client", "--home", h.toString(), "login", "--user", "alice");
        assertOneLineError(r, 1, "cannot reach", "login server", "127.0.0.1:" + closed);
    }

    @Test
    void loginServerWithAnotherPin() throws IOException {
        try (LoginFixture a = LoginFixture.start(tmp.resolve("a"));
             LoginServerData b = LoginServerData.init(tmp.resolve("b"), "t", new HostPort("127.0.0.1", 7443))) {
            a.add("alice", Role.USER, PW);
            NetworkFile real = a.data.networkFile();
            NetworkFile forged = new NetworkFile(real.name(), real.caPublicKey(), real.loginServer(),
                    b.networkFile().loginPin(), real.seeds());
            Path f = tmp.resolve("forged.json");
            forged.write(f);
            Path h = tmp.resolve("h");
            assertThat(run("", "client", "--home", h.toString(), "init", "--network", f.toString()).code()).isZero();
            Result r = run(PW + "\n", "client", "--home", h.toString(), "login", "--user", "alice");
            assertOneLineError(r, 1, "TLS key", "pin");
            assertThat(DeviceCredentials.enrolled(h)).isFalse();
        }
    }

    // ------------------------------------------------------------------ ports in use

    @Test
    void loginServerRunOnPortInUse() throws Exception {
        Path d = tmp.resolve("login");
        initNetwork(d);
        try (ServerSocket held = new ServerSocket()) {
            held.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            Result r = runBlocking("login-server", "run", "--data", d.toString(), "--listen", "127.0.0.1:" + held.getLocalPort());
            assertOneLineError(r, 1, "address already in use", String.valueOf(held.getLocalPort()));
        }
    }

    @Test
    void supernodeRunOnUdpPortInUse() throws Exception {
        try (LoginFixture login = LoginFixture.start(tmp.resolve("login"))) {
            login.add("sn1", Role.SUPERNODE, PW);
            Path sn = tmp.resolve("sn");
            Result enrol = run(PW + "\n", "supernode", "login", "--data", sn.toString(), "--network",
                    login.networkFile().toString(), "--user", "sn1");
            assertThat(enrol.code()).as("%s", enrol).isZero();
            try (DatagramSocket held = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
                Result r = runBlocking("supernode", "run", "--data", sn.toString(), "--listen", "127.0.0.1:" + held.getLocalPort());
                assertOneLineError(r, 1, "address already in use", String.valueOf(held.getLocalPort()));
            }
        }
    }

    @Test
    void clientRunOnUdpPortInUse() throws Exception {
        Path h = tmp.resolve("h");
        try (LoginFixture login = LoginFixture.start(tmp.resolve("login"))) {
            login.add("alice", Role.USER, PW);
            assertThat(run("", "client", "--home", h.toString(), "init", "--network", login.networkFile().toString()).code()).isZero();
            assertThat(run(PW + "\n", "client", "--home", h.toString(), "login", "--user", "alice").code()).isZero();
            try (DatagramSocket held = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
                Result r = runBlocking("client", "--home", h.toString(), "run", "--listen", "127.0.0.1:" + held.getLocalPort());
                assertOneLineError(r, 1, "address already in use", String.valueOf(held.getLocalPort()));
            }
            assertThat(h.resolve("api.json")).doesNotExist();
        }
    }

    /** Open file descriptors of this JVM that point at {@code file} (Linux /proc). */
    private static long openDescriptors(Path file) throws IOException {
        Path fds = Path.of("/proc/self/fd");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(fds), "needs /proc");
        if (!Files.exists(file)) return 0; // never opened at all
        Path target = file.toRealPath();
        long n = 0;
        try (var l = Files.list(fds)) {
            for (Path fd : (Iterable<Path>) l::iterator) {
                try {
                    if (Files.readSymbolicLink(fd).equals(target)) n++;
                } catch (IOException e) {
                    // closed meanwhile
                }
            }
        }
        return n;
    }

    @Test
    void failedClientStartReleasesTheMessageStore() throws Exception {
        // ClientDaemon's constructor opens messages.db before binding the QUIC port; when the bind fails the
        // store must be closed again (a long-lived embedder such as DemoNetwork would leak it otherwise).
        Path h = tmp.resolve("h");
        try (LoginFixture login = LoginFixture.start(tmp.resolve("login"))) {
            login.add("alice", Role.USER, PW);
            assertThat(run("", "client", "--home", h.toString(), "init", "--network", login.networkFile().toString()).code()).isZero();
            assertThat(run(PW + "\n", "client", "--home", h.toString(), "login", "--user", "alice").code()).isZero();
            try (DatagramSocket held = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
                for (int i = 0; i < 3; i++) {
                    Result r = runBlocking("client", "--home", h.toString(), "run", "--listen", "127.0.0.1:" + held.getLocalPort());
                    assertThat(r.code()).isEqualTo(1);
                }
            }
            assertThat(openDescriptors(h.resolve("messages.db"))).as("open descriptors of messages.db after failed starts").isZero();
        }
    }

    /** Runs a command that blocks forever on success: it must fail within 60 s. */
    private static Result runBlocking(String... args) {
        try {
            return CliTestSupport.run(Duration.ofSeconds(60), "", args);
        } catch (TimeoutException e) {
            throw new AssertionError("expected the command to fail, but it kept running: " + e.getMessage());
        }
    }

    // ------------------------------------------------------------------ no daemon

    @Test
    void clientCommandsWithoutARunningDaemon() {
        Path h = tmp.resolve("h");
        String hs = h.toString();
        for (String[] cmd : List.of(new String[] {"send", "--to", "bob", "hello"},
                new String[] {"history", "--with", "bob"}, new String[] {"status"})) {
            String[] args = new String[cmd.length + 3];
            args[0] = "client";
            args[1] = "--home";
            args[2] = hs;
            System.arraycopy(cmd, 0, args, 3, cmd.length);
            Result r = run("", args);
            assertOneLineError(r, 1, "not running", "parley client --home " + hs + " run");
        }
    }

    @Test
    void clientCommandsWithAStaleApiFile() throws IOException {
        // a daemon that was killed leaves api.json behind, pointing at a closed port
        Path h = Files.createDirectories(tmp.resolve("h"));
        int closed = CliTestSupport.freeTcpPort();
        Files.writeString(h.resolve("api.json"), "{\"url\":\"http://127.0.0.1:" + closed + "\",\"port\":" + closed
                + ",\"token\":\"x\",\"pid\":1,\"user\":\"alice\"}", StandardCharsets.UTF_8);
        for (String[] args : List.of(new String[] {"client", "--home", h.toString(), "status"},
                new String[] {"client", "--home", h.toString(), "send", "--to", "bob", "hi"})) {
            assertOneLineError(run("", args), 1, "not running", "run");
        }
    }

    // ------------------------------------------------------------------ with a demo network

    @Nested
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class WithDemoNetwork {
        DemoNetwork net;
        Path alice;

        @BeforeAll
        void start(@TempDir Path dir) throws Exception {
            net = DemoNetwork.start(dir, List.of("alice", "bob"), true);
            alice = net.home("alice");
            assertThat(net.awaitAttached(Duration.ofSeconds(30))).as("clients attached").isTrue();
        }

        @AfterAll
        void stop() {
            if (net != null) net.close();
        }

        private Result client(String... args) {
            String[] all = new String[args.length + 3];
            all[0] = "client";
            all[1] = "--home";
            all[2] = alice.toString();
            System.arraycopy(args, 0, all, 3, args.length);
            return run("", all);
        }

        @Test
        void sendTooLong() {
            Result r = client("send", "--to", "bob", "a".repeat(16385));
            assertOneLineError(r, 1, "16385", "16384");
            assertThat(net.client("alice").history("bob", 100))
                    .noneMatch(m -> m.text().length() > 16384);
        }

        @Test
        void sendFarBeyondTheLimitStillNamesTheLimit() {
            // larger than the local API's 64 KiB request limit, e.g. a pasted file
            Result r = client("send", "--to", "bob", "c".repeat(100_000));
            assertOneLineError(r, 1, "16384");
        }

        @Test
        void sendExactlyAtTheLimitIsAccepted() {
            Result r = client("send", "--to", "bob", "b".repeat(16384));
            assertThat(r.code()).as("%s", r).isZero();
            assertThat(r.err()).isEmpty();
        }

        @Test
        void contactsUiAndWorkingOffline() throws IOException {
            assertOneLineError(client("contacts", "--add", "Bad!"), 1, "Bad!", "not a valid user name");
            assertOneLineError(client("contacts", "--remove", "Bad!"), 1, "Bad!", "not a valid user name");
            assertOneLineError(client("contacts", "--add", "alice"), 1, "yourself");
            Result added = client("contacts", "--add", "bob", "--json");
            assertThat(added.code()).as("%s", added).isZero();
            JsonNode l = JSON.readTree(added.out());
            assertThat(l.get(0).path("user").asText()).isEqualTo("bob");
            assertThat(l.get(0).path("added").asBoolean()).isTrue();
            Result ui = client("ui");
            assertThat(ui.code()).as("%s", ui).isZero();
            assertThat(ui.out().strip()).isEqualTo(net.api("alice").uiUrl());
            Result off = client("offline");
            assertThat(off.code()).as("%s", off).isZero();
            assertThat(client("status").out()).contains("working offline");
            assertThat(net.client("alice").attached()).isFalse();
            Result on = client("online");
            assertThat(on.code()).as("%s", on).isZero();
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> net.client("alice").attached());
            assertThat(client("contacts", "--remove", "bob").code()).isZero();
        }

        @Test
        void callCommandsGiveOneLineErrors() throws IOException {
            assertOneLineError(client("call", "--to", "nobody", "--duration", "1"), 1, "nobody", "no online device");
            assertOneLineError(client("call", "--to", "Bad!"), 1, "not a valid user name");
            assertOneLineError(client("call", "--to", "alice"), 1, "yourself");
            assertOneLineError(client("call", "--to", "bob", "--play", "/no/such.wav"), 1, "no WAV file");
            assertOneLineError(client("call", "--to", "bob", "--duration", "-1"), 1, "--duration");
            assertOneLineError(client("hangup"), 1, "no call to hang up");
            assertOneLineError(client("reject"), 1, "no incoming call is ringing");
            assertOneLineError(client("answer"), 1, "no incoming call is ringing");
            Result calls = client("calls", "--json");
            assertThat(calls.code()).as("%s", calls).isZero();
            JsonNode l = JSON.readTree(calls.out());
            assertThat(l.isArray()).isTrue();
            assertThat(l).anyMatch(c -> c.path("peer").asText().equals("nobody") && c.path("reason").asText().equals("offline"));
        }

        @Test
        void sendToInvalidUserName() {
            Result r = client("send", "--to", "Bad!", "x");
            assertOneLineError(r, 1, "Bad!", "not a valid user name");
        }

        @Test
        void historyJsonIsAnArray() throws IOException {
            Result sent = client("send", "--to", "bob", "hello json");
            assertThat(sent.code()).as("%s", sent).isZero();
            Result r = client("history", "--with", "bob", "--json");
            assertThat(r.code()).as("%s", r).isZero();
            assertThat(r.err()).isEmpty();
            JsonNode n = JSON.readTree(r.out());
            assertThat(n.isArray()).as("history --json output %s", r.out()).isTrue();
            assertThat(n.findValuesAsText("text")).contains("hello json");
        }

        @Test
        void statusJsonSaysAttached() throws IOException {
            Result r = client("status", "--json");
            assertThat(r.code()).as("%s", r).isZero();
            assertThat(r.err()).isEmpty();
            JsonNode n = JSON.readTree(r.out());
            assertThat(n.path("linkState").asText()).as("status --json output %s", r.out()).isEqualTo("attached");
            assertThat(n.path("user").asText()).isEqualTo("alice");
        }

        @Test
        void unknownSubcommand() {
            Result r = client("frobnicate");
            assertOneLineError(r, 2, "frobnicate");
        }

        @Test
        void missingRequiredOption() {
            Result r = client("send", "hello");
            assertOneLineError(r, 2, "--to");
        }

        @Test
        void missingHome() {
            Result r = run("", "client", "status");
            assertOneLineError(r, 2, "--home");
        }
    }

    // ------------------------------------------------------------------ expired certificate

    @Test
    void runWithExpiredCertificateAndNoLoginServer() throws Exception {
        Path h = tmp.resolve("h");
        try (LoginFixture login = LoginFixture.start(tmp.resolve("login"))) {
            login.add("alice", Role.USER, PW);
            assertThat(run("", "client", "--home", h.toString(), "init", "--network", login.networkFile().toString()).code()).isZero();
            Result in = run(PW + "\n", "client", "--home", h.toString(), "login", "--user", "alice");
            assertThat(in.code()).as("%s", in).isZero();

            X509Certificate current = Keys.readCertificate(h.resolve(DeviceCredentials.CERT));
            Instant now = Instant.now();
            X509Certificate expired = login.data.ca().issueDevice("alice", Role.USER, current.getPublicKey(),
                    Policy.DEFAULT, now.minus(Duration.ofHours(2)), now.minus(Duration.ofHours(1)));
            Keys.writeCertificate(h.resolve(DeviceCredentials.CERT), expired);
            login.stopServer();

            Result r = runBlocking("client", "--home", h.toString(), "run", "--listen", "127.0.0.1:0");
            assertOneLineError(r, 1, "expired", "log in again");
            assertThat(h.resolve("api.json")).doesNotExist();
        }
    }
}
