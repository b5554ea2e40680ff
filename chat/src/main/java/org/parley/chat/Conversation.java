package org.parley.chat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.parley.chat.sync.SyncItem;
import org.parley.identity.UserNames;
import org.parley.protocol.ChatEvent;
import org.parley.protocol.ChatEvent.Kind;

/**
 * The in-memory index of one conversation: every accepted event's place in the DAG (parents, time, kind,
 * author, target) and the membership at its causal position, the current heads, and the sorted item set the
 * reconciliation works on. Validation here depends only on an event and its causal past, so every replica
 * reaches the same verdict. Not thread-safe: one owner thread (the replica's lock).
 */
public final class Conversation {
    /** Most members of a group. */
    public static final int MAX_MEMBERS = 256;
    /** Longest group name, in UTF-8 bytes. */
    public static final int MAX_NAME_BYTES = 256;
    /** Longest reaction, in UTF-8 bytes. */
    public static final int MAX_REACTION_BYTES = 64;

    /** What the index keeps per event (no text: that stays in the store). */
    record Node(Id id, long hlc, Kind kind, String author, Id[] parents, Id target, MemberState stateAfter, List<String> removed) {
        /** Whether {@code user} was a member where this event was written (the removal of a user is theirs to see). */
        boolean visibleTo(String user) {
            return stateAfter.isMember(user) || removed.contains(user) || (kind == Kind.LEAVE && author.equals(user));
        }
    }

    private final Id id;
    private final Map<Id, Node> nodes = new HashMap<>();
    private final Set<Id> heads = new LinkedHashSet<>();
    private final TreeSet<SyncItem> items = new TreeSet<>();
    private final Map<String, SyncItem> readUpTo = new HashMap<>();
    private final Set<String> everMembers = new TreeSet<>();
    private MemberState current = MemberState.EMPTY;
    private org.parley.chat.sync.SyncItems snapshot;
    private boolean currentDirty;

    public Conversation(byte[] id) {
        this.id = new Id(id);
    }

    public byte[] id() {
        return id.bytes();
    }

    public String idHex() {
        return id.hex();
    }

    public int size() {
        return nodes.size();
    }

    public boolean contains(byte[] eventId) {
        return nodes.containsKey(new Id(eventId));
    }

    /** The current heads (events no other event names as a parent), at most {@code max}, newest first. */
    public List<byte[]> heads(int max) {
        List<Node> hs = new ArrayList<>();
        for (Id h : heads) hs.add(nodes.get(h));
        hs.sort((a, b) -> a.hlc != b.hlc ? Long.compare(b.hlc, a.hlc) : a.id.compareTo(b.id));
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < Math.min(max, hs.size()); i++) out.add(hs.get(i).id.bytes());
        return out;
    }

    /** The highest time among the heads (0 when empty). */
    public long maxHlc() {
        long m = 0;
        for (Id h : heads) m = Math.max(m, nodes.get(h).hlc);
        return m;
    }

    /** The membership with every accepted event in its past. */
    public MemberState members() {
        if (currentDirty) {
            List<MemberState> s = new ArrayList<>();
            for (Id h : heads) s.add(nodes.get(h).stateAfter);
            current = MemberState.merge(s);
            currentDirty = false;
        }
        return current;
    }

    /** The sorted (hlc, id) items, for reconciliation. Live view: copy before handing to another thread. */
    public Collection<SyncItem> items() {
        return items;
    }

    /**
     * The items a device of {@code user} may receive: all of them for a current member; for a former member, the
     * events written where they were still a member (their own removal included), so nothing said after they left
     * reaches them.
     */
    public List<SyncItem> itemsVisibleTo(String user) {
        if (members().isMember(user)) return new ArrayList<>(items);
        List<SyncItem> out = new ArrayList<>();
        if (!everMembers.contains(user)) return out;
        for (SyncItem it : items) if (nodes.get(new Id(it.id())).visibleTo(user)) out.add(it);
        return out;
    }

    /** An immutable snapshot of the items for reconciliation, rebuilt only after a change. */
    public org.parley.chat.sync.SyncItems snapshot() {
        if (snapshot == null) snapshot = org.parley.chat.sync.SyncItems.of(items);
        return snapshot;
    }

    /** The verdict on an event. */
    public sealed interface Verdict {
        record Accept() implements Verdict {}
        record Duplicate() implements Verdict {}
        /** Some parents are not known yet: keep the event aside until they arrive. */
        record MissingParents(List<byte[]> missing) implements Verdict {}
        record Reject(String reason) implements Verdict {}
    }

    private static final Verdict ACCEPT = new Verdict.Accept();
    private static final Verdict DUPLICATE = new Verdict.Duplicate();

    /** The 1:1 conversation id of two users: the first 16 bytes of SHA-256("parley-dm" 0 a 0 b), names sorted. */
    public static byte[] dmId(String a, String b) {
        String lo = a.compareTo(b) <= 0 ? a : b, hi = a.compareTo(b) <= 0 ? b : a;
        byte[] h = ChatEvent.sha256(("parley-dm\0" + lo + "\0" + hi).getBytes(StandardCharsets.UTF_8));
        return Arrays.copyOf(h, ChatEvent.CONVERSATION_BYTES);
    }

    /**
     * Checks an event's structure, its place in the DAG and the author's membership and permission at its causal
     * position. The signature and certificate are checked by the caller (see {@link AuthorVerifier}).
     */
    public Verdict check(ChatEvent e, byte[] eventId) {
        Id eid = new Id(eventId);
        if (nodes.containsKey(eid)) return DUPLICATE;
        if (!UserNames.isValid(e.author())) return reject("author '" + e.author() + "' is not a valid user name");
        for (String u : e.users()) if (!UserNames.isValid(u)) return reject("names an invalid user '" + u + "'");
        if (e.kind() == Kind.CREATE) return checkCreate(e, eventId);
        if (!Arrays.equals(e.conversation(), id.bytes())) return reject("belongs to another conversation");
        if (e.parents().isEmpty()) return reject("has no parents");
        List<byte[]> missing = new ArrayList<>();
        List<MemberState> states = new ArrayList<>();
        long maxParent = -1;
        Set<Id> distinct = new HashSet<>();
        for (byte[] p : e.parents()) {
            Id pid = new Id(p);
            if (!distinct.add(pid)) return reject("names a parent twice");
            Node n = nodes.get(pid);
            if (n == null) {
                missing.add(p);
                continue;
            }
            states.add(n.stateAfter);
            maxParent = Math.max(maxParent, n.hlc);
        }
        if (!missing.isEmpty()) return new Verdict.MissingParents(missing);
        if (e.hlc() <= maxParent) return reject("is not later than its parents");
        MemberState before = MemberState.merge(states);
        if (!before.created()) return reject("has no creation event in its past");
        if (!before.isMember(e.author())) return reject("author " + e.author() + " is not a member at that point");
        int textBytes = e.text().getBytes(StandardCharsets.UTF_8).length;
        return switch (e.kind()) {
            case MESSAGE -> e.text().isEmpty() ? reject("message is empty") : noTargetNoUsers(e);
            case EDIT -> {
                if (e.text().isEmpty()) yield reject("edit is empty");
                Node t = targetMessage(e);
                if (t == null) yield reject("edits no earlier message of its past");
                yield t.author.equals(e.author()) ? ACCEPT : reject("edits another author's message");
            }
            case DELETE -> {
                Node t = targetMessage(e);
                if (t == null) yield reject("deletes no earlier message of its past");
                yield t.author.equals(e.author()) || e.author().equals(before.owner()) ? ACCEPT
                        : reject("deletes another author's message");
            }
            case REACTION -> {
                if (e.text().isEmpty() || textBytes > MAX_REACTION_BYTES) yield reject("reaction must be 1.." + MAX_REACTION_BYTES + " bytes");
                yield targetMessage(e) == null ? reject("reacts to no earlier message of its past") : ACCEPT;
            }
            case READ -> e.target().length == 0 || !isAncestor(new Id(e.target()), e) ? reject("read marker names no event of its past") : ACCEPT;
            case ADD -> {
                if (before.dm()) yield reject("members cannot be added to a 1:1 conversation");
                if (e.users().isEmpty()) yield reject("adds nobody");
                Set<String> after = new HashSet<>(before.members());
                after.addAll(e.users());
                yield after.size() > MAX_MEMBERS ? reject("would exceed " + MAX_MEMBERS + " members") : ACCEPT;
            }
            case REMOVE -> {
                if (before.dm()) yield reject("members cannot be removed from a 1:1 conversation");
                if (e.users().isEmpty()) yield reject("removes nobody");
                if (!e.author().equals(before.owner())) yield reject("only the creator " + before.owner() + " may remove members");
                yield e.users().contains(e.author()) ? reject("the creator leaves rather than removing themselves") : ACCEPT;
            }
            case LEAVE -> before.dm() ? reject("cannot leave a 1:1 conversation") : ACCEPT;
            case RENAME -> before.dm() ? reject("a 1:1 conversation has no name")
                    : e.text().isEmpty() || textBytes > MAX_NAME_BYTES ? reject("name must be 1.." + MAX_NAME_BYTES + " bytes") : ACCEPT;
            case CREATE -> throw new AssertionError();
            case UNKNOWN -> ACCEPT; // a newer kind: membership checked, kept and synced, not shown
        };
    }

    private Verdict noTargetNoUsers(ChatEvent e) {
        return e.target().length == 0 && e.users().isEmpty() ? ACCEPT : reject("message carries a target or users");
    }

    private Verdict checkCreate(ChatEvent e, byte[] eventId) {
        if (!e.parents().isEmpty()) return reject("creation event has parents");
        if (e.target().length != 0) return reject("creation event has a target");
        if (e.isGroupCreate()) {
            if (!Arrays.equals(Arrays.copyOf(eventId, ChatEvent.CONVERSATION_BYTES), id.bytes())) {
                return reject("creation event of another conversation");
            }
            int n = e.text().getBytes(StandardCharsets.UTF_8).length;
            if (n == 0 || n > MAX_NAME_BYTES) return reject("group name must be 1.." + MAX_NAME_BYTES + " bytes");
            if (new HashSet<>(e.users()).size() + 1 > MAX_MEMBERS) return reject("more than " + MAX_MEMBERS + " members");
            return ACCEPT;
        }
        if (!Arrays.equals(e.conversation(), id.bytes())) return reject("belongs to another conversation");
        List<String> u = e.users();
        if (u.size() != 2 || u.get(0).compareTo(u.get(1)) >= 0) return reject("1:1 creation must name two users in order");
        if (!Arrays.equals(dmId(u.get(0), u.get(1)), id.bytes())) return reject("1:1 creation does not match its conversation id");
        if (!u.contains(e.author())) return reject("1:1 creation by someone outside it");
        return e.text().isEmpty() ? ACCEPT : reject("1:1 creation carries text");
    }

    /** The target of an edit/delete/reaction if it is a message in the event's causal past. */
    private Node targetMessage(ChatEvent e) {
        if (e.target().length == 0) return null;
        Id t = new Id(e.target());
        Node n = nodes.get(t);
        if (n == null || n.kind != Kind.MESSAGE) return null;
        return isAncestor(t, e) ? n : null;
    }

    /** True if {@code target} is in the causal past of {@code e} (walks back from its parents, pruned by time). */
    private boolean isAncestor(Id target, ChatEvent e) {
        Node t = nodes.get(target);
        if (t == null) return false;
        ArrayDeque<Id> todo = new ArrayDeque<>();
        Set<Id> seen = new HashSet<>();
        for (byte[] p : e.parents()) todo.add(new Id(p));
        while (!todo.isEmpty()) {
            Id x = todo.poll();
            if (x.equals(target)) return true;
            if (!seen.add(x)) continue;
            Node n = nodes.get(x);
            if (n == null || n.hlc < t.hlc) continue;
            for (Id p : n.parents) todo.add(p);
            if (seen.size() > 1_000_000) return false;
        }
        return false;
    }

    private static Verdict reject(String why) {
        return new Verdict.Reject(why);
    }

    /** Adds an event that {@link #check} accepted (or one loaded from the store, which was checked before). */
    public void add(ChatEvent e, byte[] eventId) {
        Id eid = new Id(eventId);
        if (nodes.containsKey(eid)) return;
        Id[] ps = new Id[e.parents().size()];
        List<MemberState> states = new ArrayList<>();
        for (int i = 0; i < ps.length; i++) {
            ps[i] = new Id(e.parents().get(i));
            Node n = nodes.get(ps[i]);
            if (n != null) states.add(n.stateAfter);
            heads.remove(ps[i]);
        }
        MemberState after = MemberState.merge(states);
        if (switch (e.kind()) { case CREATE, ADD, REMOVE, LEAVE, RENAME -> true; default -> false; }) {
            after = after.with(new MemberState.Change(e.hlc(), eventId, e.kind(), e.author(), e.users(), e.text(), !e.isGroupCreate()));
        }
        SyncItem item = new SyncItem(e.hlc(), eventId);
        switch (e.kind()) {
            case CREATE -> {
                if (e.isGroupCreate()) everMembers.add(e.author());
                everMembers.addAll(e.users());
            }
            case ADD -> everMembers.addAll(e.users());
            case MESSAGE -> advanceRead(e.author(), item);
            case READ -> {
                Node t = nodes.get(new Id(e.target()));
                if (t != null) advanceRead(e.author(), new SyncItem(t.hlc, t.id.bytes()));
            }
            default -> { }
        }
        nodes.put(eid, new Node(eid, e.hlc(), e.kind(), e.author(), ps, e.target().length == 0 ? null : new Id(e.target()), after,
                e.kind() == Kind.REMOVE ? e.users() : List.of()));
        heads.add(eid);
        items.add(item);
        currentDirty = true;
        snapshot = null;
    }

    private void advanceRead(String user, SyncItem upTo) {
        SyncItem old = readUpTo.get(user);
        if (old == null || old.compareTo(upTo) < 0) readUpTo.put(user, upTo);
    }

    /** Each user's read position: their newest message or read marker (never moves back). */
    public Map<String, SyncItem> readPositions() {
        return java.util.Collections.unmodifiableMap(readUpTo);
    }

    /** Messages by others after the user's read position. */
    public int unread(String user) {
        SyncItem from = readUpTo.get(user);
        int n = 0;
        for (SyncItem it : from == null ? items : items.tailSet(from, false)) {
            Node node = nodes.get(new Id(it.id()));
            if (node.kind == Kind.MESSAGE && !node.author.equals(user)) n++;
        }
        return n;
    }

    /** Everyone who was ever made a member (creator, initial members, added users). */
    public Set<String> everMembers() {
        return java.util.Collections.unmodifiableSet(everMembers);
    }
}
