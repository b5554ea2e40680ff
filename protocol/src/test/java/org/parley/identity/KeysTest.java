package org.parley.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeysTest {
    @TempDir
    Path dir;

    static boolean posix(Path p) {
        return p.getFileSystem().supportedFileAttributeViews().contains("posix");
    }

    static void assertSignsLike(PrivateKey read, KeyPair original, String alg) throws Exception {
        Signature s = Signature.getInstance(alg);
        s.initSign(read);
        byte[] msg = "parley".getBytes(StandardCharsets.US_ASCII);
        s.update(msg);
        byte[] sig = s.sign();
        Signature v = Signature.getInstance(alg);
        v.initVerify(original.getPublic());
        v.update(msg);
        assertThat(v.verify(sig)).isTrue();
    }

    @Test
    void deviceKeysAreP256AndCaKeysEd25519() {
        KeyPair d = Keys.newDeviceKeyPair();
        assertThat(d.getPublic().getAlgorithm()).isEqualTo("EC");
        assertThat(((ECPublicKey) d.getPublic()).getParams().getCurve().getField().getFieldSize()).isEqualTo(256);
        KeyPair ca = Keys.newCaKeyPair();
        assertThat(ca.getPublic().getAlgorithm()).isIn("Ed25519", "EdDSA");
        assertThat(Keys.newDeviceKeyPair().getPublic()).isNotEqualTo(d.getPublic());
    }

    @Test
    void ecPrivateKeyPemRoundTrip() throws Exception {
        KeyPair kp = Keys.newDeviceKeyPair();
        Path f = dir.resolve("device.key");
        Keys.writePrivateKey(f, kp.getPrivate());
        String text = Files.readString(f);
        assertThat(text).startsWith("-----BEGIN PRIVATE KEY-----\n").endsWith("-----END PRIVATE KEY-----\n");
        assertThat(text.lines()).allSatisfy(l -> assertThat(l.length()).isLessThanOrEqualTo(64));
        PrivateKey back = Keys.readPrivateKey(f);
        assertThat(back.getAlgorithm()).isEqualTo("EC");
        assertThat(back.getEncoded()).isEqualTo(kp.getPrivate().getEncoded());
        assertSignsLike(back, kp, "SHA256withECDSA");
    }

    @Test
    void ed25519PrivateKeyPemRoundTrip() throws Exception {
        KeyPair kp = Keys.newCaKeyPair();
        Path f = dir.resolve("ca.key");
        Keys.writePrivateKey(f, kp.getPrivate());
        PrivateKey back = Keys.readPrivateKey(f);
        assertThat(back.getAlgorithm()).isIn("Ed25519", "EdDSA");
        assertThat(back.getEncoded()).isEqualTo(kp.getPrivate().getEncoded());
        assertSignsLike(back, kp, "Ed25519");
    }

    @Test
    void privateKeyFileIsOwnerReadWriteOnly() throws Exception {
        Path f = dir.resolve("device.key");
        Keys.writePrivateKey(f, Keys.newDeviceKeyPair().getPrivate());
        if (posix(f)) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).isEqualTo("rw-------");
        }
    }

    @Test
    void overwritingALooseFileTightensItAndLeavesNoTemporaryFiles() throws Exception {
        Path f = dir.resolve("sub/dir/device.key");
        Files.createDirectories(f.getParent());
        Files.writeString(f, "old");
        if (posix(f)) Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-rw-rw-"));
        KeyPair kp = Keys.newDeviceKeyPair();
        Keys.writePrivateKey(f, kp.getPrivate());
        if (posix(f)) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).isEqualTo("rw-------");
        }
        assertThat(Keys.readPrivateKey(f).getEncoded()).isEqualTo(kp.getPrivate().getEncoded());
        try (Stream<Path> s = Files.list(f.getParent())) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactly("device.key");
        }
    }

    @Test
    void writeSecretCreatesParentDirectoriesAndIsPrivate() throws Exception {
        Path f = dir.resolve("a/b/c/secret.json");
        Keys.writeSecret(f, "{\"x\":1}".getBytes(StandardCharsets.UTF_8));
        assertThat(Files.readString(f)).isEqualTo("{\"x\":1}");
        if (posix(f)) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).isEqualTo("rw-------");
        }
    }

    @Test
    void writeAtomicallyReplacesContent() throws Exception {
        Path f = dir.resolve("plain.txt");
        Keys.writeAtomically(f, "one".getBytes(StandardCharsets.UTF_8), false);
        Keys.writeAtomically(f, "two".getBytes(StandardCharsets.UTF_8), false);
        assertThat(Files.readString(f)).isEqualTo("two");
        if (posix(f)) {
            assertThat(Files.getPosixFilePermissions(f))
                    .contains(java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                            java.nio.file.attribute.PosixFilePermission.OWNER_WRITE)
                    .doesNotContain(java.nio.file.attribute.PosixFilePermission.OTHERS_WRITE,
                            java.nio.file.attribute.PosixFilePermission.GROUP_WRITE);
        }
    }

    @Test
    void certificatePemRoundTrip() throws Exception {
        CertificateAuthority ca = new CertificateAuthority("testnet", Keys.newCaKeyPair());
        KeyPair d = Keys.newDeviceKeyPair();
        Instant nb = Instant.parse("2030-01-01T00:00:00Z");
        X509Certificate c = ca.issueDevice("alice", Role.USER, d.getPublic(), Policy.DEFAULT, nb, nb.plus(Duration.ofDays(1)));
        Path f = dir.resolve("device.crt");
        Keys.writeCertificate(f, c);
        assertThat(Files.readString(f)).startsWith("-----BEGIN CERTIFICATE-----\n");
        X509Certificate back = Keys.readCertificate(f);
        assertThat(back).isEqualTo(c);
        assertThat(back.getEncoded()).isEqualTo(c.getEncoded());
        assertThat(back.getPublicKey()).isEqualTo(d.getPublic());
        // DER decoding agrees
        assertThat(Keys.certificate(c.getEncoded())).isEqualTo(c);
    }

    @Test
    void pemAndUnpemAreInverse() {
        byte[] data = new byte[200];
        new java.util.Random(9).nextBytes(data);
        String pem = Keys.pem("SOME DATA", data);
        assertThat(pem).startsWith("-----BEGIN SOME DATA-----\n").endsWith("-----END SOME DATA-----\n");
        assertThat(Keys.unpem(pem)).isEqualTo(data);
        // tolerant of CRLF line endings and surrounding whitespace
        assertThat(Keys.unpem("\n  " + pem.replace("\n", "\r\n") + "\n\n")).isEqualTo(data);
        assertThatThrownBy(() -> Keys.unpem("-----BEGIN X-----\n!!!!\n-----END X-----\n"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("base64");
    }

    @Test
    void readingMissingOrWrongFilesFailsClearly() throws Exception {
        assertThatThrownBy(() -> Keys.readPrivateKey(dir.resolve("nope.key"))).isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("nope.key");
        assertThatThrownBy(() -> Keys.readCertificate(dir.resolve("nope.crt"))).isInstanceOf(UncheckedIOException.class);
        Path junk = dir.resolve("junk.key");
        Files.writeString(junk, Keys.pem("PRIVATE KEY", new byte[] {1, 2, 3}));
        assertThatThrownBy(() -> Keys.readPrivateKey(junk)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Keys.readCertificate(junk)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void decodersRejectGarbage() {
        assertThatThrownBy(() -> Keys.publicKey(new byte[] {1, 2, 3})).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Keys.privateKey(new byte[] {1, 2, 3})).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Keys.certificate(new byte[] {1, 2, 3})).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Keys.certificate(new byte[0])).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void publicKeyDecodesBothAlgorithms() {
        KeyPair ec = Keys.newDeviceKeyPair();
        KeyPair ed = Keys.newCaKeyPair();
        assertThat(Keys.publicKey(ec.getPublic().getEncoded())).isEqualTo(ec.getPublic());
        assertThat(Keys.publicKey(ed.getPublic().getEncoded())).isEqualTo(ed.getPublic());
        assertThat(Keys.privateKey(ec.getPrivate().getEncoded()).getEncoded()).isEqualTo(ec.getPrivate().getEncoded());
        assertThat(Keys.privateKey(ed.getPrivate().getEncoded()).getEncoded()).isEqualTo(ed.getPrivate().getEncoded());
    }

    @Test
    void deviceIdIs32LowerHexCharsAndStable() {
        KeyPair kp = Keys.newDeviceKeyPair();
        String id = Keys.deviceId(kp.getPublic());
        assertThat(id).hasSize(32).matches("[0-9a-f]{32}");
        assertThat(Keys.deviceId(kp.getPublic())).isEqualTo(id);
        assertThat(Keys.deviceId(Keys.publicKey(kp.getPublic().getEncoded()))).isEqualTo(id);
        assertThat(id).isEqualTo(HexFormat.of().formatHex(Keys.sha256(kp.getPublic().getEncoded()), 0, 16));
        assertThat(Keys.deviceId(Keys.newDeviceKeyPair().getPublic())).isNotEqualTo(id);
    }

    @Test
    void pinFormat() {
        KeyPair kp = Keys.newDeviceKeyPair();
        String pin = Keys.pin(kp.getPublic());
        assertThat(pin).startsWith("sha256/").matches("sha256/[A-Za-z0-9+/]{43}=");
        assertThat(Base64.getDecoder().decode(pin.substring("sha256/".length())))
                .isEqualTo(Keys.sha256(kp.getPublic().getEncoded()));
        assertThat(Keys.pin(kp.getPublic())).isEqualTo(pin);
        assertThat(Keys.pin(Keys.newDeviceKeyPair().getPublic())).isNotEqualTo(pin);
    }

    @Test
    void sha256KnownAnswer() {
        assertThat(HexFormat.of().formatHex(Keys.sha256("abc".getBytes(StandardCharsets.US_ASCII))))
                .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    @Test
    void randomTokensAreUrlSafeAndDistinct() {
        String a = Keys.randomToken(32);
        String b = Keys.randomToken(32);
        assertThat(a).hasSize(43).matches("[A-Za-z0-9_-]+");
        assertThat(a).isNotEqualTo(b);
        assertThat(Base64.getUrlDecoder().decode(a)).hasSize(32);
    }
}
