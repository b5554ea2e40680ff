package org.parley.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Encoding and decoding of frames. Layout: {@code version u8 | type u8 | length u32 | payload}.
 * Payload fields, in record order: integers big-endian (u8 bool, i32, i64), strings as u16 length +
 * UTF-8, byte arrays as u32 length + bytes, lists as u16 count + elements. Every length is checked
 * against {@link Limits}; any violation is a {@link WireFormatException}. Trailing bytes after the
 * known fields are ignored (room for compatible extensions); unknown types decode to {@link Frame.Unknown}.
 */
public final class FrameCodec {
    private FrameCodec() {}

    public static byte[] encode(Frame f) {
        W w = new W();
        switch (f) {
            case Frame.Hello h -> { w.i32(h.clientVersion()); w.str(h.presence()); w.strs(h.localAddresses()); }
            case Frame.Welcome m -> { w.str(m.supernodeId()); w.str(m.observedAddress()); w.i64(m.serverTimeMillis()); w.i32(m.keepaliveMillis()); w.strs(m.supernodes()); }
            case Frame.Redirect r -> { w.i32(r.retryAfterMillis()); w.strs(r.alternatives()); w.str(r.reason()); }
            case Frame.Error e -> { w.i64(e.requestId()); w.i32(e.code()); w.str(e.message()); }
            case Frame.Ping p -> w.i64(p.nonce());
            case Frame.Pong p -> w.i64(p.nonce());
            case Frame.Resolve r -> { w.i64(r.requestId()); w.str(r.user()); }
            case Frame.Resolved r -> { w.i64(r.requestId()); w.str(r.user()); w.records(r.devices()); }
            case Frame.Route r -> { w.i64(r.requestId()); w.str(r.toDevice()); w.bytes(r.payload(), Limits.MAX_ROUTED_PAYLOAD); w.str(r.viaSupernode()); }
            case Frame.Routed r -> w.i64(r.requestId());
            case Frame.Deliver d -> { w.str(d.fromDevice()); w.bytes(d.fromCertificate(), Limits.MAX_CERTIFICATE_BYTES); w.bytes(d.payload(), Limits.MAX_ROUTED_PAYLOAD); }
            case Frame.SetPresence p -> w.str(p.presence());
            case Frame.Subscribe s -> w.strs(s.users());
            case Frame.PresenceEvent p -> { w.str(p.user()); w.str(p.deviceId()); w.str(p.presence()); w.bool(p.online()); }
            case Frame.EventPush p -> { w.i64(p.syncId()); w.blobs(p.events(), Limits.MAX_PUSH_EVENTS, ChatEvent.MAX_EVENT_BYTES); w.blobs(p.certificates(), Limits.MAX_PUSH_CERTIFICATES, Limits.MAX_CERTIFICATE_BYTES); }
            case Frame.EventAck a -> w.fixedList(a.ids(), Limits.MAX_ACK_IDS, ChatEvent.ID_BYTES);
            case Frame.SyncHello h -> { w.i64(h.syncId()); w.bool(h.reply()); w.digests(h.conversations()); }
            case Frame.SyncRange r -> { w.i64(r.syncId()); w.fixed(r.conversation(), ChatEvent.CONVERSATION_BYTES); w.bytes(r.message(), Limits.MAX_RECONCILE_BYTES); }
            case Frame.Connect c -> { w.str(c.attemptId()); w.bool(c.reply()); w.str(c.observedAddress()); w.strs(c.localAddresses()); }
            case Frame.RelayOpen r -> { w.i64(r.requestId()); w.str(r.toDevice()); w.str(r.viaSupernode()); }
            case Frame.Publish p -> { w.i64(p.requestId()); w.record(p.record()); }
            case Frame.Published p -> { w.i64(p.requestId()); w.i32(p.replicas()); }
            case Frame.Busy b -> { w.i64(b.requestId()); w.i32(b.retryAfterMillis()); w.strs(b.alternatives()); w.str(b.reason()); }
            case Frame.DialBack d -> { w.i64(d.requestId()); w.str(d.address()); }
            case Frame.DialBackResult d -> { w.i64(d.requestId()); w.i32(d.confirmations()); w.i32(d.tried()); }
            case Frame.FindNode fn -> { w.i64(fn.requestId()); w.contact(fn.sender()); w.id(fn.target()); }
            case Frame.Nodes n -> { w.i64(n.requestId()); w.contact(n.sender()); w.contacts(n.contacts()); }
            case Frame.FindValue fv -> { w.i64(fv.requestId()); w.contact(fv.sender()); w.id(fv.key()); w.str(fv.user()); }
            case Frame.Values v -> { w.i64(v.requestId()); w.contact(v.sender()); w.str(v.user()); w.records(v.records()); w.contacts(v.contacts()); }
            case Frame.Store st -> { w.i64(st.requestId()); w.contact(st.sender()); w.records(st.records()); }
            case Frame.Stored st -> { w.i64(st.requestId()); w.contact(st.sender()); w.i32(st.accepted()); }
            case Frame.OverlayPing p -> { w.i64(p.requestId()); w.contact(p.sender()); }
            case Frame.OverlayPong p -> { w.i64(p.requestId()); w.contact(p.sender()); }
            case Frame.Forward fw -> { w.str(fw.toDevice()); w.bytes(fw.frame(), Limits.MAX_FRAME_PAYLOAD - 1024); }
            case Frame.RelayAllocated r -> { w.i64(r.requestId()); w.i64(r.sessionId()); w.str(r.relayAddress()); w.bytes(r.token(), Limits.RELAY_TOKEN_BYTES); }
            case Frame.RelayOffer r -> { w.i64(r.sessionId()); w.str(r.fromDevice()); w.str(r.relayAddress()); w.bytes(r.token(), Limits.RELAY_TOKEN_BYTES); }
            case Frame.CallInvite c -> { w.fixed(c.callId(), Limits.CALL_ID_BYTES); w.str(c.callerUser()); w.str(c.callerDevice()); w.bool(c.lowBandwidth()); w.str(c.codec()); }
            case Frame.CallRinging c -> w.fixed(c.callId(), Limits.CALL_ID_BYTES);
            case Frame.CallAnswer c -> w.fixed(c.callId(), Limits.CALL_ID_BYTES);
            case Frame.CallSelect c -> { w.fixed(c.callId(), Limits.CALL_ID_BYTES); w.str(c.selectedDevice()); }
            case Frame.CallReject c -> { w.fixed(c.callId(), Limits.CALL_ID_BYTES); w.i32(c.reason()); }
            case Frame.CallCancel c -> { w.fixed(c.callId(), Limits.CALL_ID_BYTES); w.i32(c.reason()); }
            case Frame.CallHangup c -> { w.fixed(c.callId(), Limits.CALL_ID_BYTES); w.i32(c.reason()); }
            case Frame.Unknown u -> throw new IllegalArgumentException("cannot encode an unknown frame");
        }
        byte[] payload = w.toArray();
        if (payload.length > Limits.MAX_FRAME_PAYLOAD) {
            throw new IllegalArgumentException("frame of " + payload.length + " bytes exceeds " + Limits.MAX_FRAME_PAYLOAD);
        }
        ByteBuffer b = ByteBuffer.allocate(Limits.HEADER_BYTES + payload.length);
        b.put((byte) Limits.VERSION).put((byte) f.type()).putInt(payload.length).put(payload);
        return b.array();
    }

    /**
     * Reads the payload length from a header, validating version and limit.
     * @return the payload length
     */
    public static int payloadLength(byte version, int length) throws WireFormatException {
        if ((version & 0xff) != Limits.VERSION) {
            throw new WireFormatException("unsupported protocol version " + (version & 0xff));
        }
        if (length < 0 || length > Limits.MAX_FRAME_PAYLOAD) {
            throw new WireFormatException("frame length " + Integer.toUnsignedString(length) + " exceeds limit");
        }
        return length;
    }

    /** Decodes a whole frame (header + payload), e.g. a sealed envelope's plaintext. */
    public static Frame decode(byte[] frame) throws WireFormatException {
        if (frame.length < Limits.HEADER_BYTES) throw new WireFormatException("frame shorter than its header");
        ByteBuffer b = ByteBuffer.wrap(frame);
        byte version = b.get();
        int type = b.get() & 0xff;
        int len = payloadLength(version, b.getInt());
        if (len != frame.length - Limits.HEADER_BYTES) throw new WireFormatException("frame length mismatch");
        return decodePayload(type, b.slice());
    }

    /** Decodes a payload of the given type. */
    public static Frame decodePayload(int type, ByteBuffer payload) throws WireFormatException {
        R r = new R(payload);
        int len = payload.remaining();
        try {
            return switch (type) {
                case 1 -> new Frame.Hello(r.i32(), r.str(), r.strs());
                case 2 -> new Frame.Welcome(r.str(), r.str(), r.i64(), r.i32(), r.strs());
                case 3 -> new Frame.Redirect(r.i32(), r.strs(), r.str());
                case 4 -> new Frame.Error(r.i64(), r.i32(), r.str());
                case 5 -> new Frame.Ping(r.i64());
                case 6 -> new Frame.Pong(r.i64());
                case 7 -> new Frame.Resolve(r.i64(), r.str());
                case 8 -> new Frame.Resolved(r.i64(), r.str(), r.records());
                case 9 -> new Frame.Route(r.i64(), r.str(), r.bytes(Limits.MAX_ROUTED_PAYLOAD), r.str());
                case 10 -> new Frame.Routed(r.i64());
                case 11 -> new Frame.Deliver(r.str(), r.bytes(Limits.MAX_CERTIFICATE_BYTES), r.bytes(Limits.MAX_ROUTED_PAYLOAD));
                case 12 -> new Frame.SetPresence(r.str());
                case 13 -> new Frame.Subscribe(r.strs());
                case 14 -> new Frame.PresenceEvent(r.str(), r.str(), r.str(), r.bool());
                case 44 -> new Frame.EventPush(r.i64(), r.blobs(Limits.MAX_PUSH_EVENTS, ChatEvent.MAX_EVENT_BYTES), r.blobs(Limits.MAX_PUSH_CERTIFICATES, Limits.MAX_CERTIFICATE_BYTES));
                case 45 -> new Frame.EventAck(r.fixedList(Limits.MAX_ACK_IDS, ChatEvent.ID_BYTES));
                case 46 -> new Frame.SyncHello(r.i64(), r.bool(), r.digests());
                case 47 -> new Frame.SyncRange(r.i64(), r.fixed(ChatEvent.CONVERSATION_BYTES), r.bytes(Limits.MAX_RECONCILE_BYTES));
                case 15 -> new Frame.RelayOpen(r.i64(), r.str(), r.str());
                case 30 -> new Frame.FindNode(r.i64(), r.contact(), r.id());
                case 31 -> new Frame.Nodes(r.i64(), r.contact(), r.contacts());
                case 32 -> new Frame.FindValue(r.i64(), r.contact(), r.id(), r.str());
                case 33 -> new Frame.Values(r.i64(), r.contact(), r.str(), r.records(), r.contacts());
                case 34 -> new Frame.Store(r.i64(), r.contact(), r.records());
                case 35 -> new Frame.Stored(r.i64(), r.contact(), r.i32());
                case 36 -> new Frame.OverlayPing(r.i64(), r.contact());
                case 37 -> new Frame.OverlayPong(r.i64(), r.contact());
                case 38 -> new Frame.Forward(r.str(), r.bytes(Limits.MAX_FRAME_PAYLOAD - 1024));
                case 39 -> new Frame.Publish(r.i64(), r.record());
                case 40 -> new Frame.Published(r.i64(), r.i32());
                case 41 -> new Frame.Busy(r.i64(), r.i32(), r.strs(), r.str());
                case 42 -> new Frame.DialBack(r.i64(), r.str());
                case 43 -> new Frame.DialBackResult(r.i64(), r.i32(), r.i32());
                case 16 -> new Frame.RelayAllocated(r.i64(), r.i64(), r.str(), r.bytes(Limits.RELAY_TOKEN_BYTES));
                case 17 -> new Frame.RelayOffer(r.i64(), r.str(), r.str(), r.bytes(Limits.RELAY_TOKEN_BYTES));
                case 22 -> new Frame.Connect(r.str(), r.bool(), r.str(), r.strs());
                case 50 -> new Frame.CallInvite(r.fixed(Limits.CALL_ID_BYTES), r.str(), r.str(), r.bool(), r.str());
                case 51 -> new Frame.CallRinging(r.fixed(Limits.CALL_ID_BYTES));
                case 52 -> new Frame.CallAnswer(r.fixed(Limits.CALL_ID_BYTES));
                case 53 -> new Frame.CallSelect(r.fixed(Limits.CALL_ID_BYTES), r.str());
                case 54 -> new Frame.CallReject(r.fixed(Limits.CALL_ID_BYTES), r.i32());
                case 55 -> new Frame.CallCancel(r.fixed(Limits.CALL_ID_BYTES), r.i32());
                case 56 -> new Frame.CallHangup(r.fixed(Limits.CALL_ID_BYTES), r.i32());
                default -> new Frame.Unknown(type, len);
            };
        } catch (java.nio.BufferUnderflowException e) {
            throw new WireFormatException("frame type " + type + " is truncated");
        }
    }

    private static final class W {
        private ByteBuffer b = ByteBuffer.allocate(256);

        private void ensure(int n) {
            if (b.remaining() < n) {
                ByteBuffer nb = ByteBuffer.allocate(Math.max(b.capacity() * 2, b.position() + n));
                b.flip();
                nb.put(b);
                b = nb;
            }
        }

        void bool(boolean v) { ensure(1); b.put((byte) (v ? 1 : 0)); }
        void u16(int v) {
            if (v > Limits.MAX_LIST) throw new IllegalArgumentException("list of " + v + " exceeds " + Limits.MAX_LIST);
            ensure(2); b.putShort((short) v);
        }
        void i32(int v) { ensure(4); b.putInt(v); }
        void i64(long v) { ensure(8); b.putLong(v); }
        void str(String s) { str(s, Limits.MAX_STRING_BYTES); }
        void text(String s) { str(s, Limits.MAX_TEXT_BYTES); }
        void str(String s, int max) {
            byte[] u = (s == null ? "" : s).getBytes(StandardCharsets.UTF_8);
            if (u.length > max) throw new IllegalArgumentException("string of " + u.length + " bytes exceeds " + max);
            ensure(2 + u.length); b.putShort((short) u.length); b.put(u);
        }
        void strs(List<String> l) { u16(l.size()); l.forEach(this::str); }
        void bytes(byte[] v, int max) {
            if (v.length > max) throw new IllegalArgumentException("byte field of " + v.length + " bytes exceeds " + max);
            ensure(4 + v.length); b.putInt(v.length); b.put(v);
        }
        byte[] toArray() { byte[] a = new byte[b.position()]; b.flip(); b.get(a); return a; }
        void id(byte[] id) {
            if (id.length != Limits.NODE_ID_BYTES) throw new IllegalArgumentException("node id of " + id.length + " bytes");
            ensure(id.length); b.put(id);
        }
        void contact(OverlayContact c) { id(c.id()); str(c.address()); i32(c.capacity()); i32(c.load()); i32(c.uptimeSeconds()); }
        void contacts(List<OverlayContact> l) {
            if (l.size() > Limits.MAX_CONTACTS) throw new IllegalArgumentException("contact list of " + l.size() + " exceeds " + Limits.MAX_CONTACTS);
            u16(l.size()); l.forEach(this::contact);
        }
        void record(DeviceRecord d) {
            str(d.deviceId()); str(d.user()); str(d.presence()); str(d.observedAddress());
            strs(d.localAddresses()); bytes(d.certificate(), Limits.MAX_CERTIFICATE_BYTES); i64(d.sinceMillis());
            strs(d.supernodes()); strs(d.capabilities()); i64(d.sequence()); i64(d.expiresAtMillis());
            bytes(d.signature(), Limits.MAX_SIGNATURE_BYTES);
        }
        void records(List<DeviceRecord> l) { u16(l.size()); l.forEach(this::record); }
        void count(int n, int max) {
            if (n > max) throw new IllegalArgumentException("list of " + n + " exceeds " + max);
            ensure(2); b.putShort((short) n);
        }
        void fixed(byte[] v, int n) {
            if (v.length != n) throw new IllegalArgumentException("field of " + v.length + " bytes, expected " + n);
            ensure(n); b.put(v);
        }
        void blobs(List<byte[]> l, int maxCount, int maxBytes) { count(l.size(), maxCount); for (byte[] v : l) bytes(v, maxBytes); }
        void fixedList(List<byte[]> l, int maxCount, int n) { count(l.size(), maxCount); for (byte[] v : l) fixed(v, n); }
        void digests(List<Frame.ConversationDigest> l) {
            count(l.size(), Limits.MAX_SYNC_CONVERSATIONS);
            for (Frame.ConversationDigest d : l) { fixed(d.conversation(), ChatEvent.CONVERSATION_BYTES); i32(d.count()); fixed(d.fingerprint(), Limits.SYNC_FINGERPRINT_BYTES); }
        }
    }

    private static final class R {
        private final ByteBuffer b;

        R(ByteBuffer b) { this.b = b; }

        /** True if an optional trailing field follows. */
        boolean more() { return b.hasRemaining(); }
        byte[] id() {
            byte[] a = new byte[Limits.NODE_ID_BYTES];
            b.get(a);
            return a;
        }
        OverlayContact contact() throws WireFormatException {
            return new OverlayContact(id(), str(), i32(), i32(), i32());
        }
        List<OverlayContact> contacts() throws WireFormatException {
            int n = count();
            if (n > Limits.MAX_CONTACTS) throw new WireFormatException("contact list of " + n + " exceeds " + Limits.MAX_CONTACTS);
            List<OverlayContact> l = new ArrayList<>(n);
            for (int i = 0; i < n; i++) l.add(contact());
            return l;
        }
        DeviceRecord record() throws WireFormatException {
            return new DeviceRecord(str(), str(), str(), str(), strs(), bytes(Limits.MAX_CERTIFICATE_BYTES), i64(),
                    strs(), strs(), i64(), i64(), bytes(Limits.MAX_SIGNATURE_BYTES));
        }
        List<DeviceRecord> records() throws WireFormatException {
            int n = count();
            List<DeviceRecord> l = new ArrayList<>(n);
            for (int i = 0; i < n; i++) l.add(record());
            return l;
        }
        int count(int max) throws WireFormatException {
            int n = b.getShort() & 0xffff;
            if (n > max) throw new WireFormatException("list of " + n + " exceeds " + max);
            return n;
        }
        byte[] fixed(int n) {
            byte[] a = new byte[n];
            b.get(a);
            return a;
        }
        List<byte[]> blobs(int maxCount, int maxBytes) throws WireFormatException {
            int n = count(maxCount);
            List<byte[]> l = new ArrayList<>(n);
            for (int i = 0; i < n; i++) l.add(bytes(maxBytes));
            return l;
        }
        List<byte[]> fixedList(int maxCount, int size) throws WireFormatException {
            int n = count(maxCount);
            List<byte[]> l = new ArrayList<>(n);
            for (int i = 0; i < n; i++) l.add(fixed(size));
            return l;
        }
        List<Frame.ConversationDigest> digests() throws WireFormatException {
            int n = count(Limits.MAX_SYNC_CONVERSATIONS);
            List<Frame.ConversationDigest> l = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                byte[] c = fixed(ChatEvent.CONVERSATION_BYTES);
                int k = i32();
                if (k < 0) throw new WireFormatException("negative event count");
                l.add(new Frame.ConversationDigest(c, k, fixed(Limits.SYNC_FINGERPRINT_BYTES)));
            }
            return l;
        }
        boolean bool() throws WireFormatException {
            byte v = b.get();
            if (v != 0 && v != 1) throw new WireFormatException("boolean field is " + v);
            return v == 1;
        }
        int i32() { return b.getInt(); }
        long i64() { return b.getLong(); }
        int count() throws WireFormatException {
            int n = b.getShort() & 0xffff;
            if (n > Limits.MAX_LIST) throw new WireFormatException("list of " + n + " exceeds " + Limits.MAX_LIST);
            return n;
        }
        String str() throws WireFormatException { return str(Limits.MAX_STRING_BYTES); }
        String text() throws WireFormatException { return str(Limits.MAX_TEXT_BYTES); }
        String str(int max) throws WireFormatException {
            int n = b.getShort() & 0xffff;
            if (n > max) throw new WireFormatException("string of " + n + " bytes exceeds " + max);
            if (n > b.remaining()) throw new WireFormatException("string runs past the end of the frame");
            ByteBuffer s = b.slice(b.position(), n);
            b.position(b.position() + n);
            try {
                return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(s).toString();
            } catch (CharacterCodingException e) {
                throw new WireFormatException("string is not valid UTF-8");
            }
        }
        List<String> strs() throws WireFormatException {
            int n = count();
            List<String> l = new ArrayList<>(n);
            for (int i = 0; i < n; i++) l.add(str());
            return l;
        }
        byte[] bytes(int max) throws WireFormatException {
            int n = b.getInt();
            if (n < 0 || n > max) throw new WireFormatException("byte field of " + Integer.toUnsignedString(n) + " exceeds " + max);
            if (n > b.remaining()) throw new WireFormatException("byte field runs past the end of the frame");
            byte[] a = new byte[n];
            b.get(a);
            return a;
        }
    }
}
