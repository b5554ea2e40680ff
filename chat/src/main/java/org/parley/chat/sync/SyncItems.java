package org.parley.chat.sync;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import org.parley.protocol.ReconcileMessage;
import org.parley.protocol.ReconcileMessage.Bound;

/**
 * An immutable, sorted, de-duplicated snapshot of sync items, stored as parallel flat arrays (no object per
 * item). Besides the items it keeps prefix sums of the ids (as 256-bit little-endian integers, mod 2^256), so the
 * fingerprint of any index range costs O(1) additions and one SHA-256, with no allocation per item; building the
 * snapshot is O(n log n) for the sort and O(n) for the sums.
 *
 * <p>Thread-safe: nothing changes after construction except a lazily built id index, published safely.
 */
public final class SyncItems {
    private static final VarHandle LONG_LE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final int ID = SyncItem.ID_BYTES;

    /** The empty set. */
    public static final SyncItems EMPTY = new SyncItems(new long[0], new byte[0], 0);

    private final int n;
    private final long[] hlcs;
    /** Item i's id is ids[32 i .. 32 i + 32). */
    private final byte[] ids;
    /** sums[4 i .. 4 i + 4) = sum of ids [0, i), four little-endian 64-bit limbs. */
    private final long[] sums;
    /** Open-addressing hash table from id to index + 1, built on first use. */
    private volatile int[] idIndex;

    private SyncItems(long[] hlcs, byte[] ids, int n) {
        this.n = n;
        this.hlcs = hlcs.length == n ? hlcs : Arrays.copyOf(hlcs, n);
        this.ids = ids.length == n * ID ? ids : Arrays.copyOf(ids, n * ID);
        this.sums = new long[4 * (n + 1)];
        for (int i = 0; i < n; i++) {
            int s = 4 * i, d = s + 4, o = i * ID;
            long carry = 0;
            for (int limb = 0; limb < 4; limb++) {
                long a = sums[s + limb], b = (long) LONG_LE.get(this.ids, o + 8 * limb);
                long r = a + b;
                long c1 = Long.compareUnsigned(r, a) < 0 ? 1 : 0;
                long r2 = r + carry;
                long c2 = Long.compareUnsigned(r2, r) < 0 ? 1 : 0;
                sums[d + limb] = r2;
                carry = c1 | c2;
            }
        }
    }

    /** A snapshot of {@code items}: sorted, duplicates dropped. */
    public static SyncItems of(Collection<SyncItem> items) {
        if (items.isEmpty()) return EMPTY;
        SyncItem[] a = items.toArray(new SyncItem[0]);
        Arrays.sort(a);
        long[] hlcs = new long[a.length];
        byte[] ids = new byte[a.length * ID];
        int n = 0;
        for (int i = 0; i < a.length; i++) {
            if (n > 0 && a[i].equals(a[i - 1])) continue;
            hlcs[n] = a[i].hlc();
            System.arraycopy(a[i].idNoCopy(), 0, ids, n * ID, ID);
            n++;
        }
        return new SyncItems(hlcs, ids, n);
    }

    /** This snapshot with {@code more} added (a merge: O(n + m log m)). */
    public SyncItems plus(Collection<SyncItem> more) {
        if (more.isEmpty()) return this;
        SyncItems m = of(more);
        long[] hlcs = new long[n + m.n];
        byte[] out = new byte[(n + m.n) * ID];
        int i = 0, j = 0, k = 0;
        while (i < n || j < m.n) {
            int c = i == n ? 1 : j == m.n ? -1 : compare(this, i, m, j);
            if (c <= 0) {
                hlcs[k] = this.hlcs[i];
                System.arraycopy(ids, i * ID, out, k * ID, ID);
                i++;
                if (c == 0) j++;
            } else {
                hlcs[k] = m.hlcs[j];
                System.arraycopy(m.ids, j * ID, out, k * ID, ID);
                j++;
            }
            k++;
        }
        return new SyncItems(hlcs, out, k);
    }

    private static int compare(SyncItems a, int i, SyncItems b, int j) {
        int c = Long.compare(a.hlcs[i], b.hlcs[j]);
        return c != 0 ? c : Arrays.compareUnsigned(a.ids, i * ID, i * ID + ID, b.ids, j * ID, j * ID + ID);
    }

    public int size() {
        return n;
    }

    public boolean isEmpty() {
        return n == 0;
    }

    public SyncItem get(int i) {
        return new SyncItem(hlc(i), id(i));
    }

    public long hlc(int i) {
        if (i < 0 || i >= n) throw new IndexOutOfBoundsException(i);
        return hlcs[i];
    }

    /** Item i's id (a copy). */
    public byte[] id(int i) {
        if (i < 0 || i >= n) throw new IndexOutOfBoundsException(i);
        return Arrays.copyOfRange(ids, i * ID, i * ID + ID);
    }

    /** All items, in order. */
    public List<SyncItem> toList() {
        List<SyncItem> list = new ArrayList<>(n);
        for (int i = 0; i < n; i++) list.add(get(i));
        return list;
    }

    /** The ids of items [from, to), in order (copies). */
    public List<byte[]> ids(int from, int to) {
        checkRange(from, to);
        List<byte[]> list = new ArrayList<>(to - from);
        for (int i = from; i < to; i++) list.add(Arrays.copyOfRange(ids, i * ID, i * ID + ID));
        return list;
    }

    /** Index of the first item at or above {@code bound} ({@link #size()} if none; for infinity always size()). */
    public int lowerBound(Bound bound) {
        return lowerBound(bound, 0, n);
    }

    /** {@link #lowerBound(Bound)} searching only [from, to): the answer is known to lie in [from, to]. */
    public int lowerBound(Bound bound, int from, int to) {
        checkRange(from, to);
        if (bound.isInfinity()) return to;
        int lo = from, hi = to;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (bound.compareToItem(hlcs[mid], ids, mid * ID) > 0) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    /** Index of the first item at or above {@code (hlc, idPrefix + zeros)}. */
    public int lowerBound(long hlc, byte[] idPrefix) {
        return lowerBound(new Bound(hlc, idPrefix));
    }

    /**
     * The shortest bound separating item {@code i - 1} from item {@code i}: item i-1 is below it, item i is not.
     * Its prefix is empty when the two hlcs differ, else item i's id up to and including the first byte where
     * the ids differ. {@code i == size()} gives infinity; {@code i == 0} gives {@code (hlc(0), empty)}.
     */
    public Bound boundBefore(int i) {
        if (i < 0 || i > n) throw new IndexOutOfBoundsException(i);
        if (i == n) return Bound.INFINITY;
        if (i == 0 || hlcs[i - 1] != hlcs[i]) return new Bound(hlcs[i], new byte[0]);
        int d = Arrays.mismatch(ids, (i - 1) * ID, i * ID, ids, i * ID, i * ID + ID);
        return new Bound(hlcs[i], Arrays.copyOfRange(ids, i * ID, i * ID + d + 1));
    }

    /** Sum of the ids of items [from, to) mod 2^256, as four little-endian limbs written to {@code out}. */
    public void sum(int from, int to, long[] out) {
        checkRange(from, to);
        int a = 4 * to, b = 4 * from;
        long borrow = 0;
        for (int limb = 0; limb < 4; limb++) {
            long x = sums[a + limb], y = sums[b + limb];
            long r = x - y;
            long b1 = Long.compareUnsigned(x, y) < 0 ? 1 : 0;
            long r2 = r - borrow;
            long b2 = Long.compareUnsigned(r, borrow) < 0 ? 1 : 0;
            out[limb] = r2;
            borrow = b1 | b2;
        }
    }

    /** Fingerprint of items [from, to) (see {@link ReconcileMessage#fingerprint}). */
    public byte[] fingerprint(int from, int to) {
        long[] s = new long[4];
        sum(from, to, s);
        return ReconcileMessage.fingerprint(s, to - from);
    }

    /** Fingerprint of all items. */
    public byte[] fingerprint() {
        return fingerprint(0, n);
    }

    /** Whether item i's id equals {@code id}. */
    public boolean idEquals(int i, byte[] id) {
        return Arrays.equals(ids, i * ID, i * ID + ID, id, 0, ID);
    }

    /** Index of the item with this id, or -1. Expected O(1) (ids are hashes). */
    public int indexOfId(byte[] id) {
        if (id == null || id.length != ID || n == 0) return -1;
        int[] table = index();
        int mask = table.length - 1;
        for (int h = slot((long) LONG_LE.get(id, 0), mask); ; h = (h + 1) & mask) {
            int e = table[h];
            if (e == 0) return -1;
            if (idEquals(e - 1, id)) return e - 1;
        }
    }

    public boolean containsId(byte[] id) {
        return indexOfId(id) >= 0;
    }

    public boolean contains(SyncItem item) {
        int i = indexOfId(item.idNoCopy());
        return i >= 0 && hlcs[i] == item.hlc();
    }

    private int[] index() {
        int[] t = idIndex;
        if (t != null) return t;
        t = new int[Math.max(4, Integer.highestOneBit(Math.max(1, n) * 2 - 1) << 1)];
        int mask = t.length - 1;
        for (int i = 0; i < n; i++) {
            int h = slot((long) LONG_LE.get(ids, i * ID), mask);
            while (t[h] != 0) h = (h + 1) & mask;
            t[h] = i + 1;
        }
        idIndex = t;
        return t;
    }

    private static int slot(long key, int mask) {
        long k = key * 0x9E3779B97F4A7C15L;
        return (int) (k ^ (k >>> 29) ^ (k >>> 47)) & mask;
    }

    private void checkRange(int from, int to) {
        if (from < 0 || to > n || from > to) throw new IndexOutOfBoundsException("[" + from + ", " + to + ") of " + n);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SyncItems s && n == s.n && Arrays.equals(hlcs, s.hlcs) && Arrays.equals(ids, s.ids);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(hlcs) * 31 + Arrays.hashCode(ids);
    }

    @Override
    public String toString() {
        return "SyncItems[" + n + " items]";
    }
}
