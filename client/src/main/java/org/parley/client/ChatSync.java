package org.parley.client;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicLong;
import org.parley.chat.ChatReplica;
import org.parley.chat.Id;
import org.parley.chat.StoredEvent;
import org.parley.chat.sync.RangeReconciler;
import org.parley.chat.sync.SyncItems;
import org.parley.identity.DeviceCertificate;
import org.parley.identity.Role;
import org.parley.protocol.ChatEvent;
import org.parley.protocol.DeviceRecord;
import org.parley.protocol.Frame;
import org.parley.protocol.Limits;
import org.parley.protocol.WireFormatException;
import org.parley.transport.Connection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The network side of conversations in the daemon: pushes new events to every member's devices at once (over
 * peer sessions, else sealed through the supernode), re-pushes the outbox until another member holds each event,
 * and keeps every conversation reconciled with up to {@link #MAX_REPLICAS} online replicas (members' devices,
 * the user's other devices, archive nodes), chosen by kind, path quality and recency: a {@link Frame.SyncHello}
 * on each new session and every {@link #SYNC_EVERY_MILLIS}, then {@link Frame.SyncRange} rounds for the
 * conversations whose digests differ. All methods run on the chat executor.
 */
final class ChatSync {
    private static final Logger log = LoggerFactory.getLogger(ChatSync.class);
    static final int MAX_REPLICAS = 15;
    static final long SYNC_EVERY_MILLIS = 30_000;
    /** Events re-pushed from the outbox are at most this old. */
    static final long OUTBOX_WINDOW_MILLIS = 7L * 24 * 3600 * 1000;
    /** Payload budget of one EventPush on a session and through the supernode. */
    static final int SESSION_BATCH_BYTES = 56 * 1024, ROUTED_BATCH_BYTES = 40 * 1024;

    /** What the daemon provides. */
    interface Net {
        /** Open peer sessions to a user's devices. */
        List<Connection> sessions(String user);

        /** Verified directory records of a user's online devices (cached; refreshed in the background when stale). */
        List<DeviceRecord> devices(String user);

        /** A device's certificate if known (for routing). */
        DeviceCertificate certificate(String deviceId);

        /** Sends a frame sealed through the supernode; false if there is no link. */
        boolean route(DeviceCertificate device, Frame f);

        /** Starts a session (direct, else relayed) to a device if there is none. */
        void ensure(DeviceRecord d);

        /** An event from another device was accepted into the store. */
        void accepted(StoredEvent event);

        /** A device of {@code user} confirmed holding these of our events. */
        void delivered(String user, List<byte[]> ids);
    }

    private final ChatReplica replica;
    private final String me;
    private final String myDevice;
    private final Clock clock;
    private final ScheduledExecutorService exec;
    private final Net net;
    private final long resendAfterMillis;
    private final RangeReconciler reconciler = new RangeReconciler();
    private final AtomicLong nextSync = new AtomicLong(1);
    private final Map<Id, Long> lastPush = new HashMap<>();
    private final Map<String, Long> helloSentAt = new HashMap<>();
    private final Map<String, Long> syncedAt = new HashMap<>();
    private final Map<String, Long> usefulAt = new HashMap<>();
    private final Map<String, Long> catchUpAt = new HashMap<>();
    /** Certificates already sent on a session (by connection identity), so each travels once per session. */
    private final Map<Connection, Set<Id>> certsSent = new java.util.WeakHashMap<>();
    private long lastTick;
    // figures for status and metrics
    final AtomicLong syncBytesOut = new AtomicLong(), syncBytesIn = new AtomicLong(), syncRounds = new AtomicLong();

    ChatSync(ChatReplica replica, String me, String myDevice, Clock clock, ScheduledExecutorService exec, Net net,
             long resendAfterMillis) {
        this.replica = replica;
        this.me = me;
        this.myDevice = myDevice;
        this.clock = clock;
        this.exec = exec;
        this.net = net;
        this.resendAfterMillis = resendAfterMillis;
    }

    // ------------------------------------------------------------------ pushing

    /** A locally authored event was committed: push it (with the rest of its conversation's outbox) now. */
    void published(StoredEvent e) {
        pushOutbox(e.conversation(), true);
    }

    private void pushOutbox(byte[] conv, boolean fresh) {
        long since = (clock.millis() - OUTBOX_WINDOW_MILLIS) << 16;
        List<StoredEvent> box = new ArrayList<>();
        for (StoredEvent s : replica.store().unconfirmed(me, Math.max(0, since), 2000)) {
            if (Arrays.equals(s.conversation(), conv)) box.add(s);
        }
        if (box.isEmpty()) return;
        long now = clock.millis();
        for (StoredEvent s : box) lastPush.put(s.key(), now);
        Set<String> users = new LinkedHashSet<>(replica.members(conv));
        users.add(me);
        pushTo(users, box, !fresh);
        for (StoredEvent s : box) {
            // a removed member learns of the removal, and nothing written after it
            if (s.event().kind() != ChatEvent.Kind.REMOVE) continue;
            Set<String> removed = new LinkedHashSet<>(s.event().users());
            removed.removeAll(users);
            if (!removed.isEmpty()) pushTo(removed, List.of(s), !fresh);
        }
    }

    /** Sends events to every online device of the users: over sessions, else (and on re-pushes, also) routed. */
    private void pushTo(Set<String> users, List<StoredEvent> events, boolean alsoRoute) {
        List<byte[]> certs = replica.certificatesFor(events);
        for (String u : users) {
            Map<String, Connection> sessions = new LinkedHashMap<>();
            for (Connection c : net.sessions(u)) sessions.put(c.peer().deviceId(), c);
            for (Connection c : sessions.values()) sendEvents(c, 0, events, certs);
            for (DeviceRecord d : net.devices(u)) {
                if (d.deviceId().equals(myDevice) || (sessions.containsKey(d.deviceId()) && !alsoRoute)) continue;
                DeviceCertificate cert = net.certificate(d.deviceId());
                if (cert == null) continue;
                for (Frame.EventPush p : batches(0, events, certs, ROUTED_BATCH_BYTES)) net.route(cert, p);
            }
        }
    }

    private void sendEvents(Connection c, long syncId, List<StoredEvent> events, List<byte[]> certs) {
        Set<Id> sent = certsSent.computeIfAbsent(c, k -> new HashSet<>());
        List<byte[]> fresh = new ArrayList<>();
        for (byte[] der : certs) if (sent.add(new Id(ChatEvent.sha256(der)))) fresh.add(der);
        for (Frame.EventPush p : batches(syncId, events, fresh, SESSION_BATCH_BYTES)) {
            if (syncId != 0) syncBytesOut.addAndGet(frameBytes(p));
            c.send(p);
        }
    }

    /** Splits events into pushes of at most {@code budget} bytes; the certificates go with the first. */
    static List<Frame.EventPush> batches(long syncId, List<StoredEvent> events, List<byte[]> certs, int budget) {
        List<Frame.EventPush> out = new ArrayList<>();
        List<byte[]> cur = new ArrayList<>();
        List<byte[]> curCerts = new ArrayList<>(certs.subList(0, Math.min(certs.size(), Limits.MAX_PUSH_CERTIFICATES)));
        int size = 32;
        for (byte[] c : curCerts) size += c.length + 4;
        for (StoredEvent e : events) {
            int n = e.encoded().length + 4;
            if (!cur.isEmpty() && (size + n > budget || cur.size() >= Limits.MAX_PUSH_EVENTS)) {
                out.add(new Frame.EventPush(syncId, cur, curCerts));
                cur = new ArrayList<>();
                curCerts = List.of();
                size = 32;
            }
            cur.add(e.encoded());
            size += n;
        }
        if (!cur.isEmpty() || !curCerts.isEmpty()) out.add(new Frame.EventPush(syncId, cur, curCerts));
        return out;
    }

    /** Encoded size of a frame, for the sync byte counters; pushes are sized from their layout, not re-encoded. */
    private static int frameBytes(Frame f) {
        if (f instanceof Frame.EventPush p) {
            int n = Limits.HEADER_BYTES + 8 + 2 + 2;
            for (byte[] e : p.events()) n += 4 + e.length;
            for (byte[] c : p.certificates()) n += 4 + c.length;
            return n;
        }
        return org.parley.protocol.FrameCodec.encode(f).length;
    }

    // ------------------------------------------------------------------ receiving

    /** Events pushed by a peer ({@code via} null when they came sealed through the supernode). */
    void onPush(Frame.EventPush p, DeviceCertificate from, Connection via, String path) {
        if (p.syncId() != 0) syncBytesIn.addAndGet(frameBytes(p));
        ChatReplica.Received r = replica.receive(p.events(), p.certificates(), path);
        log.debug("{}: push {} from {}: {} events, {} accepted, {} rejected, {} pending", me, p.syncId(), from.label(),
                p.events().size(), r.accepted().size(), r.rejected(), r.pending());
        if (!r.accepted().isEmpty()) usefulAt.put(from.deviceId(), clock.millis());
        for (StoredEvent e : r.accepted()) net.accepted(e);
        List<byte[]> ack = new ArrayList<>();
        for (Map.Entry<Id, String> h : r.held().entrySet()) if (h.getValue().equals(from.user())) ack.add(h.getKey().bytes());
        // live pushes are acknowledged (receipts for the author's outbox); sync transfers are not: the author's own
        // outbox pushes them live until someone acknowledges, and acking every synced event would double the traffic
        if (!ack.isEmpty() && !from.user().equals(me) && p.syncId() == 0) {
            for (int i = 0; i < ack.size(); i += Limits.MAX_ACK_IDS) {
                Frame.EventAck a = new Frame.EventAck(ack.subList(i, Math.min(ack.size(), i + Limits.MAX_ACK_IDS)));
                if (via != null && via.isOpen()) via.send(a);
                else net.route(from, a);
            }
        }
        if (!r.incomplete().isEmpty() && p.syncId() == 0) {
            // a live push whose parents we lack: reconcile those conversations with the sender now (events that come
            // in a reconciliation wait for the rest of it, which brings their parents)
            if (via != null && via.isOpen()) {
                long id = nextSync.getAndIncrement();
                long now = clock.millis();
                for (Id conv : r.incomplete()) {
                    // at most one such catch-up per peer and conversation every 5 s: a burst of pushes starts one
                    Long last = catchUpAt.put(from.deviceId() + conv.hex(), now);
                    if (last == null || now - last >= 5_000) startRange(via, id, conv.bytes());
                }
            } else {
                for (DeviceRecord d : net.devices(from.user())) if (d.deviceId().equals(from.deviceId())) net.ensure(d);
            }
        }
    }

    void onAck(Frame.EventAck a, DeviceCertificate from, String path) {
        if (from.user().equals(me)) return;
        int n = replica.store().addReceipts(a.ids(), from.user(), path);
        if (n > 0) net.delivered(from.user(), a.ids());
    }

    // ------------------------------------------------------------------ reconciliation

    /**
     * Conversations a device of {@code user} may sync with us: all of ours for our own devices, else those it is or was
     * in (a former member gets what was written while it was a member: {@link ChatReplica#itemsFor}).
     */
    private boolean shares(byte[] conv, String user) {
        return user.equals(me) || replica.everMembers(conv).contains(user);
    }

    private List<Frame.ConversationDigest> digestsFor(String user) {
        List<Frame.ConversationDigest> out = new ArrayList<>();
        for (byte[] c : replica.conversationIds()) {
            if (!shares(c, user) || !user.equals(me) && !replica.everMembers(c).contains(me)) continue;
            out.add(digest(c, user));
            if (out.size() >= Limits.MAX_SYNC_CONVERSATIONS) break;
        }
        return out;
    }

    private Frame.ConversationDigest digest(byte[] conv, String peerUser) {
        RangeReconciler.Summary s = RangeReconciler.summary(replica.itemsFor(conv, peerUser));
        return new Frame.ConversationDigest(conv, s.count(), s.fingerprint16());
    }

    /** Opens a sync with the device at the other end of a session. */
    void hello(Connection c) {
        if (!c.isOpen()) return;
        String device = c.peer().deviceId();
        Frame.SyncHello h = new Frame.SyncHello(nextSync.getAndIncrement(), false, digestsFor(c.peer().user()));
        helloSentAt.put(device, clock.millis());
        syncedAt.put(device, clock.millis());
        syncBytesOut.addAndGet(frameBytes(h));
        log.debug("{}: sync hello {} to {} ({} conversations)", me, h.syncId(), c.peer().label(), h.conversations().size());
        c.send(h);
    }

    void onHello(Frame.SyncHello h, Connection c) {
        syncBytesIn.addAndGet(frameBytes(h));
        String device = c.peer().deviceId();
        String user = c.peer().user();
        log.debug("{}: sync hello {} from {} (reply {}, {} conversations)", me, h.syncId(), c.peer().label(), h.reply(),
                h.conversations().size());
        if (h.reply()) {
            helloSentAt.remove(device);
            return;
        }
        Long mine = helloSentAt.get(device);
        if (mine != null && clock.millis() - mine < 10_000 && myDevice.compareTo(device) < 0) {
            return; // both opened at once: the peer answers ours, which covers everything
        }
        syncedAt.put(device, clock.millis());
        Map<Id, Frame.ConversationDigest> theirs = new LinkedHashMap<>();
        for (Frame.ConversationDigest d : h.conversations()) theirs.put(new Id(d.conversation()), d);
        List<Frame.ConversationDigest> answer = new ArrayList<>();
        List<byte[]> differ = new ArrayList<>();
        for (Frame.ConversationDigest d : h.conversations()) {
            byte[] conv = d.conversation();
            if (replica.knows(conv) && !shares(conv, user)) continue; // not theirs to see
            Frame.ConversationDigest m = digest(conv, user);
            answer.add(m);
            if (m.count() != d.count() || !Arrays.equals(m.fingerprint(), d.fingerprint())) differ.add(conv);
        }
        for (Frame.ConversationDigest m : digestsFor(user)) {
            if (theirs.containsKey(new Id(m.conversation()))) continue;
            answer.add(m);
            if (m.count() > 0) differ.add(m.conversation());
        }
        Frame.SyncHello reply = new Frame.SyncHello(h.syncId(), true,
                answer.subList(0, Math.min(answer.size(), Limits.MAX_SYNC_CONVERSATIONS)));
        syncBytesOut.addAndGet(frameBytes(reply));
        c.send(reply);
        log.debug("{}: sync {} with {}: {} conversation(s) differ", me, h.syncId(), c.peer().label(), differ.size());
        for (byte[] conv : differ) startRange(c, h.syncId(), conv);
    }

    private void startRange(Connection c, long syncId, byte[] conv) {
        Frame.SyncRange r = new Frame.SyncRange(syncId, conv, reconciler.initiate(replica.itemsFor(conv, c.peer().user())));
        syncBytesOut.addAndGet(frameBytes(r));
        syncRounds.incrementAndGet();
        c.send(r);
    }

    void onRange(Frame.SyncRange r, Connection c) {
        syncBytesIn.addAndGet(frameBytes(r));
        String user = c.peer().user();
        byte[] conv = r.conversation();
        if (replica.knows(conv) && !shares(conv, user)) {
            log.info("{} asked to sync a conversation it is not in; ignored", c.peer().label());
            return;
        }
        SyncItems items = replica.itemsFor(conv, user);
        RangeReconciler.Outcome o;
        try {
            o = reconciler.respond(items, r.message());
        } catch (WireFormatException e) {
            log.info("bad reconciliation message from {}: {}", c.peer().label(), e.getMessage());
            return;
        }
        log.debug("{}: sync {} range from {}: send {}, need {}, reply {}", me, r.syncId(), c.peer().label(), o.send().size(),
                o.need().size(), o.reply() == null ? "none" : o.reply().length + " B");
        if (!o.send().isEmpty()) {
            ChatReplica.Batch b = replica.eventsForPush(o.send());
            List<StoredEvent> events = new ArrayList<>(b.events());
            events.sort(Comparator.comparingLong((StoredEvent e) -> e.event().hlc()).thenComparing(StoredEvent::key));
            sendEvents(c, r.syncId(), events, b.certificates());
        }
        if (o.reply() != null) {
            Frame.SyncRange next = new Frame.SyncRange(r.syncId(), conv, o.reply());
            syncBytesOut.addAndGet(frameBytes(next));
            syncRounds.incrementAndGet();
            c.send(next);
        }
    }

    // ------------------------------------------------------------------ upkeep

    /** Opens a sync with every peer device we have a session with. */
    void syncAll() {
        Set<String> users = new LinkedHashSet<>();
        users.add(me);
        for (byte[] c : replica.conversationIds()) users.addAll(replica.members(c));
        for (String u : users) for (Connection c : net.sessions(u)) hello(c);
    }

    /** The supernode link or a peer came (back) online: re-push the outbox at the next tick. */
    void reconnected() {
        lastPush.clear();
    }

    /** A peer session came up: sync with it if it is a replica of something we hold. */
    void sessionUp(Connection c) {
        if (c.peer().role() == Role.SUPERNODE) return;
        hello(c);
    }

    /** Every second: outbox re-pushes; every few seconds: replica choice, sessions, periodic syncs. */
    void tick() {
        long now = clock.millis();
        long since = Math.max(0, (now - OUTBOX_WINDOW_MILLIS) << 16);
        Set<Id> due = new LinkedHashSet<>();
        for (StoredEvent s : replica.store().unconfirmed(me, since, 500)) {
            Long last = lastPush.get(s.key());
            if (last == null || now - last >= resendAfterMillis) due.add(new Id(s.conversation()));
        }
        for (Id conv : due) pushOutbox(conv.bytes(), false);
        if (now - lastTick < 5_000) return;
        lastTick = now;
        chooseReplicas(now);
    }

    /** Devices we did not know of came online: push the outbox to them and start sessions and syncs now. */
    void devicesAppeared() {
        lastPush.clear();
        tick();
        chooseReplicas(clock.millis());
    }

    /** Candidate replicas: own devices first, archive nodes, then members' devices by path and recency. */
    private void chooseReplicas(long now) {
        Set<String> users = new LinkedHashSet<>();
        users.add(me);
        List<ChatReplica.Summary> convs = replica.list();
        for (ChatReplica.Summary s : convs) {
            if (!s.member()) continue;
            users.addAll(s.members());
            if (users.size() >= 64) break;
        }
        record Candidate(DeviceRecord record, Connection session, int score) {}
        List<Candidate> cands = new ArrayList<>();
        for (String u : users) {
            Map<String, Connection> sessions = new HashMap<>();
            for (Connection c : net.sessions(u)) sessions.put(c.peer().deviceId(), c);
            for (DeviceRecord d : net.devices(u)) {
                if (d.deviceId().equals(myDevice)) continue;
                Connection c = sessions.get(d.deviceId());
                int score = 0;
                if (u.equals(me)) score += 8;
                DeviceCertificate cert = net.certificate(d.deviceId());
                if (cert != null && cert.role() == Role.ARCHIVE) score += 4;
                if (c != null) score += c.relayAddress() == null ? 3 : 2;
                Long useful = usefulAt.get(d.deviceId());
                if (useful != null && now - useful < 600_000) score += 1;
                cands.add(new Candidate(d, c, score));
            }
        }
        cands.sort(Comparator.comparingInt(Candidate::score).reversed());
        for (int i = 0; i < Math.min(MAX_REPLICAS, cands.size()); i++) {
            Candidate k = cands.get(i);
            if (k.session() == null) {
                net.ensure(k.record());
                continue;
            }
            Long last = syncedAt.get(k.record().deviceId());
            if (last == null || now - last >= SYNC_EVERY_MILLIS) hello(k.session());
        }
    }

    /** For tests and status: pending outbox size. */
    int outboxSize() {
        return replica.store().unconfirmedCount(me, Math.max(0, (clock.millis() - OUTBOX_WINDOW_MILLIS) << 16));
    }
}
