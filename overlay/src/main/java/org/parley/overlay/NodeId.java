package org.parley.overlay;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import org.parley.protocol.Limits;

/** A 256-bit overlay id: supernode ids and user keys live in the same XOR-metric space. */
public final class NodeId implements Comparable<NodeId> {
    public static final int BITS = Limits.NODE_ID_BYTES * 8;
    private final byte[] bytes;
    private final int hash;

    private NodeId(byte[] bytes) {
        this.bytes = bytes;
        this.hash = Arrays.hashCode(bytes);
    }

    public static NodeId of(byte[] bytes) {
        if (bytes.length != Limits.NODE_ID_BYTES) throw new IllegalArgumentException("node id must be " + Limits.NODE_ID_BYTES + " bytes");
        return new NodeId(bytes.clone());
    }

    /** The key under which a user's device records are stored. */
    public static NodeId forUser(String user) {
        return new NodeId(sha256(("parley-user:" + user).getBytes(StandardCharsets.UTF_8)));
    }

    /** A supernode's id: SHA-256 of its public key (or any stable identity bytes). */
    public static NodeId forKey(byte[] publicKeyEncoded) {
        return new NodeId(sha256(publicKeyEncoded));
    }

    public static NodeId random(java.util.random.RandomGenerator rnd) {
        byte[] b = new byte[Limits.NODE_ID_BYTES];
        rnd.nextBytes(b);
        return new NodeId(b);
    }

    static byte[] sha256(byte[] in) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(in);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public byte[] bytes() {
        return bytes.clone();
    }

    byte[] raw() {
        return bytes;
    }

    /** Index of the highest differing bit (255 = top bit differs), or -1 if equal: the k-bucket index. */
    public int bucketIndex(NodeId other) {
        for (int i = 0; i < bytes.length; i++) {
            int x = (bytes[i] ^ other.bytes[i]) & 0xff;
            if (x != 0) return (bytes.length - 1 - i) * 8 + (31 - Integer.numberOfLeadingZeros(x));
        }
        return -1;
    }

    /** Compares the XOR distances of {@code a} and {@code b} to this id: negative if {@code a} is closer. */
    public int compareDistance(NodeId a, NodeId b) {
        for (int i = 0; i < bytes.length; i++) {
            int da = (bytes[i] ^ a.bytes[i]) & 0xff;
            int db = (bytes[i] ^ b.bytes[i]) & 0xff;
            if (da != db) return Integer.compare(da, db);
        }
        return 0;
    }

    /** A random id whose bucket index relative to this one is {@code index}. */
    public NodeId randomInBucket(int index, java.util.random.RandomGenerator rnd) {
        byte[] b = bytes.clone();
        int byteIdx = bytes.length - 1 - index / 8;
        int bit = index % 8;
        byte[] noise = new byte[bytes.length];
        rnd.nextBytes(noise);
        for (int i = byteIdx + 1; i < b.length; i++) b[i] = noise[i];
        int keepMask = ~((1 << (bit + 1)) - 1) & 0xff;     // bits above `bit` stay
        int lowMask = (1 << bit) - 1;                     // bits below are random
        int v = (b[byteIdx] & keepMask) | (~b[byteIdx] & (1 << bit)) | (noise[byteIdx] & lowMask);
        b[byteIdx] = (byte) v;
        return new NodeId(b);
    }

    @Override
    public int compareTo(NodeId o) {
        return Arrays.compareUnsigned(bytes, o.bytes);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NodeId n && n.hash == hash && Arrays.equals(n.bytes, bytes);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public String toString() {
        return HexFormat.of().formatHex(bytes, 0, 4);
    }
}
