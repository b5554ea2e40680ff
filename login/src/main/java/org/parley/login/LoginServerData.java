package org.parley.login;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.parley.identity.CertificateAuthority;
import org.parley.identity.HostPort;
import org.parley.identity.Keys;
import org.parley.identity.NetworkFile;
import org.parley.identity.NetworkFileException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The login server's data folder:
 * <ul>
 *   <li>{@value #CA_KEY}: the network CA's Ed25519 private key (mode 0600) — the network's crown jewel;</li>
 *   <li>{@value #TLS_KEY} (0600) and {@value #TLS_CERT}: the P-256 HTTPS identity, pinned by clients;</li>
 *   <li>{@value #DATABASE}: accounts and enrolled devices (SQLite);</li>
 *   <li>{@value #NETWORK}: the network file to hand out to clients, supernodes and archives.</li>
 * </ul>
 * The account store stays open until {@link #close()}.
 */
public final class LoginServerData implements AutoCloseable {
    public static final String NETWORK = "network.json";
    public static final String CA_KEY = "ca.key";
    public static final String TLS_KEY = "tls.key";
    public static final String TLS_CERT = "tls.crt";
    public static final String DATABASE = "login.db";
    /** Network names: 1-64 of letters, digits, space, dot, underscore and dash. */
    public static final Pattern NETWORK_NAME = Pattern.compile("[A-Za-z0-9 ._-]{1,64}");
    static final Duration TLS_CERT_LIFETIME = Duration.ofDays(3653);
    private static final Logger LOG = LoggerFactory.getLogger(LoginServerData.class);

    private final Path dir;
    private final CertificateAuthority ca;
    private final PrivateKey tlsKey;
    private final X509Certificate tlsCertificate;
    private final AccountStore accounts;
    private volatile NetworkFile network;

    private LoginServerData(Path dir, NetworkFile network, CertificateAuthority ca, PrivateKey tlsKey,
                            X509Certificate tlsCertificate, AccountStore accounts) {
        this.dir = dir;
        this.network = network;
        this.ca = ca;
        this.tlsKey = tlsKey;
        this.tlsCertificate = tlsCertificate;
        this.accounts = accounts;
    }

    /** Throws IllegalArgumentException with a one-line reason unless the name is a valid network name. */
    public static String checkNetworkName(String name) {
        if (name == null || name.isBlank() || !NETWORK_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("network name '" + name
                    + "' is invalid: use 1-64 of A-Z a-z 0-9 space . _ - and not only spaces");
        }
        return name;
    }

    /**
     * Creates a new network in {@code dir}: CA key, TLS identity (valid 10 years, for the public host,
     * 127.0.0.1 and localhost), empty account database and network.json. Returns the opened folder.
     *
     * @throws IllegalArgumentException if the name is invalid
     * @throws IllegalStateException    (one line) if the folder already holds a network or cannot be written
     */
    public static LoginServerData init(Path dir, String networkName, HostPort publicAddress) {
        checkNetworkName(networkName);
        if (publicAddress == null) throw new IllegalArgumentException("public address is missing");
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new IllegalStateException("cannot create folder " + dir + ": " + SqliteAccountStore.oneLine(e));
        }
        for (String f : List.of(NETWORK, CA_KEY, TLS_KEY, TLS_CERT, DATABASE)) {
            if (Files.exists(dir.resolve(f))) {
                throw new IllegalStateException(dir + " already holds a login server" + existingName(dir)
                        + " (found " + f + "): refusing to overwrite it");
            }
        }
        try {
            KeyPair caPair = Keys.newCaKeyPair();
            CertificateAuthority ca = new CertificateAuthority(networkName, caPair);
            Keys.writePrivateKey(dir.resolve(CA_KEY), caPair.getPrivate());

            KeyPair tls = Keys.newDeviceKeyPair();
            Instant now = Instant.now();
            Set<String> names = new LinkedHashSet<>(List.of(publicAddress.host(), "127.0.0.1", "localhost"));
            X509Certificate cert = ca.issueServer("parley-login", tls.getPublic(), List.copyOf(names),
                    now.minus(Duration.ofMinutes(5)), now.plus(TLS_CERT_LIFETIME));
            Keys.writePrivateKey(dir.resolve(TLS_KEY), tls.getPrivate());
            Keys.writeCertificate(dir.resolve(TLS_CERT), cert);

            SqliteAccountStore.open(dir.resolve(DATABASE)).close();

            // network.json last: its presence marks a complete folder
            new NetworkFile(networkName, caPair.getPublic(), publicAddress, Keys.pin(tls.getPublic()), List.of())
                    .write(dir.resolve(NETWORK));
        } catch (UncheckedIOException e) {
            throw new IllegalStateException(SqliteAccountStore.oneLine(e));
        }
        LOG.info("created network '{}' in {} (login server {})", networkName, dir, publicAddress);
        return open(dir);
    }

    /**
     * Opens an initialised folder, checking that its keys belong together.
     *
     * @throws IllegalStateException (one line) if the folder is not initialised or its files are damaged
     */
    public static LoginServerData open(Path dir) {
        if (!Files.isDirectory(dir) || !Files.isRegularFile(dir.resolve(NETWORK))) {
            throw new IllegalStateException(dir + " is not a login server folder: run 'parley login-server init --data "
                    + dir + " --name NETWORK' first");
        }
        for (String f : List.of(CA_KEY, TLS_KEY, TLS_CERT, DATABASE)) {
            if (!Files.isRegularFile(dir.resolve(f))) {
                throw new IllegalStateException(dir + " is not a complete login server folder: " + f + " is missing");
            }
        }
        NetworkFile nf;
        try {
            nf = NetworkFile.load(dir.resolve(NETWORK));
        } catch (NetworkFileException e) {
            throw new IllegalStateException(e.getMessage());
        }
        PrivateKey caKey = readKey(dir.resolve(CA_KEY));
        if (!matches(caKey, nf.caPublicKey(), "Ed25519")) {
            throw new IllegalStateException(dir.resolve(CA_KEY) + " does not match the caPublicKey in "
                    + dir.resolve(NETWORK));
        }
        PrivateKey tlsKey = readKey(dir.resolve(TLS_KEY));
        X509Certificate tlsCert;
        try {
            tlsCert = Keys.readCertificate(dir.resolve(TLS_CERT));
        } catch (IllegalArgumentException | UncheckedIOException e) {
            throw new IllegalStateException(dir.resolve(TLS_CERT) + " is unreadable: " + SqliteAccountStore.oneLine(e));
        }
        if (!matches(tlsKey, tlsCert.getPublicKey(), "SHA256withECDSA")) {
            throw new IllegalStateException(dir.resolve(TLS_KEY) + " does not match " + dir.resolve(TLS_CERT));
        }
        if (!Keys.pin(tlsCert.getPublicKey()).equals(nf.loginPin())) {
            throw new IllegalStateException(dir.resolve(TLS_CERT) + " does not match the loginPin in "
                    + dir.resolve(NETWORK));
        }
        warnIfExposed(dir.resolve(CA_KEY));
        warnIfExposed(dir.resolve(TLS_KEY));
        CertificateAuthority ca = new CertificateAuthority(nf.name(), new KeyPair(nf.caPublicKey(), caKey));
        AccountStore store = SqliteAccountStore.open(dir.resolve(DATABASE));
        return new LoginServerData(dir, nf, ca, tlsKey, tlsCert, store);
    }

    public Path dir() {
        return dir;
    }

    /** The current network file (reflects {@link #addSeed} and {@link #setLoginServerAddress}). */
    public NetworkFile networkFile() {
        return network;
    }

    public Path networkFilePath() {
        return dir.resolve(NETWORK);
    }

    /** Appends a seed supernode to network.json unless it is already listed; the file is replaced atomically. */
    public synchronized void addSeed(HostPort seed) {
        if (seed == null) throw new IllegalArgumentException("seed address is missing");
        if (network.seeds().contains(seed)) return;
        List<HostPort> seeds = new ArrayList<>(network.seeds());
        seeds.add(seed);
        rewrite(network.withSeeds(seeds));
    }

    /** Replaces the login server address in network.json (e.g. after binding port 0); atomic. */
    public synchronized void setLoginServerAddress(HostPort address) {
        if (address == null) throw new IllegalArgumentException("login server address is missing");
        rewrite(network.withLoginServer(address));
    }

    private void rewrite(NetworkFile nf) {
        try {
            nf.write(networkFilePath());
        } catch (UncheckedIOException e) {
            throw new IllegalStateException(SqliteAccountStore.oneLine(e));
        }
        network = nf;
    }

    public CertificateAuthority ca() {
        return ca;
    }

    public AccountStore accounts() {
        return accounts;
    }

    PrivateKey tlsKey() {
        return tlsKey;
    }

    X509Certificate tlsCertificate() {
        return tlsCertificate;
    }

    @Override
    public void close() {
        accounts.close();
    }

    private static String existingName(Path dir) {
        try {
            return " for network '" + NetworkFile.load(dir.resolve(NETWORK)).name() + "'";
        } catch (RuntimeException e) {
            return "";
        }
    }

    private static PrivateKey readKey(Path file) {
        try {
            return Keys.readPrivateKey(file);
        } catch (IllegalArgumentException | UncheckedIOException e) {
            throw new IllegalStateException(file + " is not a readable private key: " + SqliteAccountStore.oneLine(e));
        }
    }

    /** True if the private key signs what the public key verifies. */
    private static boolean matches(PrivateKey priv, PublicKey pub, String algorithm) {
        try {
            byte[] probe = "parley key check".getBytes(StandardCharsets.US_ASCII);
            Signature s = Signature.getInstance(algorithm);
            s.initSign(priv);
            s.update(probe);
            byte[] sig = s.sign();
            Signature v = Signature.getInstance(algorithm);
            v.initVerify(pub);
            v.update(probe);
            return v.verify(sig);
        } catch (GeneralSecurityException | RuntimeException e) {
            return false;
        }
    }

    private static void warnIfExposed(Path key) {
        try {
            Set<PosixFilePermission> p = new java.util.HashSet<>(Files.getPosixFilePermissions(key));
            p.remove(PosixFilePermission.OWNER_READ);
            p.remove(PosixFilePermission.OWNER_WRITE);
            if (!p.isEmpty()) LOG.warn("{} is readable by others: run 'chmod 600 {}'", key, key);
        } catch (IOException | UnsupportedOperationException e) {
            // not a POSIX file system: nothing to check
        }
    }
}
