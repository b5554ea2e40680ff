package org.parley.identity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Base64;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.TrustManager;

/** HTTPS/JSON client of the login server, trusting only the TLS key pinned in the network file. */
public final class LoginClient {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final NetworkFile network;
    private final HttpClient http;

    public LoginClient(NetworkFile network) {
        this.network = network;
        try {
            SSLContext ctx = SSLContext.getInstance("TLSv1.3");
            ctx.init(null, new TrustManager[] {new PinnedTrustManager(network.loginPin())}, Keys.RANDOM);
            this.http = HttpClient.newBuilder().sslContext(ctx).connectTimeout(Duration.ofSeconds(5))
                    .version(HttpClient.Version.HTTP_1_1).build();
        } catch (Exception e) {
            throw new IllegalStateException("TLS 1.3 is not available", e);
        }
    }

    /** Logs in with a password for the device key pair (the private key signs the proof of possession). */
    public LoginApi.CertificateResponse login(String user, String password, java.security.KeyPair device,
                                              int clientVersion) throws LoginException {
        String pk = Base64.getEncoder().encodeToString(device.getPublic().getEncoded());
        return post(LoginApi.LOGIN, new LoginApi.LoginRequest(user, password, pk, clientVersion,
                LoginApi.proof(device.getPrivate(), network.name(), user, pk)));
    }

    public LoginApi.CertificateResponse renew(String deviceId, String refreshToken) throws LoginException {
        return post(LoginApi.RENEW, new LoginApi.RenewRequest(deviceId, refreshToken));
    }

    /** A supernode certificate for this device's key (promotion), authenticated like a renewal. */
    public LoginApi.CertificateResponse promote(String deviceId, String refreshToken) throws LoginException {
        return post(LoginApi.PROMOTE, new LoginApi.RenewRequest(deviceId, refreshToken));
    }

    private LoginApi.CertificateResponse post(String path, Object body) throws LoginException {
        HostPort hp = network.loginServer();
        String where = "login server " + hp;
        HttpResponse<String> r;
        try {
            HttpRequest req = HttpRequest.newBuilder(URI.create("https://" + hp + path))
                    .timeout(Duration.ofSeconds(20)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build();
            r = http.send(req, HttpResponse.BodyHandlers.ofString());
        } catch (SSLHandshakeException e) {
            throw new LoginException("untrusted_server", where + " presented a TLS key that does not match the network file's pin");
        } catch (HttpConnectTimeoutException | ConnectException e) {
            throw new LoginException("unreachable", "cannot reach " + where + " (connection refused or timed out)");
        } catch (HttpTimeoutException e) {
            throw new LoginException("unreachable", where + " did not answer in time");
        } catch (IOException e) {
            String m = String.valueOf(e.getMessage());
            if (m.contains("pin") || e.getCause() instanceof SSLHandshakeException) {
                throw new LoginException("untrusted_server", where + " presented a TLS key that does not match the network file's pin");
            }
            throw new LoginException("unreachable", "cannot reach " + where + ": " + e.getClass().getSimpleName());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LoginException("unreachable", "interrupted while contacting " + where);
        }
        JsonNode n;
        try {
            n = JSON.readTree(r.body());
        } catch (IOException e) {
            throw new LoginException("server_error", where + " sent a malformed answer (HTTP " + r.statusCode() + ")");
        }
        if (r.statusCode() != 200) {
            String code = n.path("error").asText("server_error");
            String msg = n.path("message").asText("HTTP " + r.statusCode());
            throw new LoginException(code, msg, n.path("retryAfterSeconds").asLong(0));
        }
        try {
            return JSON.treeToValue(n, LoginApi.CertificateResponse.class);
        } catch (IOException e) {
            throw new LoginException("server_error", where + " sent a malformed certificate response");
        }
    }
}
