package org.parley.protocol;

import java.util.List;

/**
 * Every frame of protocol version 1. Client-supernode control frames travel on the connection's first
 * bidirectional stream; peer frames travel on a direct session's stream or sealed inside
 * {@link Route}/{@link Deliver}. Type numbers are stable; see {@link FrameCodec} for the layout.
 */
public sealed interface Frame {
    int type();

    // ---- client <-> supernode ----
    /** First frame of a client on a supernode connection. */
    record Hello(int clientVersion, String presence, List<String> localAddresses) implements Frame {
        public int type() { return 1; }
    }

    /**
     * Admission: the supernode's id, the UDP address it observes for the client, the keepalive interval, and
     * other supernodes (host:port, least loaded first) for the client's host cache.
     */
    record Welcome(String supernodeId, String observedAddress, long serverTimeMillis, int keepaliveMillis,
                   List<String> supernodes) implements Frame {
        public Welcome(String supernodeId, String observedAddress, long serverTimeMillis, int keepaliveMillis) {
            this(supernodeId, observedAddress, serverTimeMillis, keepaliveMillis, List.of());
        }

        public int type() { return 2; }
    }

    /** Admission refused because of load: try one of {@code alternatives} or come back after the delay. */
    record Redirect(int retryAfterMillis, List<String> alternatives, String reason) implements Frame {
        public int type() { return 3; }
    }

    /** An error answering request {@code requestId} (0 when not tied to a request). */
    record Error(long requestId, int code, String message) implements Frame {
        public int type() { return 4; }
    }

    record Ping(long nonce) implements Frame {
        public int type() { return 5; }
    }

    record Pong(long nonce) implements Frame {
        public int type() { return 6; }
    }

    /** Ask for the online devices of {@code user}. */
    record Resolve(long requestId, String user) implements Frame {
        public int type() { return 7; }
    }

    record Resolved(long requestId, String user, List<DeviceRecord> devices) implements Frame {
        public int type() { return 8; }
    }

    /**
     * Forward an opaque sealed payload to one device, attached here or at {@code viaSupernode} (host:port from
     * the device's directory record; empty when unknown). Answered by {@link Routed} or {@link Error}.
     */
    record Route(long requestId, String toDevice, byte[] payload, String viaSupernode) implements Frame {
        public Route(long requestId, String toDevice, byte[] payload) {
            this(requestId, toDevice, payload, "");
        }

        public int type() { return 9; }
    }

    record Routed(long requestId) implements Frame {
        public int type() { return 10; }
    }

    /** A routed payload arriving at its device, with the sender's certificate (for verification and unsealing). */
    record Deliver(String fromDevice, byte[] fromCertificate, byte[] payload) implements Frame {
        public int type() { return 11; }
    }

    record SetPresence(String presence) implements Frame {
        public int type() { return 12; }
    }

    /** Watch these users' presence; replaces the previous watch list. */
    record Subscribe(List<String> users) implements Frame {
        public int type() { return 13; }
    }

    record PresenceEvent(String user, String deviceId, String presence, boolean online) implements Frame {
        public int type() { return 14; }
    }

    /** Ask the supernode's relay for a session with {@code toDevice}. Answered by {@link RelayAllocated} or {@link Error}. */
    record RelayOpen(long requestId, String toDevice, String viaSupernode) implements Frame {
        public RelayOpen(long requestId, String toDevice) {
            this(requestId, toDevice, "");
        }

        public int type() { return 15; }
    }

    /** A relay session: bind {@code token} at the relay's UDP address {@code relayAddress} (host:port). */
    record RelayAllocated(long requestId, long sessionId, String relayAddress, byte[] token) implements Frame {
        public int type() { return 16; }
    }

    /** Sent by the supernode to the other side of a relay session that {@code fromDevice} opened. */
    record RelayOffer(long sessionId, String fromDevice, String relayAddress, byte[] token) implements Frame {
        public int type() { return 17; }
    }

    /** Store this device's signed directory record in the overlay. Answered by {@link Published} or {@link Error}. */
    record Publish(long requestId, DeviceRecord record) implements Frame {
        public int type() { return 39; }
    }

    /** The record is stored at {@code replicas} supernodes (this one included). */
    record Published(long requestId, int replicas) implements Frame {
        public int type() { return 40; }
    }

    /**
     * A request refused because the supernode is at one of its capacities (lookups per second, relay
     * bandwidth): ask one of {@code alternatives} or retry after the delay. The connection stays up.
     */
    record Busy(long requestId, int retryAfterMillis, List<String> alternatives, String reason) implements Frame {
        public int type() { return 41; }
    }

    /**
     * Promotion check: ask supernodes to dial {@code address} (host:port of the client's would-be supernode
     * port) and confirm it is publicly reachable. Answered by {@link DialBackResult}.
     */
    record DialBack(long requestId, String address) implements Frame {
        public int type() { return 42; }
    }

    /** How many distinct supernodes reached the address. */
    record DialBackResult(long requestId, int confirmations, int tried) implements Frame {
        public int type() { return 43; }
    }

    // ---- supernode <-> supernode (overlay; every message names its sender) ----
    /** Kademlia FIND_NODE: the {@code sender}'s closest known contacts to {@code target}. */
    record FindNode(long requestId, OverlayContact sender, byte[] target) implements Frame {
        public int type() { return 30; }
    }

    record Nodes(long requestId, OverlayContact sender, List<OverlayContact> contacts) implements Frame {
        public int type() { return 31; }
    }

    /** Kademlia FIND_VALUE for a user's records; {@code key} must be the user's key. */
    record FindValue(long requestId, OverlayContact sender, byte[] key, String user) implements Frame {
        public int type() { return 32; }
    }

    /** The records the sender holds for the user (may be empty) and its closest contacts to the key. */
    record Values(long requestId, OverlayContact sender, String user, List<DeviceRecord> records,
                  List<OverlayContact> contacts) implements Frame {
        public int type() { return 33; }
    }

    /** Kademlia STORE of one user's device records. */
    record Store(long requestId, OverlayContact sender, List<DeviceRecord> records) implements Frame {
        public int type() { return 34; }
    }

    /** How many of the stored records were accepted (valid and not older than what the sender had). */
    record Stored(long requestId, OverlayContact sender, int accepted) implements Frame {
        public int type() { return 35; }
    }

    record OverlayPing(long requestId, OverlayContact sender) implements Frame {
        public int type() { return 36; }
    }

    record OverlayPong(long requestId, OverlayContact sender) implements Frame {
        public int type() { return 37; }
    }

    /**
     * A frame for a device attached to the receiving supernode, from another supernode: {@code frame} is an
     * encoded {@link Deliver} or {@link RelayOffer}. Not answered; the receiver drops it if the device is gone.
     */
    record Forward(String toDevice, byte[] frame) implements Frame {
        public int type() { return 38; }
    }

    // ---- peer <-> peer (direct session or sealed in Route) ----
    /**
     * Conversation events (each {@link ChatEvent#encode()}d) and the author certificates (DER) that prove them.
     * {@code syncId} 0: a live push of new events, answered by {@link EventAck} for the events whose author is the
     * sending device's user; otherwise events found missing by that reconciliation (not acknowledged).
     */
    record EventPush(long syncId, List<byte[]> events, List<byte[]> certificates) implements Frame {
        public int type() { return 44; }
    }

    /** The receiver stored (or already had) these events durably. */
    record EventAck(List<byte[]> ids) implements Frame {
        public int type() { return 45; }
    }

    /** A conversation's size and fingerprint (see {@link ReconcileMessage}) in a {@link SyncHello}. */
    record ConversationDigest(byte[] conversation, int count, byte[] fingerprint) {}

    /**
     * Opens (or answers, {@code reply}) a sync: the digests of the conversations both devices should share. The
     * receiver answers with its own digests and starts a {@link SyncRange} reconciliation for each that differs;
     * identical histories are confirmed by this one round trip.
     */
    record SyncHello(long syncId, boolean reply, List<ConversationDigest> conversations) implements Frame {
        public int type() { return 46; }
    }

    /** One reconciliation message ({@link ReconcileMessage}) of one conversation within sync {@code syncId}. */
    record SyncRange(long syncId, byte[] conversation, byte[] message) implements Frame {
        public int type() { return 47; }
    }

    /**
     * Hole-punching coordination: the sender is trying attempt {@code attemptId} (32 hex digits) for a
     * direct session and can be reached at its supernode-observed address or one of its local addresses.
     * The receiver answers with its own Connect (same attempt id, {@code reply} set) and both punch.
     */
    record Connect(String attemptId, boolean reply, String observedAddress, List<String> localAddresses) implements Frame {
        public int type() { return 22; }
    }

    // ---- call signalling, device <-> device (peer session or sealed in Route); see CallReason ----
    /**
     * Rings a device: {@code callId} ({@link Limits#CALL_ID_BYTES} random bytes) names the call on every device of
     * both users; {@code codec} is "opus/48000/1"; {@code lowBandwidth} asks for the 6-12 kbps mode.
     */
    record CallInvite(byte[] callId, String callerUser, String callerDevice, boolean lowBandwidth, String codec) implements Frame {
        public int type() { return 50; }
    }

    /** The callee device is ringing. */
    record CallRinging(byte[] callId) implements Frame {
        public int type() { return 51; }
    }

    /** The callee device's user answered. */
    record CallAnswer(byte[] callId) implements Frame {
        public int type() { return 52; }
    }

    /**
     * The caller's choice among the answers (the first it got): the named device has the call, every other rung
     * device stops ringing ("answered elsewhere").
     */
    record CallSelect(byte[] callId, String selectedDevice) implements Frame {
        public int type() { return 53; }
    }

    /** The callee device refuses: {@link CallReason#DECLINED} or {@link CallReason#BUSY}. */
    record CallReject(byte[] callId, int reason) implements Frame {
        public int type() { return 54; }
    }

    /** The caller stops ringing a device before it was connected: cancelled, no answer, answered elsewhere. */
    record CallCancel(byte[] callId, int reason) implements Frame {
        public int type() { return 55; }
    }

    /** Either side ends a connected call. */
    record CallHangup(byte[] callId, int reason) implements Frame {
        public int type() { return 56; }
    }

    /** A frame of a type this version does not know; receivers skip it. */
    record Unknown(int type, int length) implements Frame {}
}
