package org.parley.login;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.parley.identity.CertificateVerifier;
import org.parley.identity.DeviceCertificate;
import org.parley.identity.DeviceCredentials;
import org.parley.identity.HostPort;
import org.parley.identity.Keys;
import org.parley.identity.LoginApi;
import org.parley.identity.LoginClient;
import org.parley.identity.LoginException;
import org.parley.identity.NetworkFile;
import org.parley.identity.PinnedTrustManager;
import org.parley.identity.Policy;
import org.parley.identity.Role;

/** The real server on 127.0.0.1:0 against the real {@link LoginClient}; a fresh network per test. */
class LoginServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PASSWORD = "correct horse battery";

    /** Keys and accounts made once (Argon2 and key generation are slow); each test runs on a copy. */
    @TempDir
    static Path template;

    @TempDir
    Path tmp;

    private final MutableClock clock = new MutableClock(Instant.now());
    private LoginServerData data;
    private LoginServer server;
    private NetworkFile network;
    private LoginClient client;
    private HttpClient http;

    @BeforeAll
    static void makeTemplate() {
        try (LoginServerData d = LoginServerData.init(template.resolve("login"), "acme", HostPort.parse("127.0.0.1:0"))) {
            d.accounts().add("alice", Role.USER, PASSWORD.toCharArray());
            d.accounts().add("bob", Role.USER, PASSWORD.toCharArray());
            d.accounts().setDisabled("bob", true);
        }
    }

    @BeforeEach
    void start() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("login"));
        try (var files = Files.list(template.resolve("login"))) {
            for (Path f : files.toList()) Files.copy(f, dir.resolve(f.getFileName()), StandardCopyOption.COPY_ATTRIBUTES);
        }
        data = LoginServerData.open(dir);
        assertThat(data.accounts().find("bob").orElseThrow().disabled()).isTrue();
        LoginServerConfig cfg = LoginServerConfig.defaults(data.networkFile());
        server = LoginServer.start(data, cfg, clock);
        data.setLoginServerAddress(new HostPort("127.0.0.1", server.port()));
        network = data.networkFile();
        client = new LoginClient(network);
        SSLContext ctx = SSLContext.getInstance("TLSv1.3");
        ctx.init(null, new TrustManager[] {new PinnedTrustManager(network.loginPin())}, null);
        http = HttpClient.newBuilder().sslContext(ctx).version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterEach
    void stop() {
        if (http != null) http.close();
        if (server != null) server.close();
        if (data != null) data.close();
    }

    private LoginException loginFails(String user, String password, KeyPair key) {
        return catchThrowableOfType(LoginException.class, () -> client.login(user, password, key, 1));
    }

    private HttpResponse<String> send(String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + server.port() + path))
                .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json");
        b = body == null ? b.method(method, HttpRequest.BodyPublishers.noBody())
                : b.method(method, HttpRequest.BodyPublishers.ofString(body));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void networkFileOnDiskPointsAtTheBoundPort() {
        assertThat(server.port()).isPositive();
        assertThat(server.address()).isEqualTo(new HostPort("127.0.0.1", server.port()));
        assertThat(NetworkFile.load(data.networkFilePath()).loginServer().port()).isEqualTo(server.port());
    }

    @Test
    void loginIssuesACertificateTheVerifierAccepts() throws Exception {
        KeyPair device = Keys.newDeviceKeyPair();
        LoginApi.CertificateResponse r = client.login("alice", PASSWORD, device, 1);

        String deviceId = Keys.deviceId(device.getPublic());
        assertThat(r.user()).isEqualTo("alice");
        assertThat(r.role()).isEqualTo("user");
        assertThat(r.deviceId()).isEqualTo(deviceId);
        assertThat(r.refreshToken()).hasSizeGreaterThanOrEqualTo(43);
        DeviceCertificate c = CertificateVerifier.of(network, clock).verify(Base64.getDecoder().decode(r.certificate()));
        assertThat(c.user()).isEqualTo("alice");
        assertThat(c.role()).isEqualTo(Role.USER);
        assertThat(c.deviceId()).isEqualTo(deviceId);
        assertThat(c.network()).isEqualTo("acme");
        assertThat(c.publicKey()).isEqualTo(device.getPublic());
        assertThat(c.policy()).isEqualTo(Policy.DEFAULT);
        assertThat(c.notAfter().toEpochMilli()).isEqualTo(r.expiresAt());
        assertThat(Duration.between(clock.instant(), c.notAfter()))
                .isBetween(Duration.ofHours(24).minusSeconds(2), Duration.ofHours(24));
        assertThat(c.notBefore()).isBefore(clock.instant().minusSeconds(59));

        DeviceRow row = data.accounts().findDevice(deviceId).orElseThrow();
        assertThat(row.user()).isEqualTo("alice");
        assertThat(row.publicKey()).isEqualTo(device.getPublic().getEncoded());
        assertThat(row.refreshTokenHash()).isEqualTo(LoginService.tokenHash(r.refreshToken()))
                .isNotEqualTo(r.refreshToken()).hasSize(64);
    }

    @Test
    void supernodeAccountsGetTheirRole() throws Exception {
        data.accounts().add("sn1", Role.SUPERNODE, PASSWORD.toCharArray());
        KeyPair device = Keys.newDeviceKeyPair();
        LoginApi.CertificateResponse r = client.login("sn1", PASSWORD, device, 1);
        assertThat(r.role()).isEqualTo("supernode");
        DeviceCertificate c = CertificateVerifier.of(network, clock).verify(Base64.getDecoder().decode(r.certificate()));
        assertThat(c.role()).isEqualTo(Role.SUPERNODE);
    }

    @Test
    void wrongPasswordAndUnknownUserAreIndistinguishable() {
        KeyPair device = Keys.newDeviceKeyPair();
        LoginException wrong = loginFails("alice", "not the password", device);
        LoginException unknown = loginFails("mallory", PASSWORD, device);
        assertThat(wrong.code()).isEqualTo("invalid_credentials");
        assertThat(unknown.code()).isEqualTo("invalid_credentials");
        assertThat(wrong.getMessage()).isEqualTo("wrong user name or password").isEqualTo(unknown.getMessage());
        assertThat(wrong.transientFailure()).isFalse();
        assertThat(data.accounts().findDevice(Keys.deviceId(device.getPublic()))).isEmpty();
    }

    @Test
    void disabledAccountIsRefusedOnlyWithTheRightPassword() {
        KeyPair device = Keys.newDeviceKeyPair();
        LoginException e = loginFails("bob", PASSWORD, device);
        assertThat(e.code()).isEqualTo("account_disabled");
        assertThat(e.getMessage()).isEqualTo("account 'bob' is disabled");
        assertThat(loginFails("bob", "not the password", device).code()).isEqualTo("invalid_credentials");
    }

    @Test
    void tooOldClientIsRefused() {
        data.accounts().setPolicy("alice", new Policy("free", 3, "00-24", "normal"));
        LoginException e = catchThrowableOfType(LoginException.class,
                () -> client.login("alice", PASSWORD, Keys.newDeviceKeyPair(), 2));
        assertThat(e.code()).isEqualTo("client_too_old");
        assertThat(e.getMessage()).contains("version 3");
    }

    @Test
    void repeatedWrongPasswordsAreRateLimited() throws Exception {
        KeyPair device = Keys.newDeviceKeyPair();
        for (int i = 1; i <= 5; i++) {
            assertThat(loginFails("alice", "wrong password " + i, device).code()).as("attempt %d", i)
                    .isEqualTo("invalid_credentials");
        }
        LoginException sixth = loginFails("alice", "wrong password 6", device);
        assertThat(sixth.code()).isEqualTo("rate_limited");
        assertThat(sixth.retryAfterSeconds()).isEqualTo(1);
        assertThat(sixth.transientFailure()).isTrue();
        // even the right password waits out the lockout ...
        assertThat(loginFails("alice", PASSWORD, device).code()).isEqualTo("rate_limited");
        // ... and the raw answer carries the Retry-After header
        HttpResponse<String> raw = send("POST", LoginApi.LOGIN, JSON.writeValueAsString(new LoginApi.LoginRequest(
                "alice", PASSWORD, Base64.getEncoder().encodeToString(device.getPublic().getEncoded()), 1,
                LoginApi.proof(device.getPrivate(), data.networkFile().name(), "alice",
                        Base64.getEncoder().encodeToString(device.getPublic().getEncoded())))));
        assertThat(raw.statusCode()).isEqualTo(429);
        assertThat(raw.headers().firstValue("Retry-After")).contains("1");
        assertThat(JSON.readTree(raw.body()).path("retryAfterSeconds").asLong()).isEqualTo(1);

        clock.advance(Duration.ofMillis(1001));
        assertThat(client.login("alice", PASSWORD, device, 1).user()).isEqualTo("alice");
    }

    @Test
    void theSourceAddressIsLimitedAcrossAccounts() {
        KeyPair device = Keys.newDeviceKeyPair();
        for (String u : List.of("u1", "u2", "u3", "u4", "u5")) {
            assertThat(loginFails(u, "whatever123", device).code()).isEqualTo("invalid_credentials");
        }
        // alice never failed, but 127.0.0.1 did
        assertThat(loginFails("alice", PASSWORD, device).code()).isEqualTo("rate_limited");
    }

    @Test
    void renewIssuesALaterCertificateForTheSameKey() throws Exception {
        KeyPair device = Keys.newDeviceKeyPair();
        LoginApi.CertificateResponse first = client.login("alice", PASSWORD, device, 1);
        clock.advance(Duration.ofHours(16));
        LoginApi.CertificateResponse renewed = client.renew(first.deviceId(), first.refreshToken());

        assertThat(renewed.expiresAt()).isGreaterThanOrEqualTo(first.expiresAt() + Duration.ofHours(16).toMillis() - 1000);
        assertThat(renewed.refreshToken()).isEqualTo(first.refreshToken());
        assertThat(renewed.deviceId()).isEqualTo(first.deviceId());
        DeviceCertificate c = CertificateVerifier.of(network, clock).verify(Base64.getDecoder().decode(renewed.certificate()));
        assertThat(c.publicKey()).isEqualTo(device.getPublic());
        assertThat(c.user()).isEqualTo("alice");
        assertThat(data.accounts().findDevice(first.deviceId()).orElseThrow().lastIssued())
                .isEqualTo(Instant.ofEpochMilli(clock.millis()));
    }

    @Test
    void renewRefusesWrongTokensUnknownDevicesDisabledAccountsAndRevokedDevices() throws Exception {
        KeyPair device = Keys.newDeviceKeyPair();
        LoginApi.CertificateResponse r = client.login("alice", PASSWORD, device, 1);

        LoginException wrong = catchThrowableOfType(LoginException.class,
                () -> client.renew(r.deviceId(), Keys.randomToken(32)));
        assertThat(wrong.code()).isEqualTo("invalid_credentials");
        LoginException unknown = catchThrowableOfType(LoginException.class,
                () -> client.renew(Keys.deviceId(Keys.newDeviceKeyPair().getPublic()), r.refreshToken()));
        assertThat(unknown.code()).isEqualTo("invalid_credentials");
        assertThat(unknown.getMessage()).isEqualTo(wrong.getMessage());

        data.accounts().setDisabled("alice", true);
        LoginException disabled = catchThrowableOfType(LoginException.class,
                () -> client.renew(r.deviceId(), r.refreshToken()));
        assertThat(disabled.code()).isEqualTo("account_disabled");
        data.accounts().setDisabled("alice", false);

        data.accounts().revokeDevice(r.deviceId());
        LoginException revoked = catchThrowableOfType(LoginException.class,
                () -> client.renew(r.deviceId(), r.refreshToken()));
        assertThat(revoked.code()).isEqualTo("invalid_credentials");
        assertThat(revoked.getMessage()).contains("revoked");

        // a password login re-enrols the device with a new token; the old token is dead
        LoginApi.CertificateResponse again = client.login("alice", PASSWORD, device, 1);
        assertThat(again.refreshToken()).isNotEqualTo(r.refreshToken());
        assertThat(client.renew(again.deviceId(), again.refreshToken()).user()).isEqualTo("alice");
        assertThat(catchThrowableOfType(LoginException.class, () -> client.renew(r.deviceId(), r.refreshToken())).code())
                .isEqualTo("invalid_credentials");
    }

    @Test
    void deviceCredentialsEnrolAndRenewAgainstTheServer() throws Exception {
        Path device = tmp.resolve("device");
        DeviceCredentials.initNetwork(device, data.networkFilePath());
        DeviceCredentials dc = DeviceCredentials.enroll(device, "alice", PASSWORD, client);
        assertThat(dc.user()).isEqualTo("alice");
        Instant before = dc.expiresAt();
        clock.advance(Duration.ofHours(1));
        dc.renew(client);
        assertThat(dc.expiresAt()).isAfter(before);
        assertThat(DeviceCredentials.load(device).expiresAt()).isEqualTo(dc.expiresAt());
    }

    @Test
    void aClientPinningAnotherKeyRefusesTheServer() {
        NetworkFile forged = new NetworkFile(network.name(), network.caPublicKey(), network.loginServer(),
                Keys.pin(Keys.newDeviceKeyPair().getPublic()), List.of());
        LoginException e = catchThrowableOfType(LoginException.class,
                () -> new LoginClient(forged).login("alice", PASSWORD, Keys.newDeviceKeyPair(), 1));
        assertThat(e.code()).isEqualTo("untrusted_server");
    }

    @Test
    void aHostNameInTheNetworkFileWorksToo() throws Exception {
        NetworkFile byName = network.withLoginServer(new HostPort("localhost", server.port()));
        assertThat(new LoginClient(byName).login("alice", PASSWORD, Keys.newDeviceKeyPair(), 1).user())
                .isEqualTo("alice");
    }

    @Test
    void onlyTls13IsOffered() throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLSv1.2");
        ctx.init(null, new TrustManager[] {new PinnedTrustManager(network.loginPin())}, null);
        try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", server.port())) {
            SSLParameters p = s.getSSLParameters();
            p.setProtocols(new String[] {"TLSv1.2"});
            s.setSSLParameters(p);
            s.setSoTimeout(5000);
            assertThatThrownBy(s::startHandshake).isInstanceOf(SSLHandshakeException.class);
        }
    }

    @Test
    void garbageOnThePortDoesNotStopTheServer() throws Exception {
        Random rnd = new Random(42);
        for (int i = 0; i < 5; i++) {
            try (Socket s = new Socket("127.0.0.1", server.port())) {
                s.setSoTimeout(3000);
                byte[] junk = new byte[1 + rnd.nextInt(4096)];
                rnd.nextBytes(junk);
                if (i == 0) junk = "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
                if (i == 1) junk[0] = 0x16; // looks like a TLS handshake record, then nonsense
                OutputStream out = s.getOutputStream();
                out.write(junk);
                out.flush();
                s.shutdownOutput(); // end of garbage: the server must give up on this connection
                InputStream in = s.getInputStream();
                try {
                    in.readAllBytes(); // the server answers with an alert or closes
                } catch (java.io.IOException expected) {
                    // reset by the server is fine too
                }
            }
        }
        // half-open connection that never speaks, left open while we log in
        try (Socket idle = new Socket("127.0.0.1", server.port())) {
            assertThat(client.login("alice", PASSWORD, Keys.newDeviceKeyPair(), 1).user()).isEqualTo("alice");
            assertThat(idle.isConnected()).isTrue();
        }
        HttpResponse<String> health = send("GET", LoginApi.HEALTH, null);
        assertThat(health.statusCode()).isEqualTo(200);
    }

    @Test
    void healthAndMetrics() throws Exception {
        HttpResponse<String> health = send("GET", LoginApi.HEALTH, null);
        assertThat(health.statusCode()).isEqualTo(200);
        JsonNode h = JSON.readTree(health.body());
        assertThat(h.path("status").asText()).isEqualTo("ok");
        assertThat(h.path("network").asText()).isEqualTo("acme");

        client.login("alice", PASSWORD, Keys.newDeviceKeyPair(), 1);
        loginFails("alice", "wrong password", Keys.newDeviceKeyPair());
        send("POST", LoginApi.LOGIN, "{nope");

        HttpResponse<String> m = send("GET", LoginApi.METRICS, null);
        assertThat(m.statusCode()).isEqualTo(200);
        assertThat(m.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
        assertThat(m.body())
                .contains("parley_login_attempts_total{result=\"success\"} 1.0")
                .contains("parley_login_attempts_total{result=\"invalid_credentials\"} 1.0")
                .contains("parley_login_attempts_total{result=\"bad_request\"} 1.0")
                .contains("parley_login_attempts_total{result=\"rate_limited\"} 0.0")
                .contains("parley_login_renewals_total{result=\"success\"} 0.0")
                .contains("parley_login_argon2_seconds_count 2");
    }

    @Test
    void badRequestsGetOneLineAnswers() throws Exception {
        KeyPairGenerator p384 = KeyPairGenerator.getInstance("EC");
        p384.initialize(new ECGenParameterSpec("secp384r1"));
        String ed = Base64.getEncoder().encodeToString(Keys.newCaKeyPair().getPublic().getEncoded());
        String p384Key = Base64.getEncoder().encodeToString(p384.generateKeyPair().getPublic().getEncoded());
        String good = Base64.getEncoder().encodeToString(Keys.newDeviceKeyPair().getPublic().getEncoded());
        List<String> bodies = List.of(
                "",
                "{nope",
                "[1,2,3]",
                "{\"user\":\"alice\",\"password\":\"" + PASSWORD + "\",\"clientVersion\":1}",
                "{\"user\":\"alice\",\"password\":\"" + PASSWORD + "\",\"publicKey\":\"%%%\",\"clientVersion\":1}",
                "{\"user\":\"alice\",\"password\":\"" + PASSWORD + "\",\"publicKey\":\"" + ed + "\",\"clientVersion\":1}",
                "{\"user\":\"alice\",\"password\":\"" + PASSWORD + "\",\"publicKey\":\"" + p384Key + "\",\"clientVersion\":1}",
                "{\"user\":\"alice\",\"password\":\"" + PASSWORD + "\",\"publicKey\":\"" + good + "\",\"clientVersion\":\"1\"}",
                "{\"user\":\"Alice!\",\"password\":\"" + PASSWORD + "\",\"publicKey\":\"" + good + "\",\"clientVersion\":1}",
                "{\"user\":\"alice\",\"password\":\"" + "x".repeat(2000) + "\",\"publicKey\":\"" + good + "\",\"clientVersion\":1}",
                "{\"user\":\"alice\",\"pad\":\"" + "x".repeat(LoginApi.MAX_BODY_BYTES) + "\"}");
        for (String body : bodies) {
            HttpResponse<String> r = send("POST", LoginApi.LOGIN, body);
            assertThat(r.statusCode()).as(abbreviate(body)).isEqualTo(400);
            JsonNode n = JSON.readTree(r.body());
            assertThat(n.path("error").asText()).isEqualTo("bad_request");
            assertThat(n.path("message").asText()).isNotBlank().doesNotContain("\n").doesNotContain("Exception");
        }
        for (String body : List.of("{}", "{\"deviceId\":\"xyz\",\"refreshToken\":\"t\"}", "{\"deviceId\":1}")) {
            HttpResponse<String> r = send("POST", LoginApi.RENEW, body);
            assertThat(r.statusCode()).as(body).isEqualTo(400);
            assertThat(JSON.readTree(r.body()).path("error").asText()).isEqualTo("bad_request");
        }
        HttpResponse<String> notFound = send("GET", "/nothing/here", null);
        assertThat(notFound.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(notFound.body()).path("error").asText()).isEqualTo("not_found");
        // bad requests are not failed logins: alice is not locked out
        assertThat(client.login("alice", PASSWORD, Keys.newDeviceKeyPair(), 1).user()).isEqualTo("alice");
    }

    @Test
    void anInternalFailureIsA500WithoutDetailsAndTheServerKeepsServing() throws Exception {
        data.accounts().close(); // every database call now fails
        LoginException e = catchThrowableOfType(LoginException.class,
                () -> client.login("alice", PASSWORD, Keys.newDeviceKeyPair(), 1));
        assertThat(e.code()).isEqualTo("server_error");
        assertThat(e.getMessage()).isEqualTo("the login server failed: see its log");
        HttpResponse<String> raw = send("POST", LoginApi.RENEW,
                "{\"deviceId\":\"" + "0".repeat(32) + "\",\"refreshToken\":\"t\"}");
        assertThat(raw.statusCode()).isEqualTo(500);
        assertThat(raw.body()).doesNotContain("Exception").doesNotContain("at org.");
        assertThat(send("GET", LoginApi.HEALTH, null).statusCode()).isEqualTo(200);
    }

    @Test
    void aTakenPortGivesAOneLineStartupError() {
        LoginServerConfig cfg = LoginServerConfig.defaults(network);
        assertThatThrownBy(() -> LoginServer.start(data, cfg, Clock.systemUTC()))
                .isInstanceOf(StartupException.class)
                .hasMessage("cannot listen on 127.0.0.1:" + server.port() + ": address already in use");
        // the running server is unaffected
        assertThat(catchThrowableOfType(LoginException.class, () -> client.renew("0".repeat(32), "x")).code())
                .isEqualTo("invalid_credentials");
    }

    @Test
    void closeIsIdempotentAndFreesThePort() throws Exception {
        int port = server.port();
        server.close();
        server.close();
        assertThat(catchThrowableOfType(LoginException.class,
                () -> client.login("alice", PASSWORD, Keys.newDeviceKeyPair(), 1)).code())
                .isEqualTo("unreachable");
        server = LoginServer.start(data, LoginServerConfig.defaults(network), clock);
        assertThat(server.port()).isEqualTo(port);
        assertThat(client.login("alice", PASSWORD, Keys.newDeviceKeyPair(), 1).user()).isEqualTo("alice");
    }

    private static String abbreviate(String s) {
        return s.length() > 80 ? s.substring(0, 80) + "..." : s;
    }

    @Test
    void loginWithAProofFromAnotherKeyIsRefused() throws Exception {
        KeyPair victim = Keys.newDeviceKeyPair();
        KeyPair attacker = Keys.newDeviceKeyPair();
        String victimKey = Base64.getEncoder().encodeToString(victim.getPublic().getEncoded());
        HttpResponse<String> raw = send("POST", LoginApi.LOGIN, JSON.writeValueAsString(new LoginApi.LoginRequest(
                "alice", PASSWORD, victimKey, 1, LoginApi.proof(attacker.getPrivate(), data.networkFile().name(), "alice", victimKey))));
        assertThat(raw.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(raw.body()).path("message").asText()).contains("proof");
        // a proof for another user name does not transfer either
        HttpResponse<String> other = send("POST", LoginApi.LOGIN, JSON.writeValueAsString(new LoginApi.LoginRequest(
                "alice", PASSWORD, victimKey, 1, LoginApi.proof(victim.getPrivate(), data.networkFile().name(), "bob", victimKey))));
        assertThat(other.statusCode()).isEqualTo(400);
        assertThat(client.login("alice", PASSWORD, victim, 1).user()).isEqualTo("alice");
    }
}
