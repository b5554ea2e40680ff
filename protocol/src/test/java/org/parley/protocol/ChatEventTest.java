package org.parley.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.parley.protocol.ChatEvent.Kind;

class ChatEventTest {

    // ------------------------------------------------------------------ helpers

    static byte[] bytes(int n, int seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    static final byte[] CONV = bytes(ChatEvent.CONVERSATION_BYTES, 1);
    static final byte[] GROUP = new byte[ChatEvent.CONVERSATION_BYTES];
    static final byte[] DEVICE = bytes(ChatEvent.DEVICE_BYTES, 2);
    static final byte[] TARGET = bytes(ChatEvent.ID_BYTES, 3);
    static final List<byte[]> PARENTS = List.of(bytes(ChatEvent.ID_BYTES, 4), bytes(ChatEvent.ID_BYTES, 5));
    static final long HLC = 1_700_000_000_000L << 16 | 7;

    static byte[] sha256(byte[] b) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(b);
    }

    /** A plausible signed event of each kind. */
    static ChatEvent sample(Kind kind) {
        byte[] sig = bytes(71, 10 + kind.ordinal());
        ChatEvent e = switch (kind) {
            case CREATE -> ChatEvent.unsigned(kind, GROUP, "alice", DEVICE, HLC, List.of(), null,
                    List.of("alice", "bob", "carol"), "Weekend trip ⛰");
            case MESSAGE -> ChatEvent.unsigned(kind, CONV, "alice", DEVICE, HLC, PARENTS, null, List.of(), "héllo 👋 世界");
            case EDIT -> ChatEvent.unsigned(kind, CONV, "alice", DEVICE, HLC, PARENTS.subList(0, 1), TARGET, List.of(), "hello, fixed");
            case DELETE -> ChatEvent.unsigned(kind, CONV, "alice", DEVICE, HLC, PARENTS, TARGET, List.of(), "");
            case REACTION -> ChatEvent.unsigned(kind, CONV, "bøb", DEVICE, HLC, PARENTS, TARGET, List.of(), "👍🏽");
            case ADD -> ChatEvent.unsigned(kind, CONV, "alice", DEVICE, HLC, PARENTS, null, List.of("dave", "ève"), "");
            case REMOVE -> ChatEvent.unsigned(kind, CONV, "alice", DEVICE, HLC, PARENTS, null, List.of("bob"), "");
            case LEAVE -> ChatEvent.unsigned(kind, CONV, "carol", DEVICE, HLC, PARENTS, null, List.of(), "");
            case RENAME -> ChatEvent.unsigned(kind, CONV, "alice", DEVICE, HLC, PARENTS, null, List.of(), "New name");
            case READ -> ChatEvent.unsigned(kind, CONV, "bob", DEVICE, HLC, PARENTS, TARGET, List.of(), null);
            case UNKNOWN -> ChatEvent.unsigned(kind, CONV, "alice", DEVICE, HLC, PARENTS, TARGET, List.of("x"), "future");
        };
        return e.withSignature(sig);
    }

    static Stream<ChatEvent> samples() {
        return Stream.concat(Arrays.stream(Kind.values()).map(ChatEventTest::sample), Stream.of(
                // unsigned, 1:1 CREATE, a 64-byte Ed25519-sized signature, an event at the largest size
                sample(Kind.MESSAGE).withSignature(new byte[0]),
                ChatEvent.unsigned(Kind.CREATE, CONV, "alice", DEVICE, 0, List.of(), null, List.of("alice", "bob"), ""),
                sample(Kind.MESSAGE).withSignature(bytes(64, 99)),
                largest()));
    }

    /** An event with every field at its limit: exactly {@link ChatEvent#MAX_EVENT_BYTES} encoded. */
    static ChatEvent largest() {
        String name = "n".repeat(ChatEvent.MAX_USER_BYTES);
        List<byte[]> parents = IntStream.range(0, ChatEvent.MAX_PARENTS).mapToObj(i -> bytes(32, 1000 + i)).toList();
        List<String> users = IntStream.range(0, ChatEvent.MAX_USERS)
                .mapToObj(i -> String.format("%0" + ChatEvent.MAX_USER_BYTES + "d", i)).toList();
        return new ChatEvent(Kind.UNKNOWN, 255, CONV, name, DEVICE, Long.MAX_VALUE, parents, TARGET, users,
                "€".repeat(Limits.MAX_TEXT_BYTES / 3) + "a".repeat(Limits.MAX_TEXT_BYTES % 3),
                bytes(Limits.MAX_SIGNATURE_BYTES, 6));
    }

    static void assertRejected(byte[] encoded) {
        assertThatThrownBy(() -> ChatEvent.decode(encoded)).isInstanceOf(WireFormatException.class);
    }

    /**
     * A hand-made event in the canonical layout, every length overridable, for building invalid events.
     * Defaults make a valid MESSAGE.
     */
    static final class Raw {
        int format = ChatEvent.FORMAT;
        int kind = Kind.MESSAGE.code;
        byte[] conversation = CONV;
        byte[] author = "alice".getBytes(StandardCharsets.UTF_8);
        Integer authorLength;
        byte[] device = DEVICE;
        long hlc = HLC;
        List<byte[]> parents = PARENTS;
        Integer parentCount;
        byte[] target = new byte[0];
        Integer targetLength;
        List<byte[]> users = List.of();
        Integer userCount;
        byte[] text = "hi".getBytes(StandardCharsets.UTF_8);
        Integer textLength;
        byte[] signature = bytes(71, 7);
        Integer signatureLength;
        byte[] trailing = new byte[0];

        Raw set(java.util.function.Consumer<Raw> c) {
            c.accept(this);
            return this;
        }

        byte[] encode() {
            ByteArrayOutputStream o = new ByteArrayOutputStream();
            o.write(format);
            o.write(kind);
            o.writeBytes(conversation);
            o.write(authorLength != null ? authorLength : author.length);
            o.writeBytes(author);
            o.writeBytes(device);
            o.writeBytes(ByteBuffer.allocate(8).putLong(hlc).array());
            o.write(parentCount != null ? parentCount : parents.size());
            parents.forEach(o::writeBytes);
            o.write(targetLength != null ? targetLength : target.length);
            o.writeBytes(target);
            o.write(userCount != null ? userCount : users.size());
            for (byte[] u : users) {
                o.write(u.length);
                o.writeBytes(u);
            }
            int tl = textLength != null ? textLength : text.length;
            o.write(tl >>> 8);
            o.write(tl);
            o.writeBytes(text);
            o.write(signatureLength != null ? signatureLength : signature.length);
            o.writeBytes(signature);
            o.writeBytes(trailing);
            return o.toByteArray();
        }
    }

    // ------------------------------------------------------------------ round trips

    @ParameterizedTest
    @EnumSource(Kind.class)
    void roundTripsEveryKind(Kind kind) throws Exception {
        ChatEvent e = sample(kind);
        byte[] enc = e.encode();
        ChatEvent.Decoded d = ChatEvent.decode(enc);
        ChatEvent back = d.event();

        assertThat(back.canonicalBytes()).isEqualTo(e.canonicalBytes());
        assertThat(back.encode()).isEqualTo(enc);
        assertThat(d.encoded()).isEqualTo(enc);
        assertThat(back).isEqualTo(e);
        assertThat(back.kind()).isEqualTo(kind);
        assertThat(back.kindCode()).isEqualTo(kind.code);
        // the id is SHA-256 of the canonical bytes, both as decoded and as computed from the event
        assertThat(d.id()).isEqualTo(sha256(e.canonicalBytes())).hasSize(ChatEvent.ID_BYTES);
        assertThat(e.id()).isEqualTo(d.id());
        assertThat(back.id()).isEqualTo(d.id());
        // the signature survives, and is not part of the canonical bytes
        assertThat(back.signature()).isEqualTo(e.signature()).hasSize(71);
        assertThat(enc).hasSize(e.canonicalBytes().length + 1 + e.signature().length);
        assertThat(Arrays.copyOf(enc, e.canonicalBytes().length)).isEqualTo(e.canonicalBytes());
        // every field
        assertThat(back.conversation()).isEqualTo(e.conversation());
        assertThat(back.author()).isEqualTo(e.author());
        assertThat(back.device()).isEqualTo(DEVICE);
        assertThat(back.deviceHex()).isEqualTo(HexFormat.of().formatHex(DEVICE));
        assertThat(back.hlc()).isEqualTo(HLC);
        assertThat(back.parents()).hasSameSizeAs(e.parents());
        for (int i = 0; i < e.parents().size(); i++) assertThat(back.parents().get(i)).isEqualTo(e.parents().get(i));
        assertThat(back.target()).isEqualTo(e.target());
        assertThat(back.users()).isEqualTo(e.users());
        assertThat(back.text()).isEqualTo(e.text());
    }

    @ParameterizedTest
    @MethodSource("samples")
    void decodeThenEncodeIsTheIdentity(ChatEvent e) throws Exception {
        byte[] enc = e.encode();
        ChatEvent.Decoded d = ChatEvent.decode(enc);
        assertThat(d.event().encode()).isEqualTo(enc);
        assertThat(d.id()).isEqualTo(sha256(e.canonicalBytes()));
        assertThat(d.event().signature()).isEqualTo(e.signature());
    }

    @Test
    void theLargestEventIsExactlyMaxEventBytes() throws Exception {
        byte[] enc = largest().encode();
        assertThat(enc).hasSize(ChatEvent.MAX_EVENT_BYTES);
        assertThat(ChatEvent.decode(enc).event().encode()).isEqualTo(enc);
        assertRejected(Arrays.copyOf(enc, enc.length + 1));
    }

    @Test
    void theSignatureDoesNotChangeTheId() {
        ChatEvent e = sample(Kind.MESSAGE);
        assertThat(e.withSignature(new byte[0]).id()).isEqualTo(e.id());
        assertThat(e.withSignature(bytes(64, 1)).id()).isEqualTo(e.id());
        assertThat(e.withSignature(bytes(64, 1)).canonicalBytes()).isEqualTo(e.canonicalBytes());
        assertThat(e.withSignature(bytes(64, 1)).encode()).isNotEqualTo(e.encode());
    }

    @Test
    void handMadeLayoutMatchesTheDocumentedOne() throws Exception {
        // the default Raw is the same event as this one, byte for byte
        ChatEvent e = ChatEvent.unsigned(Kind.MESSAGE, CONV, "alice", DEVICE, HLC, PARENTS, null, List.of(), "hi")
                .withSignature(bytes(71, 7));
        assertThat(new Raw().encode()).isEqualTo(e.encode());
        assertThat(ChatEvent.decode(new Raw().encode()).event()).isEqualTo(e);
        byte[] c = e.canonicalBytes();
        assertThat(c[0]).isEqualTo((byte) ChatEvent.FORMAT);
        assertThat(c[1]).isEqualTo((byte) Kind.MESSAGE.code);
        assertThat(Arrays.copyOfRange(c, 2, 18)).isEqualTo(CONV);
        assertThat(c[18]).isEqualTo((byte) 5);
        assertThat(Arrays.copyOfRange(c, c.length - 4, c.length)).containsExactly(0, 2, 'h', 'i');
    }

    // ------------------------------------------------------------------ unknown kinds

    @Test
    void unknownKindCodeIsKeptAndReEncodedByteExactly() throws Exception {
        ChatEvent e = new ChatEvent(Kind.UNKNOWN, 200, CONV, "alice", DEVICE, HLC, PARENTS, TARGET,
                List.of("bob"), "something new", bytes(71, 8));
        byte[] enc = e.encode();
        assertThat(enc[1]).isEqualTo((byte) 200);
        ChatEvent.Decoded d = ChatEvent.decode(enc);
        assertThat(d.event().kind()).isEqualTo(Kind.UNKNOWN);
        assertThat(d.event().kindCode()).isEqualTo(200);
        assertThat(d.event().encode()).isEqualTo(enc);
        assertThat(d.id()).isEqualTo(sha256(e.canonicalBytes()));

        // the same from a known event whose kind byte a newer version set to 200
        byte[] msg = sample(Kind.MESSAGE).encode();
        msg[1] = (byte) 200;
        ChatEvent.Decoded m = ChatEvent.decode(msg);
        assertThat(m.event().kind()).isEqualTo(Kind.UNKNOWN);
        assertThat(m.event().kindCode()).isEqualTo(200);
        assertThat(m.event().encode()).isEqualTo(msg);
        assertThat(m.id()).isEqualTo(sha256(Arrays.copyOf(msg, msg.length - 72)));
    }

    @Test
    void everyKindCodeDecodesToItsKindAndReEncodes() throws Exception {
        byte[] base = sample(Kind.DELETE).encode();
        for (int code = 0; code < 256; code++) {
            byte[] b = base.clone();
            b[1] = (byte) code;
            ChatEvent e = ChatEvent.decode(b).event();
            assertThat(e.kindCode()).isEqualTo(code);
            Kind expected = code >= 1 && code <= 10 ? Kind.values()[code - 1] : Kind.UNKNOWN;
            assertThat(e.kind()).as("code " + code).isEqualTo(expected).isEqualTo(Kind.of(code));
            assertThat(e.encode()).isEqualTo(b);
        }
        for (Kind k : Kind.values()) if (k != Kind.UNKNOWN) assertThat(Kind.of(k.code)).isEqualTo(k);
        assertThat(Kind.MESSAGE.wireName()).isEqualTo("message");
    }

    // ------------------------------------------------------------------ conversation ids

    @Test
    void groupCreateConversationIdIsTheFirst16BytesOfItsId() throws Exception {
        ChatEvent create = sample(Kind.CREATE);
        assertThat(create.conversation()).isEqualTo(GROUP);
        assertThat(create.isGroupCreate()).isTrue();
        assertThat(create.conversationId()).isEqualTo(Arrays.copyOf(create.id(), 16))
                .isEqualTo(Arrays.copyOf(sha256(create.canonicalBytes()), 16)).hasSize(ChatEvent.CONVERSATION_BYTES);
        // the same after decoding, and independent of the signature
        ChatEvent back = ChatEvent.decode(create.encode()).event();
        assertThat(back.isGroupCreate()).isTrue();
        assertThat(back.conversationId()).isEqualTo(create.conversationId());
        assertThat(create.withSignature(bytes(64, 3)).conversationId()).isEqualTo(create.conversationId());
        // any other field changes the group's id
        ChatEvent other = ChatEvent.unsigned(Kind.CREATE, GROUP, "alice", DEVICE, HLC + 1, List.of(), null,
                List.of("alice", "bob", "carol"), "Weekend trip ⛰");
        assertThat(other.conversationId()).isNotEqualTo(create.conversationId());
    }

    @Test
    void otherEventsBelongToTheirConversationField() {
        ChatEvent oneToOne = ChatEvent.unsigned(Kind.CREATE, CONV, "alice", DEVICE, HLC, List.of(), null, List.of("bob"), "");
        assertThat(oneToOne.isGroupCreate()).isFalse();
        assertThat(oneToOne.conversationId()).isEqualTo(CONV);
        assertThat(sample(Kind.MESSAGE).conversationId()).isEqualTo(CONV);
        // a zero conversation on anything but CREATE is not a group creation
        ChatEvent zero = ChatEvent.unsigned(Kind.MESSAGE, GROUP, "alice", DEVICE, HLC, PARENTS, null, List.of(), "x");
        assertThat(zero.isGroupCreate()).isFalse();
        assertThat(zero.conversationId()).isEqualTo(GROUP);
        // the returned id is a copy
        byte[] id = sample(Kind.MESSAGE).conversationId();
        id[0] ^= 1;
        assertThat(sample(Kind.MESSAGE).conversationId()).isEqualTo(CONV);
    }

    // ------------------------------------------------------------------ text

    @Test
    void unicodeTextRoundTripsByteExactly() throws Exception {
        String text = "Grüße, 世界! 👋🏽 \u0000 tab\t newline\n \uFFFD";
        ChatEvent e = ChatEvent.unsigned(Kind.MESSAGE, CONV, "ålice", DEVICE, HLC, PARENTS, null, List.of(), text);
        byte[] c = e.canonicalBytes();
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        assertThat(Arrays.copyOfRange(c, c.length - utf8.length, c.length)).isEqualTo(utf8);
        assertThat(ByteBuffer.wrap(c, c.length - utf8.length - 2, 2).getShort()).isEqualTo((short) utf8.length);
        ChatEvent back = ChatEvent.decode(e.encode()).event();
        assertThat(back.text()).isEqualTo(text);
        assertThat(back.author()).isEqualTo("ålice");
        assertThat(back).isEqualTo(e);
    }

    static Stream<String> textsOfExactlyMaxBytes() {
        int max = Limits.MAX_TEXT_BYTES;
        return Stream.of(
                "a".repeat(max),
                "é".repeat(max / 2),                                      // 2-byte
                "€".repeat(max / 3) + "a".repeat(max % 3),                // 3-byte: 5461 * 3 + 1
                "👋".repeat(max / 4),                                      // 4-byte (surrogate pairs)
                "a".repeat(max - 4) + "👋");
    }

    @ParameterizedTest
    @MethodSource("textsOfExactlyMaxBytes")
    void textOfExactlyMaxBytesIsAccepted(String text) throws Exception {
        assertThat(text.getBytes(StandardCharsets.UTF_8)).hasSize(Limits.MAX_TEXT_BYTES);
        ChatEvent e = ChatEvent.unsigned(Kind.MESSAGE, CONV, "alice", DEVICE, HLC, PARENTS, null, List.of(), text)
                .withSignature(bytes(71, 9));
        ChatEvent.Decoded d = ChatEvent.decode(e.encode());
        assertThat(d.event().text()).isEqualTo(text);
        assertThat(d.event().encode()).isEqualTo(e.encode());
    }

    static Stream<String> textsOneByteOver() {
        int max = Limits.MAX_TEXT_BYTES;
        return Stream.of(
                "a".repeat(max + 1),
                "a".repeat(max - 1) + "é",                                // 16383 + 2
                "a".repeat(max - 2) + "€",                                // 16382 + 3
                "a".repeat(max - 3) + "👋",                                // 16381 + 4
                "é".repeat(max / 2) + "a");
    }

    @ParameterizedTest
    @MethodSource("textsOneByteOver")
    void textOneByteOverTheLimitIsRejectedByCanonicalBytes(String text) {
        assertThat(text.getBytes(StandardCharsets.UTF_8)).hasSize(Limits.MAX_TEXT_BYTES + 1);
        ChatEvent e = ChatEvent.unsigned(Kind.MESSAGE, CONV, "alice", DEVICE, HLC, PARENTS, null, List.of(), text);
        assertThatThrownBy(e::canonicalBytes).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(e::encode).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(e::id).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void decodeRejectsATextLengthOverTheLimit() {
        byte[] text = "a".repeat(Limits.MAX_TEXT_BYTES + 1).getBytes(StandardCharsets.US_ASCII);
        assertRejected(new Raw().set(r -> r.text = text).encode());
        assertRejected(new Raw().set(r -> r.textLength = 0xffff).encode());
        // and one that runs past the end
        assertRejected(new Raw().set(r -> r.textLength = 100).encode());
    }

    // ------------------------------------------------------------------ encode-side checks

    @Test
    void canonicalBytesRejectsWhatDecodeWouldReject() {
        ChatEvent ok = sample(Kind.MESSAGE);
        List<ChatEvent> bad = List.of(
                new ChatEvent(Kind.MESSAGE, 2, new byte[15], "a", DEVICE, 1, List.of(), null, List.of(), "", null),
                new ChatEvent(Kind.MESSAGE, 2, CONV, "a", new byte[17], 1, List.of(), null, List.of(), "", null),
                new ChatEvent(Kind.MESSAGE, 2, CONV, "", DEVICE, 1, List.of(), null, List.of(), "", null),
                new ChatEvent(Kind.MESSAGE, 2, CONV, "é".repeat(33), DEVICE, 1, List.of(), null, List.of(), "", null),
                new ChatEvent(Kind.MESSAGE, 2, CONV, "a", DEVICE, 1, List.of(new byte[31]), null, List.of(), "", null),
                new ChatEvent(Kind.MESSAGE, 2, CONV, "a", DEVICE, 1,
                        IntStream.rangeClosed(0, ChatEvent.MAX_PARENTS).mapToObj(i -> new byte[32]).toList(), null, List.of(), "", null),
                new ChatEvent(Kind.EDIT, 3, CONV, "a", DEVICE, 1, List.of(), new byte[16], List.of(), "", null),
                new ChatEvent(Kind.ADD, 6, CONV, "a", DEVICE, 1, List.of(), null, List.of("ok", ""), "", null),
                new ChatEvent(Kind.ADD, 6, CONV, "a", DEVICE, 1, List.of(), null,
                        IntStream.rangeClosed(0, ChatEvent.MAX_USERS).mapToObj(i -> "u" + i).toList(), "", null));
        for (ChatEvent e : bad) {
            assertThatThrownBy(e::canonicalBytes).as(e.toString()).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> ok.withSignature(new byte[Limits.MAX_SIGNATURE_BYTES + 1]).encode())
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(ok.withSignature(new byte[Limits.MAX_SIGNATURE_BYTES]).encode()).isNotEmpty();
    }

    // ------------------------------------------------------------------ decode rejections

    @ParameterizedTest
    @MethodSource("samples")
    void everyTruncationIsRejected(ChatEvent e) {
        byte[] enc = e.encode();
        for (int cut = 0; cut < enc.length; cut++) {
            byte[] t = Arrays.copyOf(enc, cut);
            try {
                ChatEvent.decode(t);
                fail("decoded an event truncated to " + cut + " of " + enc.length + " bytes: " + e);
            } catch (WireFormatException expected) {
                // ok
            } catch (RuntimeException x) {
                fail("cut " + cut + " of " + e + " threw " + x, x);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 2, 3, 0x7f, 0x80, 0xff})
    void wrongFormatIsRejected(int format) {
        assertRejected(new Raw().set(r -> r.format = format).encode());
        byte[] enc = sample(Kind.MESSAGE).encode();
        enc[0] = (byte) format;
        assertRejected(enc);
    }

    @Test
    void moreThanMaxParentsIsRejected() throws Exception {
        List<byte[]> over = IntStream.rangeClosed(0, ChatEvent.MAX_PARENTS).mapToObj(i -> bytes(32, i)).toList();
        assertRejected(new Raw().set(r -> r.parents = over).encode());
        assertRejected(new Raw().set(r -> { r.parents = List.of(); r.parentCount = 255; }).encode());
        List<byte[]> max = over.subList(0, ChatEvent.MAX_PARENTS);
        assertThat(ChatEvent.decode(new Raw().set(r -> r.parents = max).encode()).event().parents()).hasSize(ChatEvent.MAX_PARENTS);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 16, 31, 33, 64, 255})
    void targetLengthOtherThanZeroOr32IsRejected(int length) throws Exception {
        assertRejected(new Raw().set(r -> r.target = bytes(length, length)).encode());
        assertThat(ChatEvent.decode(new Raw().set(r -> r.target = TARGET).encode()).event().target()).isEqualTo(TARGET);
        assertThat(ChatEvent.decode(new Raw().encode()).event().target()).isEmpty();
    }

    @Test
    void userNamesOfZeroOrOver64BytesAreRejected() throws Exception {
        byte[] name65 = "a".repeat(ChatEvent.MAX_USER_BYTES + 1).getBytes(StandardCharsets.US_ASCII);
        byte[] name64 = Arrays.copyOf(name65, ChatEvent.MAX_USER_BYTES);
        // the author
        assertRejected(new Raw().set(r -> r.author = new byte[0]).encode());
        assertRejected(new Raw().set(r -> r.author = name65).encode());
        assertRejected(new Raw().set(r -> { r.author = name65; r.authorLength = 255; }).encode());
        assertThat(ChatEvent.decode(new Raw().set(r -> r.author = name64).encode()).event().author())
                .hasSize(ChatEvent.MAX_USER_BYTES);
        // a named user
        byte[] bob = "bob".getBytes(StandardCharsets.US_ASCII);
        assertRejected(new Raw().set(r -> r.users = List.of(bob, new byte[0])).encode());
        assertRejected(new Raw().set(r -> r.users = List.of(name65, bob)).encode());
        assertThat(ChatEvent.decode(new Raw().set(r -> r.users = List.of(name64, bob)).encode()).event().users())
                .containsExactly(new String(name64, StandardCharsets.US_ASCII), "bob");
    }

    @Test
    void moreThanMaxUsersIsRejected() throws Exception {
        List<byte[]> over = IntStream.rangeClosed(0, ChatEvent.MAX_USERS)
                .mapToObj(i -> ("u" + i).getBytes(StandardCharsets.US_ASCII)).toList();
        assertRejected(new Raw().set(r -> r.users = over).encode());
        assertRejected(new Raw().set(r -> { r.users = List.of(); r.userCount = 255; }).encode());
        assertThat(ChatEvent.decode(new Raw().set(r -> r.users = over.subList(0, ChatEvent.MAX_USERS)).encode()).event().users())
                .hasSize(ChatEvent.MAX_USERS);
    }

    static Stream<byte[]> invalidUtf8() {
        return Stream.of(
                new byte[] {(byte) 0xc3, 0x28},                    // bad continuation
                new byte[] {(byte) 0x80},                          // lone continuation
                new byte[] {(byte) 0xc0, (byte) 0x80},             // overlong NUL
                new byte[] {(byte) 0xe0, (byte) 0x80, (byte) 0xaf},// overlong '/'
                new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80},// encoded surrogate
                new byte[] {(byte) 0xf4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, // above U+10FFFF
                new byte[] {(byte) 0xff},
                new byte[] {'o', 'k', (byte) 0xe2, (byte) 0x82});  // truncated sequence
    }

    @ParameterizedTest
    @MethodSource("invalidUtf8")
    void invalidUtf8IsRejected(byte[] bad) {
        assertRejected(new Raw().set(r -> r.text = bad).encode());
        assertRejected(new Raw().set(r -> r.author = bad).encode());
        assertRejected(new Raw().set(r -> r.users = List.of(bad)).encode());
        assertThatThrownBy(() -> ChatEvent.decode(new Raw().set(r -> r.text = bad).encode()))
                .isInstanceOf(WireFormatException.class).hasMessageContaining("UTF-8");
    }

    @ParameterizedTest
    @ValueSource(ints = {Limits.MAX_SIGNATURE_BYTES + 1, 200, 255})
    void signatureLongerThanTheLimitIsRejected(int length) throws Exception {
        assertRejected(new Raw().set(r -> r.signature = bytes(length, length)).encode());
        // even when its claimed length is all there is
        assertRejected(new Raw().set(r -> { r.signature = new byte[0]; r.signatureLength = length; }).encode());
        byte[] max = bytes(Limits.MAX_SIGNATURE_BYTES, 1);
        assertThat(ChatEvent.decode(new Raw().set(r -> r.signature = max).encode()).event().signature()).isEqualTo(max);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 32, 1000})
    void trailingBytesAreRejected(int n) {
        assertRejected(new Raw().set(r -> r.trailing = new byte[n]).encode());
        byte[] enc = sample(Kind.REACTION).encode();
        assertRejected(Arrays.copyOf(enc, enc.length + n));
        // a signature shorter than its content: the rest is trailing
        assertRejected(new Raw().set(r -> r.signatureLength = r.signature.length - n % 71 - 1).encode());
    }

    @ParameterizedTest
    @ValueSource(longs = {-1, Long.MIN_VALUE, -(1L << 48)})
    void negativeHlcIsRejected(long hlc) throws Exception {
        assertRejected(new Raw().set(r -> r.hlc = hlc).encode());
        assertThat(ChatEvent.decode(new Raw().set(r -> r.hlc = 0).encode()).event().hlc()).isZero();
        assertThat(ChatEvent.decode(new Raw().set(r -> r.hlc = Long.MAX_VALUE).encode()).event().hlc()).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void oversizedAndEmptyInputsAreRejected() {
        assertRejected(new byte[0]);
        assertRejected(new byte[] {1});
        assertRejected(new byte[ChatEvent.MAX_EVENT_BYTES + 1]);
        byte[] huge = new byte[1 << 20];
        huge[0] = 1;
        assertRejected(huge);
    }

    // ------------------------------------------------------------------ fuzzing

    /** Decodes; returns normally only for a decoded event (which must re-encode byte-exactly) or a WireFormatException. */
    private static boolean decodeOnlyEventsOrWireFormatErrors(byte[] input, String what) {
        ChatEvent.Decoded d;
        try {
            d = ChatEvent.decode(input);
        } catch (WireFormatException e) {
            assertThat(e.getMessage()).as("message of " + what).isNotBlank();
            return false;
        } catch (Throwable t) {
            throw new AssertionError(what + " threw " + t + " for input " + hex(input), t);
        }
        try {
            assertThat(d.event().encode()).as(what + " re-encodes byte-exactly").isEqualTo(input);
            assertThat(d.id()).as(what + " id").isEqualTo(sha256(d.event().canonicalBytes()));
        } catch (Exception e) {
            throw new AssertionError(what + ": decoded event does not re-encode: " + d.event(), e);
        }
        return true;
    }

    private static String hex(byte[] b) {
        String h = HexFormat.of().formatHex(b, 0, Math.min(b.length, 96));
        return b.length > 96 ? h + "...(" + b.length + " bytes)" : h;
    }

    @Test
    void fuzzRandomBytes() {
        Random rnd = new Random(0x5EED_C0DEL);
        for (int i = 0; i < 5_000; i++) {
            byte[] b = new byte[rnd.nextInt(160)];
            rnd.nextBytes(b);
            if (b.length > 0 && rnd.nextBoolean()) b[0] = ChatEvent.FORMAT;
            // bias towards small counts and lengths so that decoding gets further
            for (int j = 0; j < b.length; j++) if (rnd.nextInt(3) == 0) b[j] = (byte) rnd.nextInt(4);
            decodeOnlyEventsOrWireFormatErrors(b, "random bytes #" + i);
        }
    }

    @Test
    void fuzzSingleByteMutationsOfValidEvents() {
        Random rnd = new Random(0x5EED_C0DFL);
        List<byte[]> seeds = new ArrayList<>();
        for (Kind k : Kind.values()) seeds.add(sample(k).encode());
        seeds.add(largest().encode());
        int decoded = 0;
        for (int i = 0; i < 5_000; i++) {
            byte[] m = seeds.get(rnd.nextInt(seeds.size())).clone();
            int at = rnd.nextInt(m.length);
            if (rnd.nextBoolean()) m[at] ^= (byte) (1 << rnd.nextInt(8));
            else m[at] = (byte) rnd.nextInt(256);
            if (decodeOnlyEventsOrWireFormatErrors(m, "mutation #" + i + " at " + at)) decoded++;
        }
        // many mutations (in ids, text, signature) still decode; the property must hold for them too
        assertThat(decoded).isGreaterThan(500);
    }
}
