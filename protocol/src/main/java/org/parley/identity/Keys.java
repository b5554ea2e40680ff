package org.parley.identity;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.io.ByteArrayInputStream;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Set;

/**
 * Key pairs and their files. Device and supernode TLS identities are ECDSA P-256 (BoringSSL refuses
 * Ed25519 leaf keys in QUIC); the network CA is Ed25519. Private keys are written with mode 0600.
 */
public final class Keys {
    public static final SecureRandom RANDOM = new SecureRandom();

    private Keys() {}

    public static KeyPair newDeviceKeyPair() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("P-256 is not available in this JDK", e);
        }
    }

    /** The signature algorithm used with a device key of the given JCA key algorithm (P-256 ECDSA or Ed25519). */
    public static String signatureAlgorithm(String keyAlgorithm) {
        return switch (keyAlgorithm) {
            case "EC" -> "SHA256withECDSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> throw new IllegalArgumentException("unsupported device key algorithm " + keyAlgorithm);
        };
    }

    public static KeyPair newCaKeyPair() {
        try {
            return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 is not available in this JDK", e);
        }
    }

    /** Decodes an X.509 SubjectPublicKeyInfo of an EC or Ed25519 key. */
    public static PublicKey publicKey(byte[] spki) {
        for (String alg : new String[] {"EC", "Ed25519"}) {
            try {
                return KeyFactory.getInstance(alg).generatePublic(new X509EncodedKeySpec(spki));
            } catch (GeneralSecurityException ignored) {
                // try the next algorithm
            }
        }
        throw new IllegalArgumentException("not a P-256 or Ed25519 public key");
    }

    public static PrivateKey privateKey(byte[] pkcs8) {
        for (String alg : new String[] {"EC", "Ed25519"}) {
            try {
                return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
            } catch (GeneralSecurityException ignored) {
                // try the next algorithm
            }
        }
        throw new IllegalArgumentException("not a P-256 or Ed25519 private key");
    }

    public static X509Certificate certificate(byte[] der) {
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(der));
        } catch (CertificateException | RuntimeException e) {
            throw new IllegalArgumentException("not an X.509 certificate");
        }
    }

    public static String pem(String type, byte[] der) {
        String b64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
        return "-----BEGIN " + type + "-----\n" + b64 + "\n-----END " + type + "-----\n";
    }

    public static byte[] unpem(String text) {
        String body = text.replaceAll("-----(BEGIN|END) [A-Z ]+-----", "").replaceAll("\\s", "");
        try {
            return Base64.getDecoder().decode(body);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("PEM data is not base64");
        }
    }

    public static void writePrivateKey(Path file, PrivateKey key) {
        writeSecret(file, pem("PRIVATE KEY", key.getEncoded()).getBytes(StandardCharsets.US_ASCII));
    }

    public static PrivateKey readPrivateKey(Path file) {
        try {
            return privateKey(unpem(Files.readString(file, StandardCharsets.US_ASCII)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read private key " + file, e);
        }
    }

    public static void writeCertificate(Path file, X509Certificate cert) {
        try {
            writeAtomically(file, pem("CERTIFICATE", cert.getEncoded()).getBytes(StandardCharsets.US_ASCII), false);
        } catch (CertificateException e) {
            throw new IllegalStateException(e);
        }
    }

    public static X509Certificate readCertificate(Path file) {
        try {
            return certificate(unpem(Files.readString(file, StandardCharsets.US_ASCII)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read certificate " + file, e);
        }
    }

    /** Writes a file readable only by its owner (0600), replacing it atomically. */
    public static void writeSecret(Path file, byte[] content) {
        writeAtomically(file, content, true);
    }

    public static void writeAtomically(Path file, byte[] content, boolean secret) {
        try {
            Path dir = file.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path tmp = dir.resolve("." + file.getFileName() + ".tmp" + RANDOM.nextInt(1_000_000));
            try {
                Files.createFile(tmp, PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString(secret ? "rw-------" : "rw-r--r--")));
            } catch (UnsupportedOperationException | FileAlreadyExistsException e) {
                Files.deleteIfExists(tmp);
                Files.createFile(tmp);
            }
            Files.write(tmp, content, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.SYNC);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            if (secret) {
                try {
                    Files.setPosixFilePermissions(file, Set.of(java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                            java.nio.file.attribute.PosixFilePermission.OWNER_WRITE));
                } catch (UnsupportedOperationException ignored) {
                    // not a POSIX file system
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    public static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The TLS pin of a key: "sha256/" + base64(SHA-256(SubjectPublicKeyInfo)). */
    public static String pin(PublicKey key) {
        return "sha256/" + Base64.getEncoder().encodeToString(sha256(key.getEncoded()));
    }

    /** A device id: the first 16 bytes of SHA-256 of the device's public key, in hex. */
    public static String deviceId(PublicKey key) {
        byte[] h = sha256(key.getEncoded());
        return HexFormat.of().formatHex(h, 0, 16);
    }

    public static String randomToken(int bytes) {
        byte[] b = new byte[bytes];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }
}
