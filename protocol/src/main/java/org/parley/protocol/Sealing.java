package org.parley.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import javax.crypto.Cipher;
import javax.crypto.KeyAgreement;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.generators.HKDFBytesGenerator;
import org.bouncycastle.crypto.params.HKDFParameters;

/**
 * End-to-end sealing of frames that travel through a supernode, so the supernode only ever forwards
 * opaque bytes. Key = HKDF-SHA256(ECDH(P-256 device keys from both certificates), salt "parley-seal-v1",
 * info = lower device id | higher device id); AES-256-GCM with a random 96-bit nonce and the
 * (from, to) device ids as associated data. Layout: {@code nonce(12) | ciphertext+tag}.
 * Only the two devices can compute the key, so a successful open also authenticates the sender.
 */
public final class Sealing {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final byte[] SALT = "parley-seal-v1".getBytes(StandardCharsets.US_ASCII);

    private Sealing() {}

    public static byte[] seal(PrivateKey mine, String myDevice, PublicKey peer, String peerDevice, byte[] plaintext) {
        try {
            byte[] nonce = new byte[12];
            RANDOM.nextBytes(nonce);
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, key(mine, peer, myDevice, peerDevice), new GCMParameterSpec(128, nonce));
            c.updateAAD(aad(myDevice, peerDevice));
            byte[] ct = c.doFinal(plaintext);
            return ByteBuffer.allocate(12 + ct.length).put(nonce).put(ct).array();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("sealing failed: " + e.getMessage(), e);
        }
    }

    public static byte[] open(PrivateKey mine, String myDevice, PublicKey peer, String peerDevice, byte[] sealed)
            throws WireFormatException {
        if (sealed.length < 12 + 16) throw new WireFormatException("sealed payload too short");
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, key(mine, peer, myDevice, peerDevice), new GCMParameterSpec(128, sealed, 0, 12));
            c.updateAAD(aad(peerDevice, myDevice));
            return c.doFinal(sealed, 12, sealed.length - 12);
        } catch (GeneralSecurityException e) {
            throw new WireFormatException("sealed payload does not authenticate");
        }
    }

    private static byte[] aad(String from, String to) {
        return (from + ">" + to).getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * Derived keys by (my device, peer device, peer key): ECDH on P-256 costs about a millisecond, and
     * both keys are static for a certificate's lifetime, so each pair is derived once. Bounded LRU.
     */
    private static final int CACHE_SIZE = 4096;
    private static final java.util.Map<String, SecretKeySpec> CACHE = java.util.Collections.synchronizedMap(
            new java.util.LinkedHashMap<>(256, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(java.util.Map.Entry<String, SecretKeySpec> e) {
                    return size() > CACHE_SIZE;
                }
            });

    private static SecretKeySpec key(PrivateKey mine, PublicKey peer, String a, String b) throws GeneralSecurityException {
        java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
        md.update((a + "|" + b + "|").getBytes(StandardCharsets.US_ASCII));
        md.update(peer.getEncoded());
        md.update(mine.getEncoded());
        String cacheKey = java.util.HexFormat.of().formatHex(md.digest());
        SecretKeySpec cached = CACHE.get(cacheKey);
        if (cached != null) return cached;
        SecretKeySpec k = derive(mine, peer, a, b);
        CACHE.put(cacheKey, k);
        return k;
    }

    private static SecretKeySpec derive(PrivateKey mine, PublicKey peer, String a, String b) throws GeneralSecurityException {
        KeyAgreement ka = KeyAgreement.getInstance("ECDH");
        ka.init(mine);
        ka.doPhase(peer, true);
        byte[] shared = ka.generateSecret();
        String info = a.compareTo(b) < 0 ? a + "|" + b : b + "|" + a;
        HKDFBytesGenerator h = new HKDFBytesGenerator(new SHA256Digest());
        h.init(new HKDFParameters(shared, SALT, info.getBytes(StandardCharsets.US_ASCII)));
        byte[] k = new byte[32];
        h.generateBytes(k, 0, 32);
        return new SecretKeySpec(k, "AES");
    }
}
