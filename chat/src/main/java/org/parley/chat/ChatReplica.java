package org.parley.chat;

import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;
import org.parley.chat.sync.SyncItem;
import org.parley.chat.sync.SyncItems;
import org.parley.identity.UserNames;
import org.parley.protocol.ChatEvent;
import org.parley.protocol.ChatEvent.Kind;
import org.parley.protocol.HybridClock;
import org.parley.protocol.Limits;
import org.parley.protocol.WireFormatException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One device's replica of all its user's conversations: authoring (every event is signed, checked like a
 * received one and committed to the store before it is acknowledged), receiving (decode, certificate and
 * signature, DAG and membership checks; events whose parents have not arrived wait aside), and the views
 * (conversation list, history in display order with edits, deletes, reactions and read markers applied).
 * Thread-safe: every method holds the replica's lock. No network: the daemon moves the bytes.
 */
public final class ChatReplica implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ChatReplica.class);
    /** Most received events kept aside waiting for their parents. */
    public static final int MAX_PENDING = 50_000;
    /** Most parents an authored event names (the newest heads). */
    public static final int PARENTS = 8;
    private static final Set<Integer> LINE_KINDS = Set.of(Kind.MESSAGE.code, Kind.CREATE.code, Kind.ADD.code,
            Kind.REMOVE.code, Kind.LEAVE.code, Kind.RENAME.code);

    /** A user mistake (unknown conversation, not a member, empty text): one line. */
    public static final class ChatException extends RuntimeException {
        public ChatException(String message) {
            super(message);
        }
    }

    private final EventStore store;
    private final CertificateBook book;
    private final AuthorVerifier authors;
    private final String user;
    private final byte[] device;
    private final PrivateKey key;
    private byte[] myCertificate;
    private final HybridClock hlc;
    private final Clock clock;
    private final Map<Id, Conversation> conversations = new LinkedHashMap<>();
    private final Map<Id, ChatEvent.Decoded> pending = new LinkedHashMap<>();
    private final AtomicLong accepted = new AtomicLong(), rejected = new AtomicLong(), duplicates = new AtomicLong();

    public ChatReplica(EventStore store, CertificateBook book, String user, byte[] device, PrivateKey key,
                       byte[] myCertificate, HybridClock hlc, Clock clock) {
        this(store, book, book, user, device, key, myCertificate, hlc, clock);
    }

    /** With a separate author check (the simulator's stand-in for certificates). */
    public ChatReplica(EventStore store, CertificateBook book, AuthorVerifier authors, String user, byte[] device,
                       PrivateKey key, byte[] myCertificate, HybridClock hlc, Clock clock) {
        this.store = store;
        this.book = book;
        this.authors = authors;
        this.user = user;
        this.device = device.clone();
        this.key = key;
        this.myCertificate = myCertificate;
        this.hlc = hlc;
        this.clock = clock;
        hlc.observe(store.maxHlc());
        for (byte[] c : store.conversationIds()) {
            Conversation conv = new Conversation(c);
            store.forEach(c, e -> conv.add(e.event(), e.id()));
            conversations.put(new Id(c), conv);
        }
        if (myCertificate != null) {
            book.learn(myCertificate);
            store.insert(List.of(), List.of(myCertificate), "local");
        }
    }

    /** A renewed certificate of this device: stored so that peers can check events signed from now on. */
    public synchronized void setCertificate(byte[] der) {
        myCertificate = der;
        book.learn(der);
        store.insert(List.of(), List.of(der), "local");
    }

    public String user() {
        return user;
    }

    public EventStore store() {
        return store;
    }

    public long acceptedCount() {
        return accepted.get();
    }

    public long rejectedCount() {
        return rejected.get();
    }

    public long duplicateCount() {
        return duplicates.get();
    }

    public synchronized int pendingCount() {
        return pending.size();
    }

    // ------------------------------------------------------------------ authoring

    /** Creates a group with the given other members; returns its creation event. */
    public synchronized StoredEvent create(String name, List<String> members) {
        if (name == null || name.isBlank()) throw new ChatException("a group needs a name");
        Set<String> others = new TreeSet<>();
        for (String m : members) {
            if (!UserNames.isValid(m)) throw new ChatException("'" + m + "' is not a valid user name");
            if (!m.equals(user)) others.add(m);
        }
        ChatEvent e = sign(ChatEvent.unsigned(Kind.CREATE, new byte[ChatEvent.CONVERSATION_BYTES], user, device, hlc.now(),
                List.of(), null, List.copyOf(others), name.strip()));
        return commit(e);
    }

    /** The 1:1 conversation with {@code other}, created (by a signed creation event) if this replica has none. */
    public synchronized byte[] dm(String other) {
        if (!UserNames.isValid(other)) throw new ChatException("'" + other + "' is not a valid user name");
        if (other.equals(user)) throw new ChatException("cannot open a conversation with yourself");
        byte[] id = Conversation.dmId(user, other);
        if (!conversations.containsKey(new Id(id))) {
            List<String> pair = new ArrayList<>(new TreeSet<>(List.of(user, other)));
            commit(sign(ChatEvent.unsigned(Kind.CREATE, id, user, device, hlc.now(), List.of(), null, pair, "")));
        }
        return id;
    }

    /** Appends an event to a conversation: parents are the current heads; committed before it returns. */
    public synchronized StoredEvent post(byte[] conversation, Kind kind, byte[] target, List<String> users, String text) {
        Conversation c = conversations.get(new Id(conversation));
        if (c == null) throw new ChatException("no conversation " + HexFormat.of().formatHex(conversation));
        int bytes = text == null ? 0 : text.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > Limits.MAX_TEXT_BYTES) {
            throw new ChatException("text is " + bytes + " bytes; the limit is " + Limits.MAX_TEXT_BYTES + " bytes (UTF-8)");
        }
        hlc.observe(c.maxHlc());
        ChatEvent e = sign(ChatEvent.unsigned(kind, conversation, user, device, hlc.now(), c.heads(PARENTS), target,
                users == null ? List.of() : users, text == null ? "" : text));
        return commit(e);
    }

    private ChatEvent sign(ChatEvent unsigned) {
        return CertificateBook.sign(unsigned, key);
    }

    private StoredEvent commit(ChatEvent e) {
        byte[] encoded = e.encode();
        ChatEvent.Decoded d;
        try {
            d = ChatEvent.decode(encoded);
        } catch (WireFormatException ex) {
            throw new ChatException("event cannot be encoded: " + ex.getMessage());
        }
        Id cid = new Id(d.event().conversationId());
        Conversation c = conversations.get(cid);
        Conversation fresh = c == null ? new Conversation(cid.bytes()) : c;
        Conversation.Verdict v = fresh.check(d.event(), d.id());
        if (v instanceof Conversation.Verdict.Reject r) throw new ChatException("refused: " + r.reason());
        if (!(v instanceof Conversation.Verdict.Accept)) throw new ChatException("refused: " + v);
        StoredEvent s = StoredEvent.of(d, clock.millis());
        store.insert(List.of(s), myCertificate == null ? List.of() : List.of(myCertificate), "local");
        fresh.add(d.event(), d.id());
        if (c == null) conversations.put(cid, fresh);
        return s;
    }

    // ------------------------------------------------------------------ receiving

    /** The outcome of a received batch. */
    public record Received(List<StoredEvent> accepted, int rejected, int duplicates, int pending, Set<Id> incomplete,
                           Map<Id, String> held) {}

    /**
     * Checks and stores received events (with the certificates that prove their authors). Accepted events are
     * durable when this returns. Events whose parents are unknown wait (bounded) and are retried on every batch;
     * {@code incomplete} names the conversations that still wait for something. {@code via}: how they came.
     */
    public synchronized Received receive(List<byte[]> encodedEvents, Collection<byte[]> certificates, String via) {
        List<byte[]> newCerts = new ArrayList<>();
        for (byte[] der : certificates) {
            if (book.learn(der) != null) newCerts.add(der);
        }
        List<ChatEvent.Decoded> batch = new ArrayList<>();
        List<ChatEvent.Decoded> all = new ArrayList<>();
        int bad = 0, dup = 0;
        for (byte[] raw : encodedEvents) {
            try {
                ChatEvent.Decoded d = ChatEvent.decode(raw);
                all.add(d);
                Id eid = new Id(d.id());
                if (pending.containsKey(eid)) {
                    dup++;
                    continue;
                }
                batch.add(d);
            } catch (WireFormatException ex) {
                bad++;
                log.info("rejected a malformed event: {}", ex.getMessage());
            }
        }
        // signatures first, in parallel (the expensive part), then the DAG in time order
        List<ChatEvent.Decoded> fresh = new ArrayList<>();
        for (ChatEvent.Decoded d : batch) {
            Conversation c = conversations.get(new Id(d.event().conversationId()));
            if (c != null && c.contains(d.id())) dup++;
            else fresh.add(d);
        }
        String[] why = new String[fresh.size()];
        java.util.stream.IntStream.range(0, fresh.size()).parallel().forEach(i -> {
            ChatEvent e = fresh.get(i).event();
            if (!hlc.plausible(e.hlc())) why[i] = "its time is more than a day ahead";
            else why[i] = authors.check(e, Arrays.copyOf(fresh.get(i).encoded(), fresh.get(i).encoded().length - 1 - e.signature().length));
        });
        List<ChatEvent.Decoded> ready = new ArrayList<>();
        for (int i = 0; i < fresh.size(); i++) {
            if (why[i] != null) {
                bad++;
                log.info("rejected event {} by {}: {}", shortId(fresh.get(i).id()), fresh.get(i).event().author(), why[i]);
            } else {
                ready.add(fresh.get(i));
            }
        }
        // retry what waited, together with the new ones
        ready.addAll(pending.values());
        pending.clear();
        ready.sort(Comparator.comparingLong((ChatEvent.Decoded d) -> d.event().hlc()).thenComparing(d -> new Id(d.id())));
        List<StoredEvent> ok = new ArrayList<>();
        Map<Id, Conversation> created = new HashMap<>();
        boolean progress = true;
        List<ChatEvent.Decoded> waiting = ready;
        while (progress && !waiting.isEmpty()) {
            progress = false;
            List<ChatEvent.Decoded> next = new ArrayList<>();
            for (ChatEvent.Decoded d : waiting) {
                Id cid = new Id(d.event().conversationId());
                Conversation c = conversations.get(cid);
                if (c == null) c = created.get(cid);
                if (c == null) {
                    if (d.event().kind() != Kind.CREATE) {
                        next.add(d);
                        continue;
                    }
                    c = new Conversation(cid.bytes());
                }
                Conversation.Verdict v = c.check(d.event(), d.id());
                switch (v) {
                    case Conversation.Verdict.Accept a -> {
                        c.add(d.event(), d.id());
                        if (!conversations.containsKey(cid)) created.put(cid, c);
                        ok.add(StoredEvent.of(d, clock.millis()));
                        progress = true;
                    }
                    case Conversation.Verdict.Duplicate x -> dup++;
                    case Conversation.Verdict.MissingParents m -> next.add(d);
                    case Conversation.Verdict.Reject r -> {
                        bad++;
                        log.info("rejected event {} by {}: {}", shortId(d.id()), d.event().author(), r.reason());
                    }
                }
            }
            waiting = next;
        }
        Set<Id> incomplete = new LinkedHashSet<>();
        for (ChatEvent.Decoded d : waiting) {
            if (pending.size() >= MAX_PENDING) break; // dropped: a later sync brings them again
            pending.put(new Id(d.id()), d);
            incomplete.add(new Id(d.event().conversationId()));
        }
        try {
            store.insert(ok, newCerts, via);
        } catch (RuntimeException ex) {
            // keep the index equal to the store: reload what this batch touched
            for (StoredEvent s : ok) reload(s.conversation());
            throw ex;
        }
        conversations.putAll(created);
        for (StoredEvent s : ok) hlc.observe(s.event().hlc());
        accepted.addAndGet(ok.size());
        rejected.addAndGet(bad);
        duplicates.addAndGet(dup);
        Map<Id, String> held = new LinkedHashMap<>();
        for (ChatEvent.Decoded d : all) {
            Conversation c = conversations.get(new Id(d.event().conversationId()));
            if (c != null && c.contains(d.id())) held.put(new Id(d.id()), d.event().author());
        }
        return new Received(ok, bad, dup, pending.size(), incomplete, held);
    }

    private void reload(byte[] conv) {
        Conversation c = new Conversation(conv);
        store.forEach(conv, e -> c.add(e.event(), e.id()));
        if (c.size() > 0) conversations.put(new Id(conv), c);
        else conversations.remove(new Id(conv));
    }

    static String shortId(byte[] id) {
        return HexFormat.of().formatHex(id, 0, 6);
    }

    // ------------------------------------------------------------------ sync support

    /** A snapshot of a conversation's items for reconciliation (empty for an unknown conversation). */
    public synchronized SyncItems items(byte[] conversation) {
        Conversation c = conversations.get(new Id(conversation));
        return c == null ? SyncItems.EMPTY : c.snapshot();
    }

    /** The items a device of {@code peerUser} may hold of a conversation (see {@link Conversation#itemsVisibleTo}). */
    public synchronized SyncItems itemsFor(byte[] conversation, String peerUser) {
        Conversation c = conversations.get(new Id(conversation));
        if (c == null) return SyncItems.EMPTY;
        if (peerUser.equals(user) || c.members().isMember(peerUser)) return c.snapshot();
        return SyncItems.of(c.itemsVisibleTo(peerUser));
    }

    public synchronized boolean knows(byte[] conversation) {
        return conversations.containsKey(new Id(conversation));
    }

    public synchronized List<byte[]> conversationIds() {
        List<byte[]> out = new ArrayList<>();
        for (Id i : conversations.keySet()) out.add(i.bytes());
        return out;
    }

    /** Current members of a conversation (empty if unknown). */
    public synchronized Set<String> members(byte[] conversation) {
        Conversation c = conversations.get(new Id(conversation));
        return c == null ? Set.of() : c.members().members();
    }

    /** Users who are or were members of a conversation (its creation's and every add's users). */
    public synchronized Set<String> everMembers(byte[] conversation) {
        Conversation c = conversations.get(new Id(conversation));
        return c == null ? Set.of() : c.everMembers();
    }

    /** The stored events with these ids, and the certificates of their authors' devices. */
    public synchronized Batch eventsForPush(Collection<byte[]> ids) {
        List<StoredEvent> events = store.get(ids);
        return new Batch(events, certificatesFor(events));
    }

    public record Batch(List<StoredEvent> events, List<byte[]> certificates) {}

    /** The certificates (DER) of the devices that authored these events. */
    public List<byte[]> certificatesFor(Collection<StoredEvent> events) {
        Set<String> devices = new LinkedHashSet<>();
        for (StoredEvent e : events) devices.add(e.event().deviceHex());
        List<byte[]> out = new ArrayList<>();
        for (String d : devices) for (var c : book.certs(d)) out.add(c.encoded());
        return out;
    }

    // ------------------------------------------------------------------ views

    /** One line of a conversation's history. */
    public record Line(String id, String author, long hlc, long sentAtMillis, String kind, String text, boolean edited,
                       boolean deleted, Map<String, List<String>> reactions, List<String> users, List<String> heldBy,
                       List<String> readBy) {}

    /** One conversation in the list. */
    public record Summary(String id, String kind, String name, List<String> members, int events, int unread,
                          long lastHlc, boolean member) {}

    public synchronized List<Summary> list() {
        List<Summary> out = new ArrayList<>();
        for (Conversation c : conversations.values()) {
            MemberState m = c.members();
            if (!m.created()) continue;
            boolean member = m.isMember(user);
            if (!member && !c.everMembers().contains(user)) continue;
            String name = m.dm() ? dmName(m) : m.name();
            out.add(new Summary(c.idHex(), m.dm() ? "direct" : "group", name, List.copyOf(m.members()), c.size(),
                    c.unread(user), c.maxHlc(), member));
        }
        out.sort(Comparator.comparingLong(Summary::lastHlc).reversed());
        return out;
    }

    private String dmName(MemberState m) {
        for (String u : m.members()) if (!u.equals(user)) return u;
        return user;
    }

    /** Resolves a conversation id given in full or as a unique prefix of at least 6 hex digits. */
    public synchronized byte[] resolve(String idOrPrefix) {
        String p = idOrPrefix == null ? "" : idOrPrefix.toLowerCase(java.util.Locale.ROOT);
        if (!p.matches("[0-9a-f]{6,32}")) throw new ChatException("'" + idOrPrefix + "' is not a conversation id (6 to 32 hex digits)");
        byte[] found = null;
        for (Id i : conversations.keySet()) {
            if (i.hex().startsWith(p)) {
                if (found != null) throw new ChatException("conversation id prefix '" + p + "' is ambiguous");
                found = i.bytes();
            }
        }
        if (found == null) throw new ChatException("no conversation " + p);
        return found;
    }

    /** Resolves an event id (full or a unique prefix of at least 8 hex digits) within a conversation. */
    public synchronized byte[] resolveEvent(byte[] conversation, String idOrPrefix) {
        String p = idOrPrefix == null ? "" : idOrPrefix.toLowerCase(java.util.Locale.ROOT);
        if (!p.matches("[0-9a-f]{8,64}")) throw new ChatException("'" + idOrPrefix + "' is not an event id (8 to 64 hex digits)");
        Conversation c = conversations.get(new Id(conversation));
        if (c == null) throw new ChatException("no conversation " + HexFormat.of().formatHex(conversation));
        byte[] found = null;
        for (SyncItem it : c.items()) {
            if (HexFormat.of().formatHex(it.id()).startsWith(p)) {
                if (found != null) throw new ChatException("event id prefix '" + p + "' is ambiguous");
                found = it.id();
            }
        }
        if (found == null) throw new ChatException("no event " + p + " in this conversation");
        return found;
    }

    /** The newest event of a conversation (for "mark all as read"), or null. */
    public synchronized byte[] newest(byte[] conversation) {
        Conversation c = conversations.get(new Id(conversation));
        if (c == null || c.items().isEmpty()) return null;
        return ((TreeSet<SyncItem>) c.items()).last().id();
    }

    public synchronized MemberState state(byte[] conversation) {
        Conversation c = conversations.get(new Id(conversation));
        if (c == null) throw new ChatException("no conversation " + HexFormat.of().formatHex(conversation));
        return c.members();
    }

    public synchronized int unread(byte[] conversation) {
        Conversation c = conversations.get(new Id(conversation));
        return c == null ? 0 : c.unread(user);
    }

    /**
     * The last {@code limit} lines (messages and membership changes) in display order, with later edits, deletes
     * and reactions applied, and which users hold each of this user's messages.
     */
    public synchronized List<Line> history(byte[] conversation, int limit) {
        Conversation c = conversations.get(new Id(conversation));
        if (c == null) throw new ChatException("no conversation " + HexFormat.of().formatHex(conversation));
        List<StoredEvent> base = store.last(conversation, LINE_KINDS, limit);
        if (base.isEmpty()) return List.of();
        Map<Id, LineBuilder> lines = new LinkedHashMap<>();
        for (StoredEvent s : base) lines.put(s.key(), new LineBuilder(s));
        for (StoredEvent m : store.modifiersSince(conversation, base.get(0).event().hlc())) {
            ChatEvent e = m.event();
            LineBuilder b = lines.get(new Id(e.target()));
            if (b == null) continue;
            switch (e.kind()) {
                case EDIT -> {
                    if (!b.deleted) {
                        b.text = e.text();
                        b.edited = true;
                    }
                }
                case DELETE -> {
                    b.deleted = true;
                    b.text = "";
                }
                case REACTION -> b.reactions.computeIfAbsent(e.text(), k -> new TreeSet<>()).add(e.author());
                default -> { }
            }
        }
        List<byte[]> mine = new ArrayList<>();
        for (LineBuilder b : lines.values()) if (b.event.event().author().equals(user)) mine.add(b.event.id());
        Map<Id, Set<String>> held = store.receipts(mine);
        List<Line> out = new ArrayList<>();
        Map<String, SyncItem> reads = c.readPositions();
        for (LineBuilder b : lines.values()) {
            ChatEvent e = b.event.event();
            SyncItem at = new SyncItem(e.hlc(), b.event.id());
            List<String> readBy = new ArrayList<>();
            reads.forEach((u, pos) -> {
                if (!u.equals(e.author()) && pos.compareTo(at) >= 0) readBy.add(u);
            });
            java.util.Collections.sort(readBy);
            Map<String, List<String>> r = new TreeMap<>();
            b.reactions.forEach((k, v) -> r.put(k, List.copyOf(v)));
            out.add(new Line(HexFormat.of().formatHex(b.event.id()), e.author(), e.hlc(), HybridClock.millis(e.hlc()),
                    e.kind().wireName(), b.text, b.edited, b.deleted, r, e.users(),
                    List.copyOf(held.getOrDefault(b.event.key(), Set.of())), List.copyOf(readBy)));
        }
        return out;
    }

    private static final class LineBuilder {
        final StoredEvent event;
        String text;
        boolean edited, deleted;
        final Map<String, Set<String>> reactions = new TreeMap<>();

        LineBuilder(StoredEvent e) {
            this.event = e;
            this.text = e.event().text();
        }
    }

    @Override
    public void close() {
        store.close();
    }
}
