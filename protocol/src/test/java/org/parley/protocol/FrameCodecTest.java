package org.parley.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class FrameCodecTest {

    // ------------------------------------------------------------------ helpers

    static byte[] bytes(int n, int seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    static DeviceRecord device(String id, List<String> locals, byte[] cert) {
        return new DeviceRecord(id, "alice", "online", "203.0.113.7:40000", locals, cert, 1_700_000_000_000L);
    }

    /** Small frames of every encodable type (used for exhaustive truncation and mutation). */
    static List<Frame> smallFrames() {
        return List.of(
                new Frame.Hello(1, "online", List.of("10.0.0.2:5000", "[fe80::1]:5000")),
                new Frame.Hello(0, "", List.of()),
                new Frame.Welcome("sn-eu-1", "203.0.113.7:40000", 1_700_000_000_123L, 15_000),
                new Frame.Redirect(2_000, List.of("sn2.example:7000", "sn3.example:7000"), "over capacity"),
                new Frame.Redirect(0, List.of(), ""),
                new Frame.Error(42L, ErrorCode.NOT_FOUND.code, "no such user"),
                new Frame.Error(0L, ErrorCode.INTERNAL.code, ""),
                new Frame.Ping(0x0102030405060708L),
                new Frame.Pong(-1L),
                new Frame.Resolve(7L, "alice"),
                new Frame.Resolved(7L, "alice", List.of(
                        device("00112233445566778899aabbccddeeff", List.of("10.0.0.2:5000"), bytes(40, 1)),
                        device("ffeeddccbbaa99887766554433221100", List.of(), new byte[0]))),
                new Frame.Resolved(8L, "bob", List.of()),
                new Frame.Route(9L, "00112233445566778899aabbccddeeff", bytes(33, 2)),
                new Frame.Route(10L, "", new byte[0]),
                new Frame.Routed(9L),
                new Frame.Deliver("00112233445566778899aabbccddeeff", bytes(20, 3), bytes(30, 4)),
                new Frame.Deliver("", new byte[0], new byte[0]),
                new Frame.SetPresence("away"),
                new Frame.SetPresence(""),
                new Frame.Subscribe(List.of("alice", "bob", "carol")),
                new Frame.Subscribe(List.of()),
                new Frame.PresenceEvent("alice", "00112233445566778899aabbccddeeff", "online", true),
                new Frame.PresenceEvent("alice", "00112233445566778899aabbccddeeff", "offline", false),
                new Frame.EventPush(0L, List.of(event(1, "héllo 👋 世界").encode(), event(2, "").encode()), List.of(bytes(40, 13))),
                new Frame.EventPush(77L, List.of(), List.of()),
                new Frame.EventAck(List.of(event(1, "héllo").id(), bytes(ChatEvent.ID_BYTES, 14))),
                new Frame.EventAck(List.of()),
                new Frame.SyncHello(5L, false, List.of(
                        new Frame.ConversationDigest(bytes(16, 15), 3, bytes(Limits.SYNC_FINGERPRINT_BYTES, 16)),
                        new Frame.ConversationDigest(new byte[16], 0, new byte[Limits.SYNC_FINGERPRINT_BYTES]))),
                new Frame.SyncHello(5L, true, List.of()),
                new Frame.SyncRange(5L, bytes(16, 15), bytes(40, 17)),
                new Frame.SyncRange(-1L, new byte[16], new byte[0]),
                new Frame.Connect("00112233445566778899aabbccddeeff", false, "198.51.100.1:4433", List.of("10.0.0.2:4433", "[2001:db8::1]:4433")),
                new Frame.Connect("00112233445566778899aabbccddeeff", true, "", List.of()),
                new Frame.CallInvite(bytes(Limits.CALL_ID_BYTES, 60), "alice", "00112233445566778899aabbccddeeff", true, "opus/48000/1"),
                new Frame.CallInvite(bytes(Limits.CALL_ID_BYTES, 61), "", "", false, ""),
                new Frame.CallRinging(bytes(Limits.CALL_ID_BYTES, 62)),
                new Frame.CallAnswer(bytes(Limits.CALL_ID_BYTES, 63)),
                new Frame.CallSelect(bytes(Limits.CALL_ID_BYTES, 64), "ffeeddccbbaa99887766554433221100"),
                new Frame.CallReject(bytes(Limits.CALL_ID_BYTES, 65), CallReason.BUSY.code),
                new Frame.CallCancel(bytes(Limits.CALL_ID_BYTES, 66), CallReason.ANSWERED_ELSEWHERE.code),
                new Frame.CallHangup(bytes(Limits.CALL_ID_BYTES, 67), 999),
                new Frame.RelayOpen(7, "00112233445566778899aabbccddeeff"),
                new Frame.RelayAllocated(7, 99, "198.51.100.7:7701", new byte[16]),
                new Frame.RelayOffer(99, "00112233445566778899aabbccddeeff", "198.51.100.7:7701", new byte[16]),
                new Frame.Route(11L, "00112233445566778899aabbccddeeff", bytes(5, 8), "198.51.100.9:7700"),
                new Frame.RelayOpen(8, "00112233445566778899aabbccddeeff", "198.51.100.9:7700"),
                new Frame.Welcome("sn-eu-2", "203.0.113.7:40000", 1L, 10_000, List.of("198.51.100.9:7700", "198.51.100.10:7700")),
                new Frame.Publish(12L, signedLike("00112233445566778899aabbccddeeff")),
                new Frame.Published(12L, 8),
                new Frame.Busy(13L, 1500, List.of("198.51.100.9:7700"), "lookup rate at capacity"),
                new Frame.DialBack(14L, "198.51.100.20:7700"),
                new Frame.DialBackResult(14L, 2, 3),
                new Frame.FindNode(15L, contact(1), bytes(32, 9)),
                new Frame.Nodes(15L, contact(2), List.of(contact(3), contact(4))),
                new Frame.FindValue(16L, contact(5), bytes(32, 10), "alice"),
                new Frame.Values(16L, contact(6), "alice", List.of(signedLike("00112233445566778899aabbccddeeff")), List.of(contact(7))),
                new Frame.Values(17L, contact(6), "bob", List.of(), List.of()),
                new Frame.Store(18L, contact(8), List.of(signedLike("00112233445566778899aabbccddeeff"), signedLike("ffeeddccbbaa99887766554433221100"))),
                new Frame.Stored(18L, contact(9), 2),
                new Frame.OverlayPing(19L, contact(10)),
                new Frame.OverlayPong(19L, contact(11)),
                new Frame.Forward("00112233445566778899aabbccddeeff", FrameCodec.encode(new Frame.Deliver("a", bytes(3, 1), bytes(4, 2)))));
    }

    /** A signed-looking MESSAGE event whose encoded size depends only on the text. */
    static ChatEvent event(int seed, String text) {
        return ChatEvent.unsigned(ChatEvent.Kind.MESSAGE, bytes(ChatEvent.CONVERSATION_BYTES, 200 + seed), "alice",
                        bytes(ChatEvent.DEVICE_BYTES, 300 + seed), 1_700_000_000_000L << 16 | seed,
                        List.of(bytes(ChatEvent.ID_BYTES, 400 + seed)), new byte[0], List.of(), text)
                .withSignature(bytes(71, 500 + seed));
    }

    /** An EventPush of real events and certificates whose payload fills the frame limit (to within one event header). */
    static Frame.EventPush eventPushNearTheLimit() {
        List<byte[]> certs = List.of(bytes(Limits.MAX_CERTIFICATE_BYTES, 20), bytes(1200, 21));
        int room = Limits.MAX_FRAME_PAYLOAD - (8 + 2 + 2 + certs.stream().mapToInt(c -> 4 + c.length).sum());
        int perEvent = 4 + event(0, "").encode().length;
        List<byte[]> events = new ArrayList<>();
        for (int i = 0; room >= perEvent; i++) {
            byte[] e = event(i, "x".repeat(Math.min(Limits.MAX_TEXT_BYTES, room - perEvent))).encode();
            events.add(e);
            room -= 4 + e.length;
        }
        return new Frame.EventPush(0L, events, certs);
    }

    static OverlayContact contact(int seed) {
        return new OverlayContact(bytes(32, 100 + seed), "198.51.100." + seed + ":7700", 10_000, seed * 10, seed * 60);
    }

    static DeviceRecord signedLike(String deviceId) {
        return new DeviceRecord(deviceId, "alice", "online", "203.0.113.7:40000", List.of("10.0.0.2:5000"), bytes(30, 11),
                1_700_000_000_000L, List.of("198.51.100.9:7700"), List.of("chat", "relay"), 42L, 1_700_000_900_000L, bytes(71, 12));
    }

    /** Frames at the limits. */
    static List<Frame> largeFrames() {
        List<String> maxList = IntStream.range(0, Limits.MAX_LIST).mapToObj(i -> "user" + i).toList();
        String maxString = "s".repeat(Limits.MAX_STRING_BYTES);
        List<DeviceRecord> maxDevices = IntStream.range(0, 8)
                .mapToObj(i -> device("dev" + i, List.of("10.0.0." + i + ":1"), bytes(Limits.MAX_CERTIFICATE_BYTES, i)))
                .toList();
        return List.of(
                new Frame.Subscribe(maxList),
                new Frame.Connect("a", false, "", maxList),
                new Frame.Hello(Integer.MAX_VALUE, maxString, maxList),
                new Frame.Welcome(maxString, maxString, Long.MIN_VALUE, Integer.MIN_VALUE),
                new Frame.Route(Long.MAX_VALUE, maxString, bytes(Limits.MAX_ROUTED_PAYLOAD, 5)),
                new Frame.Deliver(maxString, bytes(Limits.MAX_CERTIFICATE_BYTES, 6), bytes(Limits.MAX_ROUTED_PAYLOAD, 7)),
                new Frame.Resolved(1L, "alice", maxDevices),
                eventPushNearTheLimit(),
                new Frame.EventAck(IntStream.range(0, Limits.MAX_ACK_IDS).mapToObj(i -> bytes(ChatEvent.ID_BYTES, i)).toList()),
                new Frame.SyncHello(Long.MAX_VALUE, true, IntStream.range(0, Limits.MAX_SYNC_CONVERSATIONS)
                        .mapToObj(i -> new Frame.ConversationDigest(bytes(16, i), i == 0 ? Integer.MAX_VALUE : i,
                                bytes(Limits.SYNC_FINGERPRINT_BYTES, -i))).toList()),
                new Frame.SyncRange(Long.MIN_VALUE, bytes(16, 22), bytes(Limits.MAX_RECONCILE_BYTES, 23)));
    }

    static Stream<Frame> allFrames() {
        return Stream.concat(smallFrames().stream(), largeFrames().stream());
    }

    static Stream<Frame> small() {
        return smallFrames().stream();
    }

    static void assertSameFrame(Frame actual, Frame expected) {
        assertThat(actual).isNotNull();
        assertThat(actual.getClass()).isEqualTo(expected.getClass());
        assertThat(actual.type()).isEqualTo(expected.type());
        switch (expected) {
            case Frame.Route e -> {
                Frame.Route a = (Frame.Route) actual;
                assertThat(a.requestId()).isEqualTo(e.requestId());
                assertThat(a.toDevice()).isEqualTo(e.toDevice());
                assertThat(Arrays.equals(a.payload(), e.payload())).as("payload").isTrue();
            }
            case Frame.Deliver e -> {
                Frame.Deliver a = (Frame.Deliver) actual;
                assertThat(a.fromDevice()).isEqualTo(e.fromDevice());
                assertThat(Arrays.equals(a.fromCertificate(), e.fromCertificate())).as("fromCertificate").isTrue();
                assertThat(Arrays.equals(a.payload(), e.payload())).as("payload").isTrue();
            }
            case Frame.RelayAllocated e -> {
                Frame.RelayAllocated a = (Frame.RelayAllocated) actual;
                assertThat(List.of(a.requestId(), a.sessionId())).isEqualTo(List.of(e.requestId(), e.sessionId()));
                assertThat(a.relayAddress()).isEqualTo(e.relayAddress());
                assertThat(Arrays.equals(a.token(), e.token())).as("token").isTrue();
            }
            case Frame.RelayOffer e -> {
                Frame.RelayOffer a = (Frame.RelayOffer) actual;
                assertThat(a.sessionId()).isEqualTo(e.sessionId());
                assertThat(a.fromDevice()).isEqualTo(e.fromDevice());
                assertThat(a.relayAddress()).isEqualTo(e.relayAddress());
                assertThat(Arrays.equals(a.token(), e.token())).as("token").isTrue();
            }
            case Frame.Resolved e -> {
                Frame.Resolved a = (Frame.Resolved) actual;
                assertThat(a.requestId()).isEqualTo(e.requestId());
                assertThat(a.user()).isEqualTo(e.user());
                assertThat(a.devices()).hasSameSizeAs(e.devices());
                for (int i = 0; i < e.devices().size(); i++) {
                    DeviceRecord x = e.devices().get(i);
                    DeviceRecord y = a.devices().get(i);
                    assertThat(y.deviceId()).isEqualTo(x.deviceId());
                    assertThat(y.user()).isEqualTo(x.user());
                    assertThat(y.presence()).isEqualTo(x.presence());
                    assertThat(y.observedAddress()).isEqualTo(x.observedAddress());
                    assertThat(y.localAddresses()).isEqualTo(x.localAddresses());
                    assertThat(Arrays.equals(y.certificate(), x.certificate())).as("certificate " + i).isTrue();
                    assertThat(y.sinceMillis()).isEqualTo(x.sinceMillis());
                }
            }
            // frames carrying records, contacts or node ids (byte arrays inside): same canonical encoding
            case Frame.Publish e -> assertThat(FrameCodec.encode(actual)).isEqualTo(FrameCodec.encode(e));
            case Frame.FindNode e -> assertThat(FrameCodec.encode(actual)).isEqualTo(FrameCodec.encode(e));
            case Frame.Nodes e -> assertThat(FrameCodec.encode(actual)).isEqualTo(FrameCodec.encode(e));
            case Frame.FindValue e -> assertThat(FrameCodec.encode(actual)).isEqualTo(FrameCodec.encode(e));
            case Frame.Values e -> assertThat(FrameCodec.encode(actual)).isEqualTo(FrameCodec.encode(e));
            case Frame.Store e -> assertThat(FrameCodec.encode(actual)).isEqualTo(FrameCodec.encode(e));
            case Frame.Stored e -> assertThat(FrameCodec.encode(actual)).isEqualTo(FrameCodec.encode(e));
            case Frame.OverlayPing e -> assertThat(FrameCodec.encode(actual)).isEqualTo(FrameCodec.encode(e));
            case Frame.OverlayPong e -> assertThat(FrameCodec.encode(actual)).isEqualTo(FrameCodec.encode(e));
            case Frame.EventPush e -> {
                Frame.EventPush a = (Frame.EventPush) actual;
                assertThat(a.syncId()).isEqualTo(e.syncId());
                assertSameBlobs(a.events(), e.events(), "events");
                assertSameBlobs(a.certificates(), e.certificates(), "certificates");
            }
            case Frame.EventAck e -> assertSameBlobs(((Frame.EventAck) actual).ids(), e.ids(), "ids");
            case Frame.SyncHello e -> {
                Frame.SyncHello a = (Frame.SyncHello) actual;
                assertThat(a.syncId()).isEqualTo(e.syncId());
                assertThat(a.reply()).isEqualTo(e.reply());
                assertThat(a.conversations()).hasSameSizeAs(e.conversations());
                for (int i = 0; i < e.conversations().size(); i++) {
                    Frame.ConversationDigest x = e.conversations().get(i);
                    Frame.ConversationDigest y = a.conversations().get(i);
                    assertThat(Arrays.equals(y.conversation(), x.conversation())).as("conversation " + i).isTrue();
                    assertThat(y.count()).as("count " + i).isEqualTo(x.count());
                    assertThat(Arrays.equals(y.fingerprint(), x.fingerprint())).as("fingerprint " + i).isTrue();
                }
            }
            case Frame.SyncRange e -> {
                Frame.SyncRange a = (Frame.SyncRange) actual;
                assertThat(a.syncId()).isEqualTo(e.syncId());
                assertThat(Arrays.equals(a.conversation(), e.conversation())).as("conversation").isTrue();
                assertThat(Arrays.equals(a.message(), e.message())).as("message").isTrue();
            }
            case Frame.Forward e -> {
                Frame.Forward a = (Frame.Forward) actual;
                assertThat(a.toDevice()).isEqualTo(e.toDevice());
                assertThat(a.frame()).isEqualTo(e.frame());
            }
            // call frames hold a byte[] id: same bytes on the wire means the same frame
            case Frame.CallInvite e -> assertThat(FrameCodec.encode(actual)).isEqualTo(FrameCodec.encode(e));
            case Frame.CallRinging e -> assertThat(FrameCodec.encode(actual)).isEqualTo(FrameCodec.encode(e));
            case Frame.CallAnswer e -> assertThat(FrameCodec.encode(actual)).isEqualTo(FrameCodec.encode(e));
            case Frame.CallSelect e -> assertThat(FrameCodec.encode(actual)).isEqualTo(FrameCodec.encode(e));
            case Frame.CallReject e -> assertThat(FrameCodec.encode(actual)).isEqualTo(FrameCodec.encode(e));
            case Frame.CallCancel e -> assertThat(FrameCodec.encode(actual)).isEqualTo(FrameCodec.encode(e));
            case Frame.CallHangup e -> assertThat(FrameCodec.encode(actual)).isEqualTo(FrameCodec.encode(e));
            // every other record has value equality (strings, primitives, lists of strings)
            default -> assertThat(actual).isEqualTo(expected);
        }
    }

    static void assertSameBlobs(List<byte[]> actual, List<byte[]> expected, String what) {
        assertThat(actual).as(what).hasSameSizeAs(expected);
        for (int i = 0; i < expected.size(); i++) {
            assertThat(Arrays.equals(actual.get(i), expected.get(i))).as(what + " " + i).isTrue();
        }
    }

    static byte[] frame(int version, int type, byte[] payload) {
        return ByteBuffer.allocate(Limits.HEADER_BYTES + payload.length)
                .put((byte) version).put((byte) type).putInt(payload.length).put(payload).array();
    }

    static byte[] payloadOf(byte[] frame) {
        return Arrays.copyOfRange(frame, Limits.HEADER_BYTES, frame.length);
    }

    /** A tiny payload builder for hand-made (possibly invalid) payloads. */
    static final class P {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        P u8(int v) { out.write(v); return this; }
        P u16(int v) { out.write(v >>> 8); out.write(v); return this; }
        P i32(int v) { out.writeBytes(ByteBuffer.allocate(4).putInt(v).array()); return this; }
        P i64(long v) { out.writeBytes(ByteBuffer.allocate(8).putLong(v).array()); return this; }
        P raw(byte[] b) { out.writeBytes(b); return this; }
        P raw(int... b) { for (int x : b) out.write(x); return this; }
        P str(String s) { byte[] u = s.getBytes(StandardCharsets.UTF_8); return u16(u.length).raw(u); }
        byte[] bytes() { return out.toByteArray(); }
    }

    static void assertRejected(byte[] frame) {
        assertThatThrownBy(() -> FrameCodec.decode(frame)).isInstanceOf(WireFormatException.class);
    }

    // ------------------------------------------------------------------ round trips

    @ParameterizedTest
    @MethodSource("allFrames")
    void roundTripsEveryFrameType(Frame f) throws Exception {
        byte[] enc = FrameCodec.encode(f);
        assertThat(enc[0]).isEqualTo((byte) Limits.VERSION);
        assertThat(enc[1] & 0xff).isEqualTo(f.type());
        assertThat(ByteBuffer.wrap(enc, 2, 4).getInt()).isEqualTo(enc.length - Limits.HEADER_BYTES);
        assertSameFrame(FrameCodec.decode(enc), f);
        // decodePayload agrees with decode
        assertSameFrame(FrameCodec.decodePayload(f.type(), ByteBuffer.wrap(payloadOf(enc))), f);
    }

    @Test
    void coversEveryFrameType() {
        // guard: if a frame type is added, the sample list must grow with it
        List<Class<?>> sampled = allFrames().<Class<?>>map(Object::getClass).distinct().toList();
        List<Class<?>> declared = Arrays.stream(Frame.class.getPermittedSubclasses())
                .filter(c -> c != Frame.Unknown.class).toList();
        assertThat(sampled).containsExactlyInAnyOrderElementsOf(declared);
    }

    @Test
    void typeNumbersAreStable() {
        assertThat(smallFrames().stream().map(Frame::type).distinct().sorted().toList())
                .containsExactly(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 22,
                        30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 50, 51, 52, 53, 54, 55, 56);
    }

    @Test
    void encodesDocumentedLayout() throws Exception {
        assertThat(FrameCodec.encode(new Frame.Ping(0x0102030405060708L)))
                .containsExactly(1, 5, 0, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8);
        // Hello: i32 version | u16 len + UTF-8 | u16 count + strings
        assertThat(FrameCodec.encode(new Frame.Hello(2, "é", List.of("a"))))
                .containsExactly(1, 1, 0, 0, 0, 13, 0, 0, 0, 2, 0, 2, 0xc3, 0xa9, 0, 1, 0, 1, 'a');
        // Route: i64 | str | u32 len + bytes | str
        assertThat(FrameCodec.encode(new Frame.Route(1, "d", new byte[] {9, 8})))
                .containsExactly(1, 9, 0, 0, 0, 19, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 'd', 0, 0, 0, 2, 9, 8, 0, 0);
        // PresenceEvent bool is one byte 0/1
        byte[] pe = FrameCodec.encode(new Frame.PresenceEvent("", "", "", true));
        assertThat(pe[pe.length - 1]).isEqualTo((byte) 1);
        pe = FrameCodec.encode(new Frame.PresenceEvent("", "", "", false));
        assertThat(pe[pe.length - 1]).isEqualTo((byte) 0);
        // EventPush: i64 sync id | u16 count + (u32 len + bytes)* | u16 count + (u32 len + bytes)*
        assertThat(FrameCodec.encode(new Frame.EventPush(2, List.of(new byte[] {7}), List.of(new byte[] {8, 9}))))
                .containsExactly(1, 44, 0, 0, 0, 23, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1, 0, 0, 0, 1, 7, 0, 1, 0, 0, 0, 2, 8, 9);
        // EventAck: u16 count + 32-byte ids, no per-id length
        byte[] ack = FrameCodec.encode(new Frame.EventAck(List.of(bytes(32, 1), bytes(32, 2))));
        assertThat(ack).hasSize(Limits.HEADER_BYTES + 2 + 64);
        assertThat(Arrays.copyOfRange(ack, 0, 8)).containsExactly(1, 45, 0, 0, 0, 66, 0, 2);
        assertThat(Arrays.copyOfRange(ack, 8, 40)).isEqualTo(bytes(32, 1));
        // SyncHello: i64 | bool | u16 count + (16 conversation | i32 count | 16 fingerprint)*
        byte[] hello = FrameCodec.encode(new Frame.SyncHello(3, true,
                List.of(new Frame.ConversationDigest(new byte[16], 258, new byte[16]))));
        assertThat(hello).hasSize(Limits.HEADER_BYTES + 8 + 1 + 2 + 16 + 4 + 16);
        assertThat(Arrays.copyOfRange(hello, 0, 17)).containsExactly(1, 46, 0, 0, 0, 47, 0, 0, 0, 0, 0, 0, 0, 3, 1, 0, 1);
        assertThat(Arrays.copyOfRange(hello, 33, 37)).containsExactly(0, 0, 1, 2);
        // SyncRange: i64 | 16 conversation | u32 len + bytes
        byte[] range = FrameCodec.encode(new Frame.SyncRange(4, new byte[16], new byte[] {5, 6}));
        assertThat(range).hasSize(Limits.HEADER_BYTES + 8 + 16 + 4 + 2);
        assertThat(Arrays.copyOfRange(range, 30, 36)).containsExactly(0, 0, 0, 2, 5, 6);
    }

    @Test
    void unicodeStringsRoundTripByteExactly() throws Exception {
        // message text lives in ChatEvent now (see ChatEventTest); frame strings use the same UTF-8 rules
        String text = "Grüße, 世界! 👋🏽 \u0000 tab\t newline\n \uFFFD";
        var m = new Frame.Error(1, 2, text);
        byte[] enc = FrameCodec.encode(m);
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        assertThat(Arrays.copyOfRange(enc, enc.length - utf8.length, enc.length)).isEqualTo(utf8);
        Frame back = FrameCodec.decode(enc);
        assertThat(back).isEqualTo(m);
        assertThat(((Frame.Error) back).message()).isEqualTo(text);
    }

    @Test
    void nullStringsEncodeAsEmpty() throws Exception {
        Frame back = FrameCodec.decode(FrameCodec.encode(new Frame.SetPresence(null)));
        assertThat(back).isEqualTo(new Frame.SetPresence(""));
    }

    // ------------------------------------------------------------------ encode limits

    @Test
    void nonTextStringsAreLimitedToMaxStringBytes() throws Exception {
        String max = "é".repeat(Limits.MAX_STRING_BYTES / 2);
        assertThat(FrameCodec.decode(FrameCodec.encode(new Frame.SetPresence(max)))).isEqualTo(new Frame.SetPresence(max));
        String over = "a".repeat(Limits.MAX_STRING_BYTES + 1);
        assertThatThrownBy(() -> FrameCodec.encode(new Frame.SetPresence(over))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> FrameCodec.encode(new Frame.Error(1, 2, over)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> FrameCodec.encode(new Frame.Subscribe(List.of("ok", over))))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> FrameCodec.encode(new Frame.Resolved(1, "a",
                List.of(new DeviceRecord("d", "u", "p", "o", List.of(over), new byte[0], 0)))))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void listsOverMaxListAreRejectedByEncode() {
        List<String> over = IntStream.rangeClosed(0, Limits.MAX_LIST).mapToObj(i -> "u" + i).toList();
        assertThatThrownBy(() -> FrameCodec.encode(new Frame.Subscribe(over))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> FrameCodec.encode(new Frame.Connect("a", false, "", over))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> FrameCodec.encode(new Frame.Hello(1, "", over))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> FrameCodec.encode(new Frame.Redirect(1, over, ""))).isInstanceOf(IllegalArgumentException.class);
        List<DeviceRecord> devices = IntStream.rangeClosed(0, Limits.MAX_LIST)
                .mapToObj(i -> new DeviceRecord("d" + i, "u", "p", "o", List.of(), new byte[0], 0)).toList();
        assertThatThrownBy(() -> FrameCodec.encode(new Frame.Resolved(1, "u", devices)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void payloadOverMaxFrameIsRejectedByEncode() {
        assertThatThrownBy(() -> FrameCodec.encode(new Frame.Route(1, "d", new byte[Limits.MAX_FRAME_PAYLOAD])))
                .isInstanceOf(IllegalArgumentException.class);
        Frame.EventPush full = eventPushNearTheLimit();
        List<byte[]> oneMoreCert = new ArrayList<>(full.certificates());
        oneMoreCert.add(new byte[1]);
        assertThatThrownBy(() -> FrameCodec.encode(new Frame.EventPush(0, full.events(), oneMoreCert)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void eventPushNearTheLimitFillsTheFrame() throws Exception {
        Frame.EventPush p = eventPushNearTheLimit();
        int payload = FrameCodec.encode(p).length - Limits.HEADER_BYTES;
        assertThat(payload).isLessThanOrEqualTo(Limits.MAX_FRAME_PAYLOAD).isGreaterThan(Limits.MAX_FRAME_PAYLOAD - 256);
        assertThat(p.events()).hasSizeGreaterThan(2);
        // the events inside are real, decodable events
        for (byte[] e : p.events()) assertThat(ChatEvent.decode(e).event().text()).isNotEmpty();
    }

    @Test
    void callFramesCheckTheirIdAndReasonsDecodeLeniently() {
        assertThatThrownBy(() -> FrameCodec.encode(new Frame.CallRinging(new byte[15]))).isInstanceOf(IllegalArgumentException.class);
        assertThat(CallReason.of(CallReason.ANSWERED_ELSEWHERE.code)).isEqualTo(CallReason.ANSWERED_ELSEWHERE);
        assertThat(CallReason.of(999)).isEqualTo(CallReason.UNKNOWN);
        assertThat(CallReason.NO_ANSWER.wireName()).isEqualTo("no_answer");
    }

    @Test
    void unknownCannotBeEncoded() {
        assertThatThrownBy(() -> FrameCodec.encode(new Frame.Unknown(99, 0))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void encodeRejectsEventAndSyncFieldsItsDecoderWouldReject() {
        List<byte[]> tooManyEvents = IntStream.rangeClosed(0, Limits.MAX_PUSH_EVENTS).mapToObj(i -> new byte[0]).toList();
        assertThatThrownBy(() -> FrameCodec.encode(new Frame.EventPush(0, tooManyEvents, List.of())))
                .isInstanceOf(IllegalArgumentException.class);
        List<byte[]> tooManyCerts = IntStream.rangeClosed(0, Limits.MAX_PUSH_CERTIFICATES).mapToObj(i -> new byte[0]).toList();
        assertThatThrownBy(() -> FrameCodec.encode(new Frame.EventPush(0, List.of(), tooManyCerts)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> FrameCodec.encode(new Frame.EventPush(0, List.of(new byte[ChatEvent.MAX_EVENT_BYTES + 1]), List.of())))
                .isInstanceOf(IllegalArgumentException.class);
        List<byte[]> tooManyIds = IntStream.rangeClosed(0, Limits.MAX_ACK_IDS).mapToObj(i -> new byte[32]).toList();
        assertThatThrownBy(() -> FrameCodec.encode(new Frame.EventAck(tooManyIds))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> FrameCodec.encode(new Frame.EventAck(List.of(new byte[31]))))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> FrameCodec.encode(new Frame.SyncHello(1, false,
                List.of(new Frame.ConversationDigest(new byte[15], 0, new byte[16])))))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> FrameCodec.encode(new Frame.SyncHello(1, false,
                List.of(new Frame.ConversationDigest(new byte[16], 0, new byte[17])))))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> FrameCodec.encode(new Frame.SyncRange(1, new byte[17], new byte[0])))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> FrameCodec.encode(new Frame.SyncRange(1, new byte[16], new byte[Limits.MAX_RECONCILE_BYTES + 1])))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void encodeRejectsByteFieldsItsDecoderWouldReject() {
        byte[] tooBigPayload = new byte[Limits.MAX_ROUTED_PAYLOAD + 1];
        byte[] tooBigCert = new byte[Limits.MAX_CERTIFICATE_BYTES + 1];
        assertThatThrownBy(() -> FrameCodec.encode(new Frame.Route(1, "d", tooBigPayload)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> FrameCodec.encode(new Frame.Deliver("d", tooBigCert, new byte[0])))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> FrameCodec.encode(new Frame.Deliver("d", new byte[0], tooBigPayload)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> FrameCodec.encode(new Frame.Resolved(1, "u",
                List.of(new DeviceRecord("d", "u", "p", "o", List.of(), tooBigCert, 0)))))
                .isInstanceOf(IllegalArgumentException.class);
    }

    // ------------------------------------------------------------------ decode: header

    @Nested
    class Header {
        @ParameterizedTest
        @ValueSource(ints = {0, 18, 19, 20, 21, 23, 48, 99, 200, 255})
        void unknownTypeAtVersionOneDecodesToUnknown(int type) throws Exception {
            byte[] payload = bytes(17, type);
            Frame f = FrameCodec.decode(frame(1, type, payload));
            assertThat(f).isEqualTo(new Frame.Unknown(type, 17));
            assertThat(f.type()).isEqualTo(type);
            assertThat(FrameCodec.decode(frame(1, type, new byte[0]))).isEqualTo(new Frame.Unknown(type, 0));
        }

        @ParameterizedTest
        @ValueSource(ints = {0, 2, 3, 127, 128, 255})
        void wrongVersionIsRejected(int version) {
            byte[] f = FrameCodec.encode(new Frame.Ping(1));
            f[0] = (byte) version;
            assertThatThrownBy(() -> FrameCodec.decode(f)).isInstanceOf(WireFormatException.class)
                    .hasMessageContaining("version");
            assertThatThrownBy(() -> FrameCodec.payloadLength((byte) version, 8)).isInstanceOf(WireFormatException.class);
            // even for an unknown type
            assertRejected(frame(version, 99, new byte[0]));
        }

        @Test
        void payloadLengthAcceptsTheLimitAndRejectsBeyond() throws Exception {
            assertThat(FrameCodec.payloadLength((byte) 1, 0)).isZero();
            assertThat(FrameCodec.payloadLength((byte) 1, Limits.MAX_FRAME_PAYLOAD)).isEqualTo(Limits.MAX_FRAME_PAYLOAD);
            assertThatThrownBy(() -> FrameCodec.payloadLength((byte) 1, Limits.MAX_FRAME_PAYLOAD + 1))
                    .isInstanceOf(WireFormatException.class);
            assertThatThrownBy(() -> FrameCodec.payloadLength((byte) 1, -1))
                    .isInstanceOf(WireFormatException.class).hasMessageContaining("4294967295");
            assertThatThrownBy(() -> FrameCodec.payloadLength((byte) 1, Integer.MIN_VALUE))
                    .isInstanceOf(WireFormatException.class);
        }

        @Test
        void lengthFieldOverMaxFramePayloadIsRejected() {
            // a real payload of MAX+1 bytes with a truthful header
            assertRejected(frame(1, 99, new byte[Limits.MAX_FRAME_PAYLOAD + 1]));
            assertRejected(frame(1, 9, new byte[Limits.MAX_FRAME_PAYLOAD + 1]));
            // a lying header
            byte[] f = FrameCodec.encode(new Frame.Ping(1));
            ByteBuffer.wrap(f).putInt(2, Limits.MAX_FRAME_PAYLOAD + 1);
            assertRejected(f);
            ByteBuffer.wrap(f).putInt(2, 0xffffffff);
            assertRejected(f);
            ByteBuffer.wrap(f).putInt(2, 0x80000000);
            assertRejected(f);
        }

        @Test
        void maxFramePayloadItselfIsAccepted() throws Exception {
            assertThat(FrameCodec.decode(frame(1, 99, new byte[Limits.MAX_FRAME_PAYLOAD])))
                    .isEqualTo(new Frame.Unknown(99, Limits.MAX_FRAME_PAYLOAD));
        }

        @Test
        void headerLengthMustMatchTheArray() {
            byte[] f = FrameCodec.encode(new Frame.Ping(1));
            byte[] longer = Arrays.copyOf(f, f.length + 1);
            assertRejected(longer);
            ByteBuffer.wrap(f).putInt(2, 7);
            assertRejected(f);
        }

        @Test
        void shorterThanHeaderIsRejected() {
            for (int n = 0; n < Limits.HEADER_BYTES; n++) assertRejected(new byte[n]);
            assertRejected(new byte[] {1, 5, 0, 0, 0});
        }

        @Test
        void trailingBytesInsidePayloadAreIgnored() throws Exception {
            byte[] payload = new P().i64(77).raw(1, 2, 3).bytes();
            assertThat(FrameCodec.decode(frame(1, 5, payload))).isEqualTo(new Frame.Ping(77));
            byte[] hello = new P().i32(1).str("on").u16(0).raw(0xff, 0xff, 0xff).bytes();
            assertThat(FrameCodec.decode(frame(1, 1, hello))).isEqualTo(new Frame.Hello(1, "on", List.of()));
        }
    }

    // ------------------------------------------------------------------ decode: truncation

    @ParameterizedTest
    @MethodSource("small")
    void everyTruncationOfTheWholeFrameIsRejected(Frame f) {
        byte[] enc = FrameCodec.encode(f);
        for (int cut = 0; cut < enc.length; cut++) {
            byte[] t = Arrays.copyOf(enc, cut);
            try {
                FrameCodec.decode(t);
                fail("decoded a frame truncated to " + cut + " of " + enc.length + " bytes: " + f);
            } catch (WireFormatException expected) {
                // ok
            } catch (RuntimeException e) {
                fail("cut " + cut + " of " + f + " threw " + e, e);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("small")
    void everyTruncationOfThePayloadWithAConsistentHeaderIsRejected(Frame f) {
        byte[] payload = payloadOf(FrameCodec.encode(f));
        for (int cut = 0; cut < payload.length; cut++) {
            byte[] p = Arrays.copyOf(payload, cut);
            try {
                FrameCodec.decode(frame(1, f.type(), p));
                fail("decoded a payload truncated to " + cut + " of " + payload.length + " bytes: " + f);
            } catch (WireFormatException expected) {
                // ok
            } catch (RuntimeException e) {
                fail("cut " + cut + " of " + f + " threw " + e, e);
            }
            try {
                FrameCodec.decodePayload(f.type(), ByteBuffer.wrap(p));
                fail("decodePayload accepted a payload truncated to " + cut + ": " + f);
            } catch (WireFormatException expected) {
                // ok
            } catch (RuntimeException e) {
                fail("decodePayload cut " + cut + " of " + f + " threw " + e, e);
            }
        }
    }

    // ------------------------------------------------------------------ decode: field limits

    @Test
    void listCountOverMaxListIsRejected() throws Exception {
        // the elements are actually present, so only the count check can reject
        P sub = new P().u16(Limits.MAX_LIST + 1);
        for (int i = 0; i <= Limits.MAX_LIST; i++) sub.str("u");
        assertRejected(frame(1, 13, sub.bytes()));
        assertRejected(frame(1, 22, sub.bytes()));
        assertRejected(frame(1, 13, new P().u16(0xffff).bytes()));

        P atMax = new P().u16(Limits.MAX_LIST);
        for (int i = 0; i < Limits.MAX_LIST; i++) atMax.str("u");
        assertThat(((Frame.Subscribe) FrameCodec.decode(frame(1, 13, atMax.bytes()))).users()).hasSize(Limits.MAX_LIST);

        assertRejected(frame(1, 1, new P().i32(1).str("p").u16(Limits.MAX_LIST + 1).bytes()));
        assertRejected(frame(1, 3, new P().i32(1).u16(Limits.MAX_LIST + 1).bytes()));
        assertRejected(frame(1, 8, new P().i64(1).str("u").u16(Limits.MAX_LIST + 1).bytes()));
        // the inner list of a device record
        assertRejected(frame(1, 8, new P().i64(1).str("u").u16(1)
                .str("d").str("u").str("p").str("o").u16(Limits.MAX_LIST + 1).bytes()));
    }

    @Test
    void stringLongerThanItsLimitIsRejected() throws Exception {
        byte[] big = "a".repeat(Limits.MAX_STRING_BYTES + 1).getBytes(StandardCharsets.US_ASCII);
        assertRejected(frame(1, 12, new P().u16(big.length).raw(big).bytes()));
        byte[] ok = Arrays.copyOf(big, Limits.MAX_STRING_BYTES);
        assertThat(FrameCodec.decode(frame(1, 12, new P().u16(ok.length).raw(ok).bytes())))
                .isEqualTo(new Frame.SetPresence(new String(ok, StandardCharsets.US_ASCII)));

        // the last string of an Error frame
        assertRejected(frame(1, 4, new P().i64(1).i32(2).u16(big.length).raw(big).bytes()));
        // a string whose length runs past the end
        assertRejected(frame(1, 12, new P().u16(10).raw('a', 'b').bytes()));
    }

    @Test
    void byteFieldsOverTheirLimitsAreRejected() {
        byte[] overRouted = new byte[Limits.MAX_ROUTED_PAYLOAD + 1];
        assertRejected(frame(1, 9, new P().i64(1).str("d").i32(overRouted.length).raw(overRouted).bytes()));
        assertRejected(frame(1, 9, new P().i64(1).str("d").i32(-1).bytes()));
        assertRejected(frame(1, 9, new P().i64(1).str("d").i32(Integer.MIN_VALUE).bytes()));
        assertRejected(frame(1, 9, new P().i64(1).str("d").i32(100).raw(1, 2, 3).bytes()));

        byte[] overCert = new byte[Limits.MAX_CERTIFICATE_BYTES + 1];
        assertRejected(frame(1, 11, new P().str("d").i32(overCert.length).raw(overCert).i32(0).bytes()));
        assertRejected(frame(1, 11, new P().str("d").i32(0).i32(overRouted.length).raw(overRouted).bytes()));
        assertRejected(frame(1, 8, new P().i64(1).str("u").u16(1)
                .str("d").str("u").str("p").str("o").u16(0).i32(overCert.length).raw(overCert).i64(0).bytes()));
    }

    @Test
    void eventPushWithMoreThanMaxPushEventsIsRejected() throws Exception {
        // the (empty) events are actually present, so only the count check can reject
        P over = new P().i64(0).u16(Limits.MAX_PUSH_EVENTS + 1);
        for (int i = 0; i <= Limits.MAX_PUSH_EVENTS; i++) over.i32(0);
        assertRejected(frame(1, 44, over.u16(0).bytes()));
        assertRejected(frame(1, 44, new P().i64(0).u16(0xffff).bytes()));

        P atMax = new P().i64(0).u16(Limits.MAX_PUSH_EVENTS);
        for (int i = 0; i < Limits.MAX_PUSH_EVENTS; i++) atMax.i32(0);
        assertThat(((Frame.EventPush) FrameCodec.decode(frame(1, 44, atMax.u16(0).bytes()))).events())
                .hasSize(Limits.MAX_PUSH_EVENTS);

        // certificates: count and size
        P certs = new P().i64(0).u16(0).u16(Limits.MAX_PUSH_CERTIFICATES + 1);
        for (int i = 0; i <= Limits.MAX_PUSH_CERTIFICATES; i++) certs.i32(0);
        assertRejected(frame(1, 44, certs.bytes()));
        byte[] bigCert = new byte[Limits.MAX_CERTIFICATE_BYTES + 1];
        assertRejected(frame(1, 44, new P().i64(0).u16(0).u16(1).i32(bigCert.length).raw(bigCert).bytes()));
        // an event over ChatEvent.MAX_EVENT_BYTES, and one whose length runs past the end
        byte[] bigEvent = new byte[ChatEvent.MAX_EVENT_BYTES + 1];
        assertRejected(frame(1, 44, new P().i64(0).u16(1).i32(bigEvent.length).raw(bigEvent).u16(0).bytes()));
        assertRejected(frame(1, 44, new P().i64(0).u16(1).i32(-1).bytes()));
        assertRejected(frame(1, 44, new P().i64(0).u16(2).i32(1).raw(7).i32(5).raw(1, 2).bytes()));
        byte[] maxEvent = new byte[ChatEvent.MAX_EVENT_BYTES];
        assertThat(((Frame.EventPush) FrameCodec.decode(frame(1, 44, new P().i64(0).u16(1).i32(maxEvent.length)
                .raw(maxEvent).u16(0).bytes()))).events().get(0)).hasSize(ChatEvent.MAX_EVENT_BYTES);
    }

    @Test
    void eventAckOverMaxAckIdsOrTruncatedIsRejected() throws Exception {
        byte[] ids = bytes((Limits.MAX_ACK_IDS + 1) * ChatEvent.ID_BYTES, 30);
        assertRejected(frame(1, 45, new P().u16(Limits.MAX_ACK_IDS + 1).raw(ids).bytes()));
        assertRejected(frame(1, 45, new P().u16(0xffff).raw(ids).bytes()));
        byte[] atMax = Arrays.copyOf(ids, Limits.MAX_ACK_IDS * ChatEvent.ID_BYTES);
        assertThat(((Frame.EventAck) FrameCodec.decode(frame(1, 45, new P().u16(Limits.MAX_ACK_IDS).raw(atMax).bytes()))).ids())
                .hasSize(Limits.MAX_ACK_IDS);

        // truncated: fewer id bytes than the count promises
        assertRejected(frame(1, 45, new P().u16(1).raw(new byte[ChatEvent.ID_BYTES - 1]).bytes()));
        assertRejected(frame(1, 45, new P().u16(2).raw(new byte[ChatEvent.ID_BYTES + 16]).bytes()));
        assertRejected(frame(1, 45, new P().u16(3).bytes()));
        assertRejected(frame(1, 45, new P().u8(0).bytes()));
        assertRejected(frame(1, 45, new byte[0]));
        assertThat(((Frame.EventAck) FrameCodec.decode(frame(1, 45, new P().u16(1).raw(new byte[ChatEvent.ID_BYTES]).bytes()))).ids())
                .hasSize(1);
    }

    @ParameterizedTest
    @ValueSource(ints = {-1, -2, Integer.MIN_VALUE})
    void syncHelloWithANegativeCountIsRejected(int count) throws Exception {
        byte[] conv = bytes(16, 31);
        byte[] fp = bytes(Limits.SYNC_FINGERPRINT_BYTES, 32);
        assertRejected(frame(1, 46, new P().i64(1).u8(0).u16(1).raw(conv).i32(count).raw(fp).bytes()));
        // also when it is not the first digest
        assertRejected(frame(1, 46, new P().i64(1).u8(1).u16(2).raw(conv).i32(5).raw(fp).raw(conv).i32(count).raw(fp).bytes()));
        // zero and the largest count are fine
        for (int ok : new int[] {0, Integer.MAX_VALUE}) {
            Frame.SyncHello h = (Frame.SyncHello) FrameCodec.decode(
                    frame(1, 46, new P().i64(1).u8(0).u16(1).raw(conv).i32(ok).raw(fp).bytes()));
            assertThat(h.conversations().get(0).count()).isEqualTo(ok);
        }
    }

    @Test
    void syncHelloOverMaxConversationsOrTruncatedIsRejected() {
        P over = new P().i64(1).u8(0).u16(Limits.MAX_SYNC_CONVERSATIONS + 1);
        for (int i = 0; i <= Limits.MAX_SYNC_CONVERSATIONS; i++) over.raw(new byte[16]).i32(0).raw(new byte[16]);
        assertRejected(frame(1, 46, over.bytes()));
        assertRejected(frame(1, 46, new P().i64(1).u8(0).u16(1).raw(new byte[16]).i32(0).raw(new byte[15]).bytes()));
        assertRejected(frame(1, 46, new P().i64(1).u8(2).u16(0).bytes()));
    }

    @Test
    void syncRangeWithATruncatedConversationIsRejected() throws Exception {
        for (int n = 0; n < ChatEvent.CONVERSATION_BYTES; n++) {
            assertRejected(frame(1, 47, new P().i64(1).raw(new byte[n]).bytes()));
        }
        // 12 conversation bytes + an empty message: read as a 16-byte conversation, the message length is missing
        assertRejected(frame(1, 47, new P().i64(1).raw(new byte[12]).i32(0).bytes()));
        assertRejected(frame(1, 47, new P().i64(1).raw(new byte[16]).bytes()));
        assertRejected(frame(1, 47, new P().i64(1).raw(new byte[16]).i32(3).raw(1, 2).bytes()));
        byte[] over = new byte[Limits.MAX_RECONCILE_BYTES + 1];
        assertRejected(frame(1, 47, new P().i64(1).raw(new byte[16]).i32(over.length).raw(over).bytes()));
        Frame.SyncRange r = (Frame.SyncRange) FrameCodec.decode(frame(1, 47, new P().i64(1).raw(bytes(16, 33)).i32(0).bytes()));
        assertThat(r.conversation()).isEqualTo(bytes(16, 33));
        assertThat(r.message()).isEmpty();
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
    void invalidUtf8IsRejectedInEveryKindOfStringField(byte[] bad) {
        assertRejected(frame(1, 12, new P().u16(bad.length).raw(bad).bytes()));
        assertRejected(frame(1, 13, new P().u16(2).str("ok").u16(bad.length).raw(bad).bytes()));
        assertRejected(frame(1, 4, new P().i64(1).i32(2).u16(bad.length).raw(bad).bytes()));
        assertRejected(frame(1, 8, new P().i64(1).str("u").u16(1)
                .str("d").u16(bad.length).raw(bad).str("p").str("o").u16(0).i32(0).i64(0).bytes()));
        try {
            FrameCodec.decode(frame(1, 12, new P().u16(bad.length).raw(bad).bytes()));
        } catch (WireFormatException e) {
            assertThat(e.getMessage()).contains("UTF-8");
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3, 0x7f, 0x80, 0xff})
    void boolOtherThanZeroOrOneIsRejected(int b) throws Exception {
        byte[] p = FrameCodec.encode(new Frame.PresenceEvent("a", "d", "online", true));
        p[p.length - 1] = (byte) b;
        assertRejected(p);
        p[p.length - 1] = 0;
        assertThat(((Frame.PresenceEvent) FrameCodec.decode(p)).online()).isFalse();
        p[p.length - 1] = 1;
        assertThat(((Frame.PresenceEvent) FrameCodec.decode(p)).online()).isTrue();
    }

    @Test
    void wireFormatExceptionIsCheapAndHasAMessage() {
        var e = new WireFormatException("x");
        assertThat(e.getStackTrace()).isEmpty();
        assertThat(e.getMessage()).isEqualTo("x");
    }

    @Test
    void decodePayloadHonoursTheBufferPositionAndLimit() throws Exception {
        Frame.EventAck ack = new Frame.EventAck(List.of(bytes(32, 1), bytes(32, 2)));
        byte[] payload = payloadOf(FrameCodec.encode(ack));
        byte[] padded = new byte[payload.length + 10];
        Arrays.fill(padded, (byte) 0x7f);
        System.arraycopy(payload, 0, padded, 5, payload.length);
        ByteBuffer b = ByteBuffer.wrap(padded, 5, payload.length);
        assertSameFrame(FrameCodec.decodePayload(45, b), ack);
        assertThat(FrameCodec.decodePayload(99, ByteBuffer.wrap(padded, 5, payload.length)))
                .isEqualTo(new Frame.Unknown(99, payload.length));
    }

    // ------------------------------------------------------------------ fuzzing

    /** Decodes; returns normally only for a Frame or a WireFormatException. */
    private static void decodeOnlyFramesOrWireFormatErrors(byte[] input, String what) {
        Frame f;
        try {
            f = FrameCodec.decode(input);
        } catch (WireFormatException e) {
            assertThat(e.getMessage()).as("message of " + what).isNotBlank();
            return;
        } catch (Throwable t) {
            throw new AssertionError(what + " threw " + t + " for input " + HexFormatHolder.hex(input), t);
        }
        assertThat(f).as(what).isNotNull();
        if (f instanceof Frame.Unknown u) {
            assertThat(u.length()).isEqualTo(input.length - Limits.HEADER_BYTES);
            return;
        }
        // whatever decodes re-encodes, and the canonical re-encoding decodes to the same frame
        try {
            byte[] again = FrameCodec.encode(f);
            assertThat(again.length).isLessThanOrEqualTo(input.length);
            assertSameFrame(FrameCodec.decode(again), f);
        } catch (WireFormatException | RuntimeException e) {
            throw new AssertionError(what + ": decoded frame does not re-encode: " + f, e);
        }
    }

    private static final class HexFormatHolder {
        static String hex(byte[] b) {
            String h = java.util.HexFormat.of().formatHex(b, 0, Math.min(b.length, 64));
            return b.length > 64 ? h + "...(" + b.length + " bytes)" : h;
        }
    }

    private static final int[] KNOWN_TYPES = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 22,
            30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47};

    @Test
    void fuzzRandomBytes() {
        Random rnd = new Random(0x5EED_0001L);
        for (int i = 0; i < 20_000; i++) {
            byte[] b = new byte[rnd.nextInt(80)];
            rnd.nextBytes(b);
            decodeOnlyFramesOrWireFormatErrors(b, "random bytes #" + i);
        }
    }

    @Test
    void fuzzRandomPayloadsWithValidHeaders() {
        Random rnd = new Random(0x5EED_0002L);
        int decoded = 0;
        for (int i = 0; i < 20_000; i++) {
            int type = rnd.nextInt(8) == 0 ? rnd.nextInt(256) : KNOWN_TYPES[rnd.nextInt(KNOWN_TYPES.length)];
            byte[] p = new byte[rnd.nextInt(120)];
            rnd.nextBytes(p);
            // bias towards small length prefixes so that decoding gets further
            for (int j = 0; j < p.length; j++) if (rnd.nextInt(3) == 0) p[j] = (byte) rnd.nextInt(4);
            byte[] f = frame(1, type, p);
            try {
                FrameCodec.decode(f);
                decoded++;
            } catch (WireFormatException ignored) {
                // fine
            } catch (RuntimeException e) {
                throw new AssertionError("type " + type + " payload " + HexFormatHolder.hex(p) + " threw " + e, e);
            }
            decodeOnlyFramesOrWireFormatErrors(f, "random payload #" + i);
        }
        assertThat(decoded).as("the fuzzer should reach successful decodes too").isGreaterThan(100);
    }

    @Test
    void fuzzMutationsOfValidFrames() {
        Random rnd = new Random(0x5EED_0003L);
        List<byte[]> seeds = new ArrayList<>();
        for (Frame f : smallFrames()) seeds.add(FrameCodec.encode(f));
        for (int i = 0; i < 20_000; i++) {
            byte[] base = seeds.get(rnd.nextInt(seeds.size()));
            byte[] m = mutate(base, rnd);
            if (rnd.nextBoolean() && m.length >= Limits.HEADER_BYTES) {
                // keep the header consistent so that the payload decoder is exercised
                ByteBuffer.wrap(m).putInt(2, m.length - Limits.HEADER_BYTES);
                if (rnd.nextInt(4) != 0) m[0] = 1;
            }
            decodeOnlyFramesOrWireFormatErrors(m, "mutation #" + i);
        }
    }

    private static byte[] mutate(byte[] base, Random rnd) {
        byte[] m = base.clone();
        int ops = 1 + rnd.nextInt(4);
        for (int k = 0; k < ops; k++) {
            switch (rnd.nextInt(6)) {
                case 0 -> { if (m.length > 0) m[rnd.nextInt(m.length)] ^= (byte) (1 << rnd.nextInt(8)); }
                case 1 -> { if (m.length > 0) m[rnd.nextInt(m.length)] = (byte) rnd.nextInt(256); }
                case 2 -> m = Arrays.copyOf(m, rnd.nextInt(m.length + 1));              // truncate
                case 3 -> {                                                              // insert
                    int at = rnd.nextInt(m.length + 1);
                    byte[] n = new byte[m.length + 1 + rnd.nextInt(4)];
                    System.arraycopy(m, 0, n, 0, at);
                    for (int j = at; j < at + n.length - m.length; j++) n[j] = (byte) rnd.nextInt(256);
                    System.arraycopy(m, at, n, at + n.length - m.length, m.length - at);
                    m = n;
                }
                case 4 -> {                                                              // delete
                    if (m.length > 0) {
                        int at = rnd.nextInt(m.length);
                        byte[] n = new byte[m.length - 1];
                        System.arraycopy(m, 0, n, 0, at);
                        System.arraycopy(m, at + 1, n, at, m.length - at - 1);
                        m = n;
                    }
                }
                default -> {                                                             // big length prefix
                    if (m.length > 8) {
                        int at = Limits.HEADER_BYTES + rnd.nextInt(m.length - Limits.HEADER_BYTES - 1);
                        m[at] = (byte) 0xff;
                        m[at + 1] = (byte) rnd.nextInt(256);
                    }
                }
            }
        }
        return m;
    }
}
