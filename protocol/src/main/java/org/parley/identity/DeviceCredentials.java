package org.parley.identity;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Base64;

/**
 * A device's enrolment in a folder: network.json, device.key (P-256, mode 0600), device.crt and
 * credential.json (refresh token, mode 0600). Shared by clients, supernodes and archives.
 * The certificate is renewed with the refresh token once two thirds of its lifetime have passed.
 */
public final class DeviceCredentials {
    public static final String NETWORK = "network.json";
    public static final String KEY = "device.key";
    public static final String CERT = "device.crt";
    public static final String CREDENTIAL = "credential.json";
    public static final int CLIENT_VERSION = 1;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;
    private final NetworkFile network;
    private final PrivateKey key;
    private volatile X509Certificate cert;
    private volatile String refreshToken;
    private volatile Instant issuedAt;
    private final String user;

    private DeviceCredentials(Path dir, NetworkFile network, PrivateKey key, X509Certificate cert, String refreshToken,
                              String user, Instant issuedAt) {
        this.issuedAt = issuedAt;
        this.dir = dir;
        this.network = network;
        this.key = key;
        this.cert = cert;
        this.refreshToken = refreshToken;
        this.user = user;
    }

    public static NetworkFile network(Path dir) {
        return NetworkFile.load(dir.resolve(NETWORK));
    }

    /** Copies a network file into the folder after validating it. */
    public static NetworkFile initNetwork(Path dir, Path networkFile) {
        NetworkFile nf = NetworkFile.load(networkFile);
        nf.write(dir.resolve(NETWORK));
        return nf;
    }

    public static boolean enrolled(Path dir) {
        return Files.exists(dir.resolve(CREDENTIAL)) && Files.exists(dir.resolve(CERT)) && Files.exists(dir.resolve(KEY));
    }

    /**
     * Logs in with a password: reuses the folder's device key (or makes one), obtains a certificate and a
     * refresh token, and stores them.
     */
    public static DeviceCredentials enroll(Path dir, String user, String password, LoginClient login)
            throws LoginException {
        NetworkFile nf = network(dir);
        Path keyFile = dir.resolve(KEY);
        PrivateKey priv;
        PublicKey pub;
        if (Files.exists(keyFile) && Files.exists(dir.resolve(CERT))) {
            priv = Keys.readPrivateKey(keyFile);
            pub = Keys.readCertificate(dir.resolve(CERT)).getPublicKey();
        } else {
            KeyPair kp = Keys.newDeviceKeyPair();
            priv = kp.getPrivate();
            pub = kp.getPublic();
            Keys.writePrivateKey(keyFile, priv);
        }
        LoginApi.CertificateResponse r = login.login(user, password, new KeyPair(pub, priv), CLIENT_VERSION);
        X509Certificate c = Keys.certificate(Base64.getDecoder().decode(r.certificate()));
        DeviceCredentials dc = new DeviceCredentials(dir, nf, priv, c, r.refreshToken(), r.user(), Instant.now());
        dc.save();
        return dc;
    }

    public static DeviceCredentials load(Path dir) {
        if (!enrolled(dir)) {
            throw new IllegalStateException("no device credentials in " + dir + ": log in first");
        }
        NetworkFile nf = network(dir);
        try {
            var n = JSON.readTree(Files.readString(dir.resolve(CREDENTIAL), StandardCharsets.UTF_8));
            DeviceCredentials dc = new DeviceCredentials(dir, nf, Keys.readPrivateKey(dir.resolve(KEY)),
                    Keys.readCertificate(dir.resolve(CERT)), n.path("refreshToken").asText(), n.path("user").asText(),
                    n.hasNonNull("issuedAt") ? Instant.parse(n.path("issuedAt").asText()) : null);
            dc.promoted = n.path("promoted").asBoolean(false);
            return dc;
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalStateException("device credentials in " + dir + " are unreadable: log in again");
        }
    }

    private void save() {
        Keys.writeCertificate(dir.resolve(CERT), cert);
        ObjectNode n = JSON.createObjectNode();
        n.put("user", user);
        n.put("deviceId", deviceId());
        n.put("refreshToken", refreshToken);
        if (promoted) n.put("promoted", true);
        n.put("expiresAt", cert.getNotAfter().toInstant().toString());
        if (issuedAt != null) n.put("issuedAt", issuedAt.toString());
        Keys.writeSecret(dir.resolve(CREDENTIAL), n.toString().getBytes(StandardCharsets.UTF_8));
    }

    public Path dir() {
        return dir;
    }

    public NetworkFile networkFile() {
        return network;
    }

    public PrivateKey privateKey() {
        return key;
    }

    public X509Certificate certificate() {
        return cert;
    }

    public String user() {
        return user;
    }

    public String deviceId() {
        return Keys.deviceId(cert.getPublicKey());
    }

    public Instant expiresAt() {
        return cert.getNotAfter().toInstant();
    }

    /**
     * Renewal is due after two thirds of the certificate's lifetime, counted from when this device
     * received it (the login server backdates notBefore to absorb clock skew).
     */
    public Instant renewAt() {
        Instant nb = cert.getNotBefore().toInstant();
        Instant received = issuedAt;
        if (received != null && received.isAfter(nb) && received.isBefore(cert.getNotAfter().toInstant())) nb = received;
        Instant na = cert.getNotAfter().toInstant();
        long life = na.toEpochMilli() - nb.toEpochMilli();
        return nb.plusMillis(life * 2 / 3);
    }

    /** True for the supernode credentials of a promoted client (renewed through the promotion endpoint). */
    private boolean promoted;

    /**
     * Asks the login server for a supernode certificate for this device's key and stores it, with the key and
     * the network file, in {@code supernodeDir} (promotion of this client to supernode duty).
     */
    public synchronized DeviceCredentials promote(Path supernodeDir, LoginClient login) throws LoginException {
        LoginApi.CertificateResponse r = login.promote(deviceId(), refreshToken);
        X509Certificate c = Keys.certificate(Base64.getDecoder().decode(r.certificate()));
        if (!c.getPublicKey().equals(cert.getPublicKey())) {
            throw new LoginException("server_error", "login server promoted another key");
        }
        try {
            Files.createDirectories(supernodeDir);
        } catch (IOException e) {
            throw new LoginException("io_error", "cannot create " + supernodeDir + ": " + e.getMessage());
        }
        network.write(supernodeDir.resolve(NETWORK));
        Keys.writePrivateKey(supernodeDir.resolve(KEY), key);
        DeviceCredentials dc = new DeviceCredentials(supernodeDir, network, key, c, refreshToken, user, Instant.now());
        dc.promoted = true;
        dc.save();
        return dc;
    }

    /** Obtains a fresh certificate for the same key with the refresh token; the new one is stored. */
    public synchronized X509Certificate renew(LoginClient login) throws LoginException {
        LoginApi.CertificateResponse r = promoted ? login.promote(deviceId(), refreshToken) : login.renew(deviceId(), refreshToken);
        X509Certificate c = Keys.certificate(Base64.getDecoder().decode(r.certificate()));
        if (!c.getPublicKey().equals(cert.getPublicKey())) {
            throw new LoginException("server_error", "login server renewed a certificate for another key");
        }
        this.cert = c;
        this.issuedAt = Instant.now();
        if (r.refreshToken() != null && !r.refreshToken().isBlank()) this.refreshToken = r.refreshToken();
        save();
        return c;
    }
}
