package org.parley.chat.sync;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * One element of a conversation's event set as reconciliation sees it: the event's hybrid-logical-clock time and
 * its 32-byte id. Ordered by hlc (signed compare), then id (unsigned lexicographic); equality is on content.
 */
public record SyncItem(long hlc, byte[] id) implements Comparable<SyncItem> {
    public static final int ID_BYTES = 32;

    /**
     * @throws IllegalArgumentException if {@code hlc} is negative or {@code Long.MAX_VALUE} (reserved for the
     *         infinity bound), or the id is not 32 bytes
     */
    public SyncItem {
        Objects.requireNonNull(id, "id");
        if (hlc < 0 || hlc == Long.MAX_VALUE) throw new IllegalArgumentException("sync item hlc out of range: " + hlc);
        if (id.length != ID_BYTES) throw new IllegalArgumentException("sync item id of " + id.length + " bytes");
        id = id.clone();
    }

    /** The id (a copy). */
    @Override
    public byte[] id() {
        return id.clone();
    }

    /** The id array itself, for package-internal copying. */
    byte[] idNoCopy() {
        return id;
    }

    @Override
    public int compareTo(SyncItem o) {
        int c = Long.compare(hlc, o.hlc);
        return c != 0 ? c : Arrays.compareUnsigned(id, o.id);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SyncItem s && hlc == s.hlc && Arrays.equals(id, s.id);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(hlc) * 31 + Arrays.hashCode(id);
    }

    @Override
    public String toString() {
        return "SyncItem[" + hlc + ", " + HexFormat.of().formatHex(id) + "]";
    }
}
