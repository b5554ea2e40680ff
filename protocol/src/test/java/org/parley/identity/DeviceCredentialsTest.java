package org.parley.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeviceCredentialsTest {
    static final Instant NB = Instant.parse("2030-01-01T00:00:00Z");
    static final Instant NA = NB.plus(Duration.ofDays(30));

    @TempDir
    Path tmp;

    KeyPair caKeys;
    NetworkFile nf;
    Path networkSource;

    @BeforeEach
    void setUp() {
        caKeys = Keys.newCaKeyPair();
        nf = new NetworkFile("testnet", caKeys.getPublic(), new HostPort("login.example", 8443),
                Keys.pin(Keys.newDeviceKeyPair().getPublic()), List.of(new HostPort("sn1.example", 7000)));
        networkSource = tmp.resolve("download/network.json");
        nf.write(networkSource);
    }

    static IllegalStateException loadFails(Path dir) {
        IllegalStateException e = catchThrowableOfType(IllegalStateException.class, () -> DeviceCredentials.load(dir));
        assertThat(e).as("load should fail").isNotNull();
        assertThat(e.getMessage()).isNotBlank().doesNotContain("\n").contains(dir.toString());
        return e;
    }

    /** Lays out a folder exactly as a successful enrolment would (no login server needed). */
    X509Certificate enrolManually(Path dir, KeyPair device, String user) {
        DeviceCredentials.initNetwork(dir, networkSource);
        X509Certificate cert = new CertificateAuthority("testnet", caKeys)
                .issueDevice(user, Role.USER, device.getPublic(), Policy.DEFAULT, NB, NA);
        Keys.writePrivateKey(dir.resolve(DeviceCredentials.KEY), device.getPrivate());
        Keys.writeCertificate(dir.resolve(DeviceCredentials.CERT), cert);
        Keys.writeSecret(dir.resolve(DeviceCredentials.CREDENTIAL),
                ("{\"user\":\"" + user + "\",\"refreshToken\":\"tok\"}").getBytes(StandardCharsets.UTF_8));
        return cert;
    }

    @Test
    void initNetworkCopiesAndValidates() throws Exception {
        Path dir = tmp.resolve("device/folder");
        NetworkFile copied = DeviceCredentials.initNetwork(dir, networkSource);
        assertThat(copied).isEqualTo(nf);
        Path target = dir.resolve(DeviceCredentials.NETWORK);
        assertThat(target).exists();
        assertThat(NetworkFile.load(target)).isEqualTo(nf);
        assertThat(DeviceCredentials.network(dir)).isEqualTo(nf);
        assertThat(Files.readString(target)).isEqualTo(nf.toJson());
    }

    @Test
    void initNetworkReplacesAnOlderNetworkFile() {
        Path dir = tmp.resolve("device");
        DeviceCredentials.initNetwork(dir, networkSource);
        NetworkFile newer = nf.withSeeds(List.of(new HostPort("sn9.example", 7009)));
        Path src2 = tmp.resolve("download/network2.json");
        newer.write(src2);
        DeviceCredentials.initNetwork(dir, src2);
        assertThat(DeviceCredentials.network(dir)).isEqualTo(newer);
    }

    @Test
    void initNetworkRejectsAnInvalidFileAndWritesNothing() throws Exception {
        Path dir = tmp.resolve("device");
        Path bad = tmp.resolve("bad.json");
        Files.writeString(bad, nf.toJson().replace("\"parley-network/1\"", "\"parley-network/9\""));
        NetworkFileException e = catchThrowableOfType(NetworkFileException.class,
                () -> DeviceCredentials.initNetwork(dir, bad));
        assertThat(e).isNotNull();
        assertThat(e.getMessage()).contains("format").doesNotContain("\n");
        assertThat(dir.resolve(DeviceCredentials.NETWORK)).doesNotExist();

        NetworkFileException missing = catchThrowableOfType(NetworkFileException.class,
                () -> DeviceCredentials.initNetwork(dir, tmp.resolve("absent.json")));
        assertThat(missing.getMessage()).contains("does not exist");
        assertThat(dir.resolve(DeviceCredentials.NETWORK)).doesNotExist();
    }

    @Test
    void networkOfAFolderWithoutOneFails() {
        NetworkFileException e = catchThrowableOfType(NetworkFileException.class, () -> DeviceCredentials.network(tmp));
        assertThat(e.getMessage()).contains(DeviceCredentials.NETWORK).doesNotContain("\n");
    }

    @Test
    void loadOnAnEmptyDirectoryFails() {
        assertThat(DeviceCredentials.enrolled(tmp)).isFalse();
        assertThat(loadFails(tmp).getMessage()).contains("log in");
    }

    @Test
    void loadWithOnlyTheNetworkFileFails() {
        DeviceCredentials.initNetwork(tmp, networkSource);
        assertThat(DeviceCredentials.enrolled(tmp)).isFalse();
        loadFails(tmp);
    }

    @Test
    void loadWithAnyOneFileMissingFails() throws Exception {
        for (String missing : List.of(DeviceCredentials.KEY, DeviceCredentials.CERT, DeviceCredentials.CREDENTIAL)) {
            Path dir = tmp.resolve("without-" + missing);
            enrolManually(dir, Keys.newDeviceKeyPair(), "alice");
            Files.delete(dir.resolve(missing));
            assertThat(DeviceCredentials.enrolled(dir)).as(missing).isFalse();
            loadFails(dir);
        }
    }

    @Test
    void loadOfAnEnrolledFolder() throws Exception {
        KeyPair device = Keys.newDeviceKeyPair();
        X509Certificate cert = enrolManually(tmp, device, "alice");
        assertThat(DeviceCredentials.enrolled(tmp)).isTrue();

        DeviceCredentials dc = DeviceCredentials.load(tmp);
        assertThat(dc.dir()).isEqualTo(tmp);
        assertThat(dc.user()).isEqualTo("alice");
        assertThat(dc.networkFile()).isEqualTo(nf);
        assertThat(dc.certificate()).isEqualTo(cert);
        assertThat(dc.privateKey().getEncoded()).isEqualTo(device.getPrivate().getEncoded());
        assertThat(dc.deviceId()).isEqualTo(Keys.deviceId(device.getPublic()));
        assertThat(dc.expiresAt()).isEqualTo(NA);
        assertThat(dc.renewAt()).isEqualTo(NB.plus(Duration.ofDays(20)));
        assertThat(dc.renewAt()).isAfter(NB).isBefore(NA);
        // and the stored certificate verifies against the network file
        assertThat(CertificateVerifier.of(dc.networkFile(), java.time.Clock.fixed(NB, java.time.ZoneOffset.UTC))
                .verify(dc.certificate()).deviceId()).isEqualTo(dc.deviceId());
    }

    @Test
    void corruptFilesAreReportedAsUnreadable() throws Exception {
        Path a = tmp.resolve("a");
        enrolManually(a, Keys.newDeviceKeyPair(), "alice");
        Files.writeString(a.resolve(DeviceCredentials.CREDENTIAL), "{not json");
        assertThat(loadFails(a).getMessage()).contains("unreadable");

        Path b = tmp.resolve("b");
        enrolManually(b, Keys.newDeviceKeyPair(), "alice");
        Files.writeString(b.resolve(DeviceCredentials.KEY), Keys.pem("PRIVATE KEY", new byte[] {1, 2, 3}));
        assertThat(loadFails(b).getMessage()).contains("unreadable");

        Path c = tmp.resolve("c");
        enrolManually(c, Keys.newDeviceKeyPair(), "alice");
        Files.writeString(c.resolve(DeviceCredentials.CERT), "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n");
        assertThat(loadFails(c).getMessage()).contains("unreadable");
    }

    @Test
    void constantsNameTheFiles() {
        assertThat(DeviceCredentials.NETWORK).isEqualTo("network.json");
        assertThat(DeviceCredentials.KEY).isEqualTo("device.key");
        assertThat(DeviceCredentials.CERT).isEqualTo("device.crt");
        assertThat(DeviceCredentials.CREDENTIAL).isEqualTo("credential.json");
    }
}
