package org.parley.bench;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.parley.chat.SqliteEventStore;
import org.parley.chat.StoredEvent;
import org.parley.identity.Keys;
import org.parley.protocol.ChatEvent;
import org.parley.protocol.WireFormatException;

/**
 * The synthetic conversation of the chat-sync scenario: a group "bench" created by the first author with the
 * second as member, then MESSAGE events by the two authors in turn, each naming the previous event as its only
 * parent (a linear history), with hybrid-logical-clock times in increasing order ({@code millis << 16}) and texts of
 * a fixed size. Events are signed with the authors' real device keys, in parallel (the ids do not depend on the
 * signatures, so the chain is hashed first). A generated history is cached on disk with the two device keys, so a
 * later run with the same parameters re-enrols the same keys and reuses the signatures.
 */
final class ChatHistory {
    /** Cache layout version: bump when the generated events change. */
    static final int VERSION = 1;
    private static final int MAGIC = 0x43485331; // "CHS1"

    /** An author: user name, device key, device id (16 bytes). */
    record Author(String user, PrivateKey key, byte[] device) {}

    final byte[] conversation;
    final byte[][] encoded;
    final byte[][] ids;
    final long[] hlcs;

    private ChatHistory(byte[] conversation, byte[][] encoded, byte[][] ids, long[] hlcs) {
        this.conversation = conversation;
        this.encoded = encoded;
        this.ids = ids;
        this.hlcs = hlcs;
    }

    int size() {
        return encoded.length;
    }

    /** Total encoded size of events [from, to). */
    long bytes(int from, int to) {
        long s = 0;
        for (int i = from; i < to; i++) s += encoded[i].length;
        return s;
    }

    /** The cache folder of a history with these parameters. */
    static Path cacheDir(Path root, int n, int textBytes) {
        return root.resolve("h" + n + "-b" + textBytes + "-v" + VERSION);
    }

    static boolean cached(Path cache) {
        return Files.exists(cache.resolve("events.bin")) && Files.exists(cache.resolve("alice").resolve("device.key"))
                && Files.exists(cache.resolve("bob").resolve("device.key"));
    }

    /**
     * Generates {@code n} events: index 0 is the group's creation by {@code creator}, index i >= 1 a message by
     * {@code member} (odd i) or {@code creator} (even i), at {@code startMillis + i * stepMillis}.
     */
    static ChatHistory generate(int n, int textBytes, Author creator, Author member, long startMillis, long stepMillis) {
        if (n < 2) throw new IllegalArgumentException("a history needs at least 2 events");
        ChatEvent[] unsigned = new ChatEvent[n];
        byte[][] canonical = new byte[n][];
        byte[][] ids = new byte[n][];
        long[] hlcs = new long[n];
        hlcs[0] = startMillis << 16;
        unsigned[0] = ChatEvent.unsigned(ChatEvent.Kind.CREATE, new byte[ChatEvent.CONVERSATION_BYTES], creator.user(),
                creator.device(), hlcs[0], List.of(), null, List.of(member.user()), "bench");
        canonical[0] = unsigned[0].canonicalBytes();
        ids[0] = ChatEvent.sha256(canonical[0]);
        byte[] conv = Arrays.copyOf(ids[0], ChatEvent.CONVERSATION_BYTES);
        for (int i = 1; i < n; i++) {
            Author a = i % 2 == 1 ? member : creator;
            hlcs[i] = (startMillis + i * stepMillis) << 16;
            unsigned[i] = ChatEvent.unsigned(ChatEvent.Kind.MESSAGE, conv, a.user(), a.device(), hlcs[i], List.of(ids[i - 1]),
                    null, List.of(), text(i, textBytes));
            canonical[i] = unsigned[i].canonicalBytes();
            ids[i] = ChatEvent.sha256(canonical[i]);
        }
        byte[][] encoded = new byte[n][];
        IntStream.range(0, n).parallel().forEach(i -> {
            PrivateKey key = unsigned[i].author().equals(creator.user()) ? creator.key() : member.key();
            encoded[i] = withSignature(canonical[i], sign(key, canonical[i]));
            canonical[i] = null;
        });
        return new ChatHistory(conv, encoded, ids, hlcs);
    }

    /**
     * A branch of {@code count} events by {@code author} written "offline": the first names event {@code fork} as its
     * parent, each next one the previous; times are spread between event {@code fork} and the last event of the
     * history (a concurrent branch), with a counter of 1 so that they never equal a history time.
     */
    List<ChatEvent.Decoded> branch(Author author, int fork, int count, int textBytes) {
        List<ChatEvent.Decoded> out = new ArrayList<>();
        long from = hlcs[fork] >>> 16;
        long to = hlcs[size() - 1] >>> 16;
        long step = Math.max(1, (to - from) / (count + 1));
        byte[] parent = ids[fork];
        for (int j = 0; j < count; j++) {
            long hlc = ((from + (j + 1) * step) << 16) | 1;
            ChatEvent u = ChatEvent.unsigned(ChatEvent.Kind.MESSAGE, conversation, author.user(), author.device(), hlc,
                    List.of(parent), null, List.of(), text(1_000_000_000L + fork * 1000L + j, textBytes));
            byte[] c = u.canonicalBytes();
            byte[] e = withSignature(c, sign(author.key(), c));
            try {
                ChatEvent.Decoded d = ChatEvent.decode(e);
                out.add(d);
                parent = d.id();
            } catch (WireFormatException ex) {
                throw new IllegalStateException(ex);
            }
        }
        return out;
    }

    private static byte[] withSignature(byte[] canonical, byte[] sig) {
        byte[] out = Arrays.copyOf(canonical, canonical.length + 1 + sig.length);
        out[canonical.length] = (byte) sig.length;
        System.arraycopy(sig, 0, out, canonical.length + 1, sig.length);
        return out;
    }

    private static final ThreadLocal<Signature> SIGNER = ThreadLocal.withInitial(() -> {
        try {
            return Signature.getInstance(Keys.signatureAlgorithm("EC"));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    });

    private static byte[] sign(PrivateKey key, byte[] data) {
        try {
            Signature s = key.getAlgorithm().equals("EC") ? SIGNER.get() : Signature.getInstance(Keys.signatureAlgorithm(key.getAlgorithm()));
            s.initSign(key);
            s.update(data);
            return s.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign: " + e.getMessage(), e);
        }
    }

    /** Deterministic text of exactly {@code bytes} ASCII letters and spaces (not compressible to much). */
    static String text(long seed, int bytes) {
        SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + 17);
        char[] c = new char[bytes];
        final String alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789      ";
        for (int i = 0; i < bytes; i++) c[i] = alphabet.charAt(r.nextInt(alphabet.length()));
        return new String(c);
    }

    // ------------------------------------------------------------------ cache

    /** Writes the events and the two device folders' key files (key and any certificate naming its public key). */
    void save(Path cache, Path creatorHome, Path memberHome) throws IOException {
        Files.createDirectories(cache);
        for (var e : List.of(java.util.Map.entry("alice", creatorHome), java.util.Map.entry("bob", memberHome))) {
            Path d = Files.createDirectories(cache.resolve(e.getKey()));
            Files.copy(e.getValue().resolve("device.key"), d.resolve("device.key"), StandardCopyOption.REPLACE_EXISTING);
            Files.copy(e.getValue().resolve("device.crt"), d.resolve("device.crt"), StandardCopyOption.REPLACE_EXISTING);
        }
        Path tmp = cache.resolve("events.bin.tmp");
        try (DataOutputStream o = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20))) {
            o.writeInt(MAGIC);
            o.writeInt(size());
            for (byte[] e : encoded) {
                o.writeInt(e.length);
                o.write(e);
            }
        }
        Files.move(tmp, cache.resolve("events.bin"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Reads a cached history (decoding every event: ids and times come from the bytes). */
    static ChatHistory load(Path cache) throws IOException {
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(cache.resolve("events.bin")), 1 << 20))) {
            if (in.readInt() != MAGIC) throw new IOException("not a chat-sync history cache: " + cache);
            int n = in.readInt();
            byte[][] encoded = new byte[n][];
            for (int i = 0; i < n; i++) {
                encoded[i] = new byte[in.readInt()];
                in.readFully(encoded[i]);
            }
            byte[][] ids = new byte[n][];
            long[] hlcs = new long[n];
            IntStream.range(0, n).parallel().forEach(i -> {
                try {
                    ChatEvent.Decoded d = ChatEvent.decode(encoded[i]);
                    ids[i] = d.id();
                    hlcs[i] = d.event().hlc();
                } catch (WireFormatException e) {
                    throw new IllegalStateException("cached event " + i + " is corrupt: " + e.getMessage());
                }
            });
            for (int i = 1; i < n; i++) {
                if (hlcs[i] <= hlcs[i - 1]) throw new IOException("cached history is not in time order at " + i);
            }
            return new ChatHistory(Arrays.copyOf(ids[0], ChatEvent.CONVERSATION_BYTES), encoded, ids, hlcs);
        }
    }

    /** The creation event's author (from the cached bytes). */
    String creator() {
        try {
            return ChatEvent.decode(encoded[0]).event().author();
        } catch (WireFormatException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The device (hex) that signed event {@code i}. */
    String deviceHex(int i) {
        try {
            return HexFormat.of().formatHex(ChatEvent.decode(encoded[i]).event().device());
        } catch (WireFormatException e) {
            throw new IllegalStateException(e);
        }
    }

    // ------------------------------------------------------------------ stores

    /** Writes events [0, n) and the given certificates into a new store file, in batches of 5,000 (one commit each). */
    void writeStore(Path file, Collection<byte[]> certificates) {
        try (SqliteEventStore s = new SqliteEventStore(file)) {
            s.insert(List.of(), certificates, "local");
            long now = System.currentTimeMillis();
            for (int from = 0; from < size(); from += 5000) {
                int to = Math.min(size(), from + 5000);
                List<StoredEvent> batch = new ArrayList<>(to - from);
                for (int i = from; i < to; i++) {
                    try {
                        batch.add(StoredEvent.of(ChatEvent.decode(encoded[i]), now));
                    } catch (WireFormatException e) {
                        throw new IllegalStateException(e);
                    }
                }
                s.insert(batch, List.of(), "local");
            }
        }
    }
}
