package org.parley.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * One signed event of a conversation, and its canonical encoding. A conversation (1:1 or group) is the set
 * of its events; each names the heads its author had seen ({@code parents}) and a hybrid-logical-clock time.
 *
 * <p>Canonical layout (the signed bytes), all integers big-endian:
 * <pre>
 *   u8  format        (= {@link #FORMAT})
 *   u8  kind          ({@link Kind#code}; unknown codes are kept, synced and not displayed)
 *   16  conversation  (all zero in a group's CREATE: the conversation id is then the first 16 bytes of its id)
 *   u8 + UTF-8        author user name (1..64 bytes)
 *   16  device        (author device id)
 *   i64 hlc
 *   u8  n + n*32      parents (0 only for CREATE; at most {@link #MAX_PARENTS})
 *   u8  0|32 + bytes  target event (edit, delete, reaction, read marker)
 *   u8  n + n*(u8 + UTF-8)   users (CREATE members, ADD/REMOVE subjects; at most {@link #MAX_USERS})
 *   u16 + UTF-8       text (message, new text, reaction, name; at most {@link Limits#MAX_TEXT_BYTES})
 * </pre>
 * followed by {@code u8 length + signature} (ECDSA P-256 DER or Ed25519, by the author device's key, over the
 * canonical bytes). The event id is SHA-256 of the canonical bytes, so a signature cannot change an id.
 */
public record ChatEvent(Kind kind, int kindCode, byte[] conversation, String author, byte[] device, long hlc,
                        List<byte[]> parents, byte[] target, List<String> users, String text, byte[] signature) {
    public static final int FORMAT = 1;
    public static final int ID_BYTES = 32;
    public static final int CONVERSATION_BYTES = 16;
    public static final int DEVICE_BYTES = 16;
    public static final int MAX_PARENTS = 16;
    public static final int MAX_USERS = 64;
    public static final int MAX_USER_BYTES = 64;
    /** Largest encoded event. */
    public static final int MAX_EVENT_BYTES = 2 + 16 + 65 + 16 + 8 + 1 + MAX_PARENTS * 32 + 33 + 1 + MAX_USERS * 65
            + 2 + Limits.MAX_TEXT_BYTES + 1 + Limits.MAX_SIGNATURE_BYTES;

    /** Event kinds and their wire codes. */
    public enum Kind {
        CREATE(1), MESSAGE(2), EDIT(3), DELETE(4), REACTION(5), ADD(6), REMOVE(7), LEAVE(8), RENAME(9), READ(10),
        /** A kind this version does not know: validated for signature and membership, stored, synced, not shown. */
        UNKNOWN(0);
        public final int code;

        Kind(int code) {
            this.code = code;
        }

        public static Kind of(int code) {
            for (Kind k : values()) if (k.code == code && k != UNKNOWN) return k;
            return UNKNOWN;
        }

        public String wireName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public ChatEvent {
        parents = List.copyOf(parents);
        users = List.copyOf(users);
        if (target == null) target = new byte[0];
        if (signature == null) signature = new byte[0];
        if (text == null) text = "";
    }

    /** An unsigned event of a known kind. */
    public static ChatEvent unsigned(Kind kind, byte[] conversation, String author, byte[] device, long hlc,
                                     List<byte[]> parents, byte[] target, List<String> users, String text) {
        return new ChatEvent(kind, kind.code, conversation, author, device, hlc, parents, target, users, text, new byte[0]);
    }

    public ChatEvent withSignature(byte[] sig) {
        return new ChatEvent(kind, kindCode, conversation, author, device, hlc, parents, target, users, text, sig);
    }

    /** The canonical bytes: what is signed and hashed. */
    public byte[] canonicalBytes() {
        ByteBuffer b = ByteBuffer.allocate(MAX_EVENT_BYTES);
        b.put((byte) FORMAT).put((byte) kindCode);
        fixed(b, conversation, CONVERSATION_BYTES, "conversation");
        str8(b, author);
        fixed(b, device, DEVICE_BYTES, "device");
        b.putLong(hlc);
        if (parents.size() > MAX_PARENTS) throw new IllegalArgumentException("more than " + MAX_PARENTS + " parents");
        b.put((byte) parents.size());
        for (byte[] p : parents) fixed(b, p, ID_BYTES, "parent");
        if (target.length != 0 && target.length != ID_BYTES) throw new IllegalArgumentException("target must be an event id");
        b.put((byte) target.length).put(target);
        if (users.size() > MAX_USERS) throw new IllegalArgumentException("more than " + MAX_USERS + " users");
        b.put((byte) users.size());
        for (String u : users) str8(b, u);
        byte[] t = text.getBytes(StandardCharsets.UTF_8);
        if (t.length > Limits.MAX_TEXT_BYTES) throw new IllegalArgumentException("text over " + Limits.MAX_TEXT_BYTES + " bytes");
        b.putShort((short) t.length).put(t);
        return Arrays.copyOf(b.array(), b.position());
    }

    /** The whole event: canonical bytes and signature. */
    public byte[] encode() {
        byte[] c = canonicalBytes();
        if (signature.length > Limits.MAX_SIGNATURE_BYTES) throw new IllegalArgumentException("signature too long");
        byte[] out = Arrays.copyOf(c, c.length + 1 + signature.length);
        out[c.length] = (byte) signature.length;
        System.arraycopy(signature, 0, out, c.length + 1, signature.length);
        return out;
    }

    /** SHA-256 of the canonical bytes. */
    public byte[] id() {
        return sha256(canonicalBytes());
    }

    /** The conversation this event belongs to: its field, or for a group's CREATE the first 16 bytes of its id. */
    public byte[] conversationId() {
        return isGroupCreate() ? Arrays.copyOf(id(), CONVERSATION_BYTES) : conversation.clone();
    }

    public boolean isGroupCreate() {
        return kind == Kind.CREATE && Arrays.equals(conversation, new byte[CONVERSATION_BYTES]);
    }

    public String deviceHex() {
        return HexFormat.of().formatHex(device);
    }

    /** A decoded event with its id and encoded size (the id is computed once, from the bytes received). */
    public record Decoded(ChatEvent event, byte[] id, byte[] encoded) {}

    /** Decodes one encoded event, checking every length; the id is SHA-256 of the canonical part. */
    public static Decoded decode(byte[] bytes) throws WireFormatException {
        if (bytes.length > MAX_EVENT_BYTES) throw new WireFormatException("event of " + bytes.length + " bytes is over the limit");
        ByteBuffer b = ByteBuffer.wrap(bytes);
        try {
            int format = b.get() & 0xff;
            if (format != FORMAT) throw new WireFormatException("unsupported event format " + format);
            int kindCode = b.get() & 0xff;
            byte[] conv = take(b, CONVERSATION_BYTES);
            String author = str8(b);
            byte[] device = take(b, DEVICE_BYTES);
            long hlc = b.getLong();
            if (hlc < 0) throw new WireFormatException("event time is negative");
            int np = b.get() & 0xff;
            if (np > MAX_PARENTS) throw new WireFormatException("event has " + np + " parents; the limit is " + MAX_PARENTS);
            List<byte[]> parents = new ArrayList<>(np);
            for (int i = 0; i < np; i++) parents.add(take(b, ID_BYTES));
            int tl = b.get() & 0xff;
            if (tl != 0 && tl != ID_BYTES) throw new WireFormatException("event target has length " + tl);
            byte[] target = take(b, tl);
            int nu = b.get() & 0xff;
            if (nu > MAX_USERS) throw new WireFormatException("event names " + nu + " users; the limit is " + MAX_USERS);
            List<String> users = new ArrayList<>(nu);
            for (int i = 0; i < nu; i++) users.add(str8(b));
            int textLen = b.getShort() & 0xffff;
            if (textLen > Limits.MAX_TEXT_BYTES) throw new WireFormatException("event text over " + Limits.MAX_TEXT_BYTES + " bytes");
            String text = utf8(take(b, textLen));
            int canonicalEnd = b.position();
            int sl = b.get() & 0xff;
            if (sl > Limits.MAX_SIGNATURE_BYTES) throw new WireFormatException("event signature too long");
            byte[] sig = take(b, sl);
            if (b.hasRemaining()) throw new WireFormatException("event has " + b.remaining() + " trailing bytes");
            ChatEvent e = new ChatEvent(Kind.of(kindCode), kindCode, conv, author, device, hlc, parents, target, users, text, sig);
            byte[] id = sha256(Arrays.copyOf(bytes, canonicalEnd));
            return new Decoded(e, id, bytes);
        } catch (java.nio.BufferUnderflowException e) {
            throw new WireFormatException("event is truncated");
        }
    }

    private static byte[] take(ByteBuffer b, int n) {
        byte[] out = new byte[n];
        b.get(out);
        return out;
    }

    private static void fixed(ByteBuffer b, byte[] v, int n, String what) {
        if (v == null || v.length != n) throw new IllegalArgumentException(what + " must be " + n + " bytes");
        b.put(v);
    }

    private static void str8(ByteBuffer b, String s) {
        byte[] u = s.getBytes(StandardCharsets.UTF_8);
        if (u.length == 0 || u.length > MAX_USER_BYTES) throw new IllegalArgumentException("user name must be 1.." + MAX_USER_BYTES + " bytes");
        b.put((byte) u.length).put(u);
    }

    private static String str8(ByteBuffer b) throws WireFormatException {
        int n = b.get() & 0xff;
        if (n == 0 || n > MAX_USER_BYTES) throw new WireFormatException("user name of " + n + " bytes in event");
        return utf8(take(b, n));
    }

    private static String utf8(byte[] u) throws WireFormatException {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(u)).toString();
        } catch (CharacterCodingException e) {
            throw new WireFormatException("event text is not valid UTF-8");
        }
    }

    public static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ChatEvent c && Arrays.equals(encode(), c.encode());
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(canonicalBytes());
    }

    @Override
    public String toString() {
        return "ChatEvent[" + kind + " by " + author + " hlc=" + hlc + " text=" + text + "]";
    }
}
