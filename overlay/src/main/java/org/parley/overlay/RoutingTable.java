package org.parley.overlay;

import java.util.ArrayList;
import java.util.List;
import org.parley.protocol.OverlayContact;

/**
 * Kademlia k-buckets around one node id. A contact enters only when it talked to us directly (never from
 * another node's contact list), so a node cannot fill our table with fakes. A full bucket keeps its nodes —
 * long-lived nodes are the ones likely to stay — unless a newcomer is much stronger (capacity times uptime:
 * routing prefers stable, high-capacity supernodes such as operator-run mega-supernodes) or a member has
 * failed; the rest wait in a per-bucket replacement cache. Two consecutive failed requests evict a contact.
 */
public final class RoutingTable {
    /** A contact with liveness bookkeeping. */
    public static final class Entry {
        final NodeId id;
        OverlayContact info;
        long lastSeen;
        int failures;

        Entry(NodeId id, OverlayContact info, long lastSeen) {
            this.id = id;
            this.info = info;
            this.lastSeen = lastSeen;
        }

        public NodeId id() {
            return id;
        }

        public OverlayContact info() {
            return info;
        }

        public long lastSeen() {
            return lastSeen;
        }
    }

    private final NodeId self;
    private final int k;
    private final List<Entry>[] buckets;
    private final List<Entry>[] replacements;
    private final long[] touched;
    private int size;

    @SuppressWarnings("unchecked")
    public RoutingTable(NodeId self, int k) {
        this.self = self;
        this.k = k;
        this.buckets = new List[NodeId.BITS];
        this.replacements = new List[NodeId.BITS];
        this.touched = new long[NodeId.BITS];
    }

    public NodeId self() {
        return self;
    }

    public int size() {
        return size;
    }

    static double strength(OverlayContact c) {
        double hours = Math.min(48.0, c.uptimeSeconds() / 3600.0);
        return Math.sqrt(Math.max(1, c.capacity())) * (1.0 + hours);
    }

    /**
     * Records that {@code c} talked to us.
     *
     * @return true if the contact is new to the table
     */
    public boolean seen(NodeId id, OverlayContact c, long now) {
        int bi = self.bucketIndex(id);
        if (bi < 0) return false;
        touched[bi] = now;
        List<Entry> b = buckets[bi];
        if (b == null) b = buckets[bi] = new ArrayList<>(k);
        for (int i = 0; i < b.size(); i++) {
            Entry e = b.get(i);
            if (e.id.equals(id)) {
                e.info = c;
                e.lastSeen = now;
                e.failures = 0;
                return false;
            }
        }
        Entry fresh = new Entry(id, c, now);
        if (b.size() < k) {
            b.add(fresh);
            size++;
            removeReplacement(bi, id);
            return true;
        }
        Entry weakest = null;
        for (Entry e : b) {
            if (e.failures > 0) {
                weakest = e;
                break;
            }
            if (weakest == null || strength(e.info) < strength(weakest.info)) weakest = e;
        }
        if (weakest.failures > 0 || strength(c) > 2 * strength(weakest.info)) {
            b.remove(weakest);
            b.add(fresh);
            addReplacement(bi, weakest);
            removeReplacement(bi, id);
            return true;
        }
        addReplacement(bi, fresh);
        return false;
    }

    private void addReplacement(int bi, Entry e) {
        List<Entry> r = replacements[bi];
        if (r == null) r = replacements[bi] = new ArrayList<>(2);
        r.removeIf(x -> x.id.equals(e.id));
        r.add(e);
        if (r.size() > k) r.remove(0);
    }

    private void removeReplacement(int bi, NodeId id) {
        List<Entry> r = replacements[bi];
        if (r != null) r.removeIf(x -> x.id.equals(id));
    }

    /** A request to {@code id} went unanswered; the second consecutive failure evicts it. */
    public void failed(NodeId id) {
        int bi = self.bucketIndex(id);
        if (bi < 0) return;
        List<Entry> b = buckets[bi];
        if (b == null) return;
        for (int i = 0; i < b.size(); i++) {
            Entry e = b.get(i);
            if (!e.id.equals(id)) continue;
            e.failures++;
            List<Entry> r = replacements[bi];
            if (e.failures >= 2 || (r != null && !r.isEmpty())) {
                b.remove(i);
                size--;
                if (r != null && !r.isEmpty()) {
                    b.add(r.remove(r.size() - 1));
                    size++;
                }
            }
            return;
        }
        removeReplacement(bi, id);
    }

    /** Removes a contact at once (its connection closed for good). */
    public void remove(NodeId id) {
        int bi = self.bucketIndex(id);
        if (bi < 0 || buckets[bi] == null) return;
        if (buckets[bi].removeIf(e -> e.id.equals(id))) {
            size--;
            List<Entry> r = replacements[bi];
            if (r != null && !r.isEmpty()) {
                buckets[bi].add(r.remove(r.size() - 1));
                size++;
            }
        }
        removeReplacement(bi, id);
    }

    public boolean contains(NodeId id) {
        int bi = self.bucketIndex(id);
        if (bi < 0 || buckets[bi] == null) return false;
        for (Entry e : buckets[bi]) if (e.id.equals(id)) return true;
        return false;
    }

    /** The {@code n} live contacts closest to {@code target}, closest first. */
    public List<Entry> closest(NodeId target, int n) {
        // Called for every overlay request served, so it visits buckets in XOR-distance order instead of sorting
        // the whole table: with d the target's bucket, bucket d holds the closest contacts; then come the buckets
        // below d where self and target differ (highest first), then the other buckets below d (lowest first),
        // then the buckets above d (lowest first). Only each bucket's own few entries need sorting.
        int cap = Math.max(0, Math.min(n, size));
        List<Entry> out = new ArrayList<>(cap);
        if (cap == 0) return out;
        byte[] s = self.raw(), t = target.raw();
        int d = self.bucketIndex(target); // -1 when the target is this node
        if (d >= 0) addSorted(out, d, target, cap);
        for (int j = d - 1; j >= 0 && out.size() < cap; j--) if (bitDiffers(s, t, j)) addSorted(out, j, target, cap);
        for (int j = 0; j < d && out.size() < cap; j++) if (!bitDiffers(s, t, j)) addSorted(out, j, target, cap);
        for (int j = d + 1; j < NodeId.BITS && out.size() < cap; j++) addSorted(out, j, target, cap);
        return out;
    }

    private static boolean bitDiffers(byte[] a, byte[] b, int bit) {
        int i = a.length - 1 - bit / 8;
        return (((a[i] ^ b[i]) >>> (bit % 8)) & 1) != 0;
    }

    /** Appends bucket {@code bi}'s live entries, closest to {@code target} first, until {@code out} has {@code cap}. */
    private void addSorted(List<Entry> out, int bi, NodeId target, int cap) {
        List<Entry> b = buckets[bi];
        if (b == null || b.isEmpty()) return;
        Entry[] live = new Entry[b.size()];
        int m = 0;
        for (Entry e : b) {
            if (e.failures != 0) continue;
            int i = m++;
            while (i > 0 && target.compareDistance(e.id, live[i - 1].id) < 0) {
                live[i] = live[i - 1];
                i--;
            }
            live[i] = e;
        }
        for (int i = 0; i < m && out.size() < cap; i++) out.add(live[i]);
    }

    /** Every contact in the table. */
    public List<Entry> all() {
        List<Entry> all = new ArrayList<>(size);
        for (List<Entry> b : buckets) if (b != null) all.addAll(b);
        return all;
    }

    /** Indices of non-empty-range buckets not touched since {@code before} (to refresh with a random lookup). */
    public List<Integer> stale(long before, int highestUseful) {
        List<Integer> out = new ArrayList<>();
        for (int i = NodeId.BITS - 1; i >= Math.max(0, highestUseful); i--) {
            if (touched[i] < before) out.add(i);
        }
        return out;
    }

    /** The lowest bucket index that holds any contact (buckets below it are empty in a network of this size). */
    public int lowestUsedBucket() {
        for (int i = 0; i < NodeId.BITS; i++) if (buckets[i] != null && !buckets[i].isEmpty()) return i;
        return NodeId.BITS;
    }
}
