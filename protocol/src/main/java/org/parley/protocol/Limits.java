package org.parley.protocol;

/** Every wire limit in one place. Changing one is a protocol change: update docs/protocol.md. */
public final class Limits {
    /** Protocol version carried in every frame header. */
    public static final int VERSION = 1;
    /** Frame header: version (u8), type (u8), payload length (u32). */
    public static final int HEADER_BYTES = 6;
    /** Largest frame payload accepted on any stream. */
    public static final int MAX_FRAME_PAYLOAD = 64 * 1024;
    /** Largest chat message text, in UTF-8 bytes. */
    public static final int MAX_TEXT_BYTES = 16 * 1024;
    /** Largest string field other than message text, in UTF-8 bytes. */
    public static final int MAX_STRING_BYTES = 1024;
    /** Largest opaque payload (sealed envelope) routed through a supernode. */
    public static final int MAX_ROUTED_PAYLOAD = 48 * 1024;
    /** Largest certificate carried in a frame. */
    public static final int MAX_CERTIFICATE_BYTES = 4 * 1024;
    /** Most elements in any list field. */
    public static final int MAX_LIST = 64;
    /** Size of a relay session token (see {@link ControlDatagram}). */
    public static final int RELAY_TOKEN_BYTES = ControlDatagram.ID_BYTES;
    /** Largest signature on a directory record (ECDSA P-256 DER is at most 72 bytes). */
    public static final int MAX_SIGNATURE_BYTES = 160;
    /** Most directory records of one user (one per device) that a supernode stores and a frame carries. */
    public static final int MAX_DEVICES_PER_USER = 8;
    /** Most contacts in one overlay answer (the Kademlia k). */
    public static final int MAX_CONTACTS = 20;
    /** Size of an overlay node id or key (SHA-256). */
    public static final int NODE_ID_BYTES = 32;
    /** How long a directory record lives unless its device republishes it (clients republish every third of it). */
    public static final long RECORD_TTL_MILLIS = 15 * 60_000L;
    /** A record claiming to live longer than this from now is refused. */
    public static final long MAX_RECORD_TTL_MILLIS = 60 * 60_000L;
    /** Most events in one {@link Frame.EventPush} (the frame payload limit usually binds first). */
    public static final int MAX_PUSH_EVENTS = 1024;
    /** Most certificates in one {@link Frame.EventPush}. */
    public static final int MAX_PUSH_CERTIFICATES = 32;
    /** Most event ids in one {@link Frame.EventAck}. */
    public static final int MAX_ACK_IDS = 1024;
    /** Most conversation digests in one {@link Frame.SyncHello}. */
    public static final int MAX_SYNC_CONVERSATIONS = 1024;
    /** Size of a conversation fingerprint (see {@link ReconcileMessage}). */
    public static final int SYNC_FINGERPRINT_BYTES = 16;
    /** Largest reconciliation message in one {@link Frame.SyncRange}. */
    public static final int MAX_RECONCILE_BYTES = 60 * 1024;
    /** ALPN protocol id of Parley QUIC connections. */
    public static final String ALPN = "parley/1";

    private Limits() {}

    /** Random bytes naming one call on every device of both users. */
    public static final int CALL_ID_BYTES = 16;
}
