package org.parley.chat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.parley.protocol.ChatEvent.Kind;

/**
 * The membership of a conversation at one causal position: the result of applying, in display order, the
 * membership events (create, add, remove, leave, rename) in that position's causal past. Immutable; shared
 * between events with the same causal membership past, so 100,000 messages cost one state object.
 */
public final class MemberState {
    /** A membership event as far as the state needs it. */
    record Change(long hlc, byte[] id, Kind kind, String author, List<String> users, String text, boolean dm) {}

    static final MemberState EMPTY = new MemberState(List.of());
    private static final Comparator<Change> ORDER = (a, b) -> {
        int c = Long.compare(a.hlc, b.hlc);
        return c != 0 ? c : java.util.Arrays.compareUnsigned(a.id, b.id);
    };

    private final List<Change> changes; // sorted, distinct
    private final Set<String> members;
    private final String owner;
    private final String name;
    private final boolean dm;
    private final boolean created;

    private MemberState(List<Change> changes) {
        this.changes = changes;
        Set<String> m = new TreeSet<>();
        String own = null, nm = "";
        boolean isDm = false, made = false;
        for (Change c : changes) {
            switch (c.kind) {
                case CREATE -> {
                    made = true;
                    if (c.dm) {
                        isDm = true;
                        m.addAll(c.users);
                    } else {
                        own = c.author;
                        m.add(c.author);
                        m.addAll(c.users);
                        nm = c.text;
                    }
                }
                case ADD -> m.addAll(c.users);
                case REMOVE -> m.removeAll(c.users);
                case LEAVE -> m.remove(c.author);
                case RENAME -> nm = c.text;
                default -> { }
            }
        }
        this.members = Collections.unmodifiableSet(m);
        this.owner = own;
        this.name = nm;
        this.dm = isDm;
        this.created = made;
    }

    public Set<String> members() {
        return members;
    }

    public boolean isMember(String user) {
        return members.contains(user);
    }

    /** The group's creator, who may remove members; null for 1:1 conversations. */
    public String owner() {
        return owner;
    }

    public String name() {
        return name;
    }

    public boolean dm() {
        return dm;
    }

    public boolean created() {
        return created;
    }

    /** This state with one more membership event (which comes after all of this state's events causally). */
    MemberState with(Change c) {
        List<Change> l = new ArrayList<>(changes.size() + 1);
        l.addAll(changes);
        l.add(c);
        l.sort(ORDER);
        return new MemberState(List.copyOf(l));
    }

    /** The state whose causal past is the union of the given states' pasts. */
    static MemberState merge(List<MemberState> states) {
        MemberState first = null;
        boolean allSame = true;
        for (MemberState s : states) {
            if (first == null) first = s;
            else if (s != first) allSame = false;
        }
        if (first == null) return EMPTY;
        if (allSame) return first;
        // identical content from different objects, or a true union
        IdentityHashMap<MemberState, Boolean> seen = new IdentityHashMap<>();
        TreeSet<Change> union = new TreeSet<>(ORDER);
        for (MemberState s : states) {
            if (seen.put(s, Boolean.TRUE) == null) union.addAll(s.changes);
        }
        for (MemberState s : states) {
            if (s.changes.size() == union.size()) return s; // one of them already contains the others
        }
        return new MemberState(List.copyOf(union));
    }
}
