package org.parley.login;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.parley.identity.HostPort;
import org.parley.identity.Keys;
import org.parley.identity.NetworkFile;
import org.parley.identity.Role;

class LoginServerDataTest {
    @TempDir
    Path tmp;

    @Test
    void initCreatesAConsistentFolder() throws Exception {
        Path dir = tmp.resolve("login");
        HostPort pub = HostPort.parse("login.example.org:7443");
        try (LoginServerData d = LoginServerData.init(dir, "Acme Net", pub)) {
            for (String f : List.of("ca.key", "tls.key", "tls.crt", "login.db", "network.json")) {
                assertThat(dir.resolve(f)).isRegularFile();
            }
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("ca.key")))).isEqualTo("rw-------");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("tls.key")))).isEqualTo("rw-------");

            NetworkFile nf = NetworkFile.load(dir.resolve("network.json"));
            assertThat(nf).isEqualTo(d.networkFile());
            assertThat(d.networkFilePath()).isEqualTo(dir.resolve("network.json"));
            assertThat(nf.name()).isEqualTo("Acme Net");
            assertThat(nf.loginServer()).isEqualTo(pub);
            assertThat(nf.seeds()).isEmpty();
            assertThat(nf.caPublicKey()).isEqualTo(d.ca().publicKey());

            X509Certificate tls = Keys.readCertificate(dir.resolve("tls.crt"));
            assertThat(Keys.pin(tls.getPublicKey())).isEqualTo(nf.loginPin());
            tls.verify(nf.caPublicKey());
            assertThat(tls.getSubjectAlternativeNames().stream().map(l -> String.valueOf(l.get(1))).toList())
                    .containsExactlyInAnyOrder("login.example.org", "127.0.0.1", "localhost");
            assertThat(tls.getNotAfter().toInstant()).isAfter(java.time.Instant.now().plus(java.time.Duration.ofDays(3600)));
            assertThat(d.accounts().list()).isEmpty();
        }
    }

    @Test
    void initRefusesAnExistingNetwork() {
        Path dir = tmp.resolve("login");
        LoginServerData.init(dir, "acme", HostPort.parse("127.0.0.1:7443")).close();
        assertThatThrownBy(() -> LoginServerData.init(dir, "other", HostPort.parse("127.0.0.1:7443")))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage(dir + " already holds a login server for network 'acme' (found network.json): refusing to overwrite it");
        try (LoginServerData d = LoginServerData.open(dir)) {
            assertThat(d.networkFile().name()).isEqualTo("acme");
        }
    }

    @Test
    void initValidatesTheNetworkName() {
        for (String bad : new String[] {"", "   ", "a/b", "x".repeat(65), "ü", null}) {
            assertThatThrownBy(() -> LoginServerData.init(tmp.resolve("n"), bad, HostPort.parse("127.0.0.1:1")))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("network name");
        }
        assertThat(tmp.resolve("n")).doesNotExist();
        assertThat(LoginServerData.checkNetworkName("My net_1.0-beta")).isEqualTo("My net_1.0-beta");
        assertThat(LoginServerData.checkNetworkName("x".repeat(64))).hasSize(64);
    }

    @Test
    void openExplainsAnUninitialisedFolder() {
        Path dir = tmp.resolve("empty");
        assertThatThrownBy(() -> LoginServerData.open(dir)).isInstanceOf(IllegalStateException.class)
                .hasMessage(dir + " is not a login server folder: run 'parley login-server init --data " + dir
                        + " --name NETWORK' first");
    }

    @Test
    void openDetectsAForeignCaKey() {
        Path dir = tmp.resolve("login");
        LoginServerData.init(dir, "acme", HostPort.parse("127.0.0.1:7443")).close();
        Keys.writePrivateKey(dir.resolve("ca.key"), Keys.newCaKeyPair().getPrivate());
        assertThatThrownBy(() -> LoginServerData.open(dir)).isInstanceOf(IllegalStateException.class)
                .hasMessage(dir.resolve("ca.key") + " does not match the caPublicKey in " + dir.resolve("network.json"));
    }

    @Test
    void openDetectsAReplacedTlsIdentity() {
        Path dir = tmp.resolve("login");
        LoginServerData.init(dir, "acme", HostPort.parse("127.0.0.1:7443")).close();
        Keys.writePrivateKey(dir.resolve("tls.key"), Keys.newDeviceKeyPair().getPrivate());
        assertThatThrownBy(() -> LoginServerData.open(dir)).isInstanceOf(IllegalStateException.class)
                .hasMessage(dir.resolve("tls.key") + " does not match " + dir.resolve("tls.crt"));
    }

    @Test
    void seedsAndAddressArePersisted() throws Exception {
        Path dir = tmp.resolve("login");
        HostPort s1 = HostPort.parse("10.0.0.1:7000");
        HostPort s2 = HostPort.parse("[2001:db8::1]:7000");
        try (LoginServerData d = LoginServerData.init(dir, "acme", HostPort.parse("127.0.0.1:0"))) {
            d.addSeed(s1);
            d.addSeed(s2);
            d.addSeed(s1);
            d.setLoginServerAddress(HostPort.parse("127.0.0.1:45678"));
            d.accounts().add("alice", Role.USER, "correct horse".toCharArray());
            assertThat(d.networkFile().seeds()).containsExactly(s1, s2);
        }
        try (LoginServerData d = LoginServerData.open(dir)) {
            NetworkFile nf = NetworkFile.load(d.networkFilePath());
            assertThat(nf.seeds()).containsExactly(s1, s2);
            assertThat(nf.loginServer()).isEqualTo(HostPort.parse("127.0.0.1:45678"));
            assertThat(d.networkFile()).isEqualTo(nf);
            assertThat(d.accounts().find("alice")).isPresent();
        }
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains(".tmp"));
        }
    }
}
