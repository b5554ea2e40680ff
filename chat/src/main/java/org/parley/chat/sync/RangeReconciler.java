package org.parley.chat.sync;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.parley.protocol.ReconcileMessage;
import org.parley.protocol.ReconcileMessage.Bound;
import org.parley.protocol.ReconcileMessage.Mode;
import org.parley.protocol.ReconcileMessage.Range;
import org.parley.protocol.WireFormatException;

/**
 * Range-based set reconciliation (after Negentropy) of two replicas' sync item sets: stateless logic, no I/O,
 * no threads. Costs grow with the size of the difference, not of the history; messages are
 * {@link ReconcileMessage}s.
 *
 * <p>The protocol is symmetric: one side calls {@link #initiate}, then each side calls {@link #respond} on every
 * message it gets and sends back the reply, until a reply is null. Each {@link Outcome} also says which of my
 * events to push to the peer ({@code send}); they travel alongside the reply and add no round trip.
 *
 * <p>Per incoming range, with {@code c} items of mine and the peer's count {@code p}:
 * <ul>
 *   <li>same count and fingerprint: settled;</li>
 *   <li>{@code c == 0}: IDLIST(empty), so that the peer pushes all of its items there;</li>
 *   <li>{@code p == 0}: I push all mine, nothing to answer;</li>
 *   <li>{@code c <= p} and ({@code c <= idListThreshold} or {@code c <= 2 (p - c)}), and the ids fit in half a
 *       message (at most 953 ids with 60 KiB messages): IDLIST of my ids;</li>
 *   <li>otherwise a split of my items of the range into {@code k} sub-ranges of about equal count, each sent
 *       as a FINGERPRINT. The side with more items never answers an IDLIST: a finer split costs less than its
 *       ids plus the peer's need list, and takes as many messages.</li>
 * </ul>
 * An incoming IDLIST is settled at once: I push what the peer lacks and ask, in the reply's need list, for what
 * I lack (the need list holds at most half a message; past that I answer the range with an IDLIST of mine, so
 * that the peer pushes instead). Ids in an incoming need list that I have are pushed.
 *
 * <p>Adaptive splitting: {@code d = |c - p|} (2 if equal) is a lower bound on the differences in the range, and
 * the split gets {@code k = d * clamp(ceil(cbrt(c / d / 4)), 3, 32)} sub-ranges ({@code max(branching, k)} when
 * the counts are equal and say nothing), at least 2 and at most {@code min(c, 8 * branching)}: about three
 * sub-ranges per difference where differences are dense, wider where they are sparse, reaching ranges of about
 * four items per difference in three splits. When a reply has room and every range still being split is small
 * (at most 16 items), all of them are finished at once (IDLIST, or one sub-range per item) if that at most
 * doubles their cost, saving the rounds that a few straggling ranges would cost.
 *
 * <p>Message size: every reply stays within {@code maxMessageBytes}. When the splits wanted do not fit, all are
 * scaled down together (to 2 sub-ranges at least); when even that does not fit, ranges are worked on in order
 * and the remaining ones are covered by a few FINGERPRINTs over groups of consecutive ranges, reconciled in
 * later rounds (the first range needing work is always worked on, so every round makes progress); if the exact
 * encoding still overflows, everything from there on is covered by one FINGERPRINT over the rest.
 *
 * <p>Cost: fingerprints of ranges come from prefix sums kept by {@link SyncItems} (O(1) each plus one SHA-256),
 * range bounds from binary searches; {@code respond} on 100,000 items takes well under 10 ms for a full 60 KB
 * message and microseconds for identical sets.
 */
public final class RangeReconciler {
    public static final int DEFAULT_BRANCHING = 16;
    public static final int DEFAULT_ID_LIST_THRESHOLD = 4;
    public static final int DEFAULT_MAX_MESSAGE_BYTES = ReconcileMessage.MAX_MESSAGE_BYTES;

    private static final int ID = SyncItem.ID_BYTES;
    /** With fewer items than the peer, answer an IDLIST if I have at most this many per item I lack. */
    private static final int IDLIST_PER_DIFFERENCE = 2;
    /** Sub-ranges per estimated difference: at least / at most. */
    private static final int MIN_SPLIT_PER_DIFFERENCE = 3, MAX_SPLIT_PER_DIFFERENCE = 32;
    /** Range size (my items per difference) aimed at for IDLISTs, reached in about {@link #LEVELS} splits. */
    private static final double LEAF_ITEMS = 4, LEVELS = 3;
    /** Largest IDLIST answered for one range (also limited to what surely fits in half a message). */
    private static final int MAX_IDLIST = 1024;
    /** Finishing all ranges at once (see {@link #finishNow}): at most this many items a range, cost growth. */
    private static final int FINISH_ITEMS = 16;
    private static final double FINISH_GROWTH = 2.0;
    /** Estimated bytes of a SKIP and a FINGERPRINT over a group of deferred ranges. */
    private static final int GROUP_ENTRY_ESTIMATE = 34;
    /** Version byte, range count and need count varints. */
    private static final int HEADER_RESERVE = 1 + 2 + 2;
    /** Room kept for the fallback: a SKIP and a FINGERPRINT with the longest bounds. */
    private static final int FALLBACK_RESERVE = 2 * (ReconcileMessage.MAX_VARINT_BYTES + 1 + ID) + 1 + 1 + 5 + 16 + 8;

    private final int branching;
    private final int idListThreshold;
    private final int maxMessageBytes;
    private final int maxSplit;
    private final int maxIdList;

    /** One round's results: the reply (null if nothing more to say), ids to push to the peer, ids asked for. */
    public record Outcome(byte[] reply, List<byte[]> send, List<byte[]> need) {
        public Outcome {
            send = List.copyOf(send);
            need = List.copyOf(need);
        }
    }

    /** Count and fingerprint of a whole set, for a hello message: equal summaries mean equal sets. */
    public record Summary(int count, byte[] fingerprint16) {
        public Summary {
            if (count < 0) throw new IllegalArgumentException("negative count");
            if (fingerprint16.length != ReconcileMessage.FINGERPRINT_BYTES) throw new IllegalArgumentException("fingerprint of " + fingerprint16.length + " bytes");
            fingerprint16 = fingerprint16.clone();
        }

        @Override
        public byte[] fingerprint16() {
            return fingerprint16.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Summary s && count == s.count && Arrays.equals(fingerprint16, s.fingerprint16);
        }

        @Override
        public int hashCode() {
            return count * 31 + Arrays.hashCode(fingerprint16);
        }

        @Override
        public String toString() {
            return "Summary[" + count + ", " + java.util.HexFormat.of().formatHex(fingerprint16) + "]";
        }
    }

    /** Defaults: branching {@value #DEFAULT_BRANCHING}, IDLIST threshold {@value #DEFAULT_ID_LIST_THRESHOLD}, 60 KiB messages. */
    public RangeReconciler() {
        this(DEFAULT_BRANCHING, DEFAULT_ID_LIST_THRESHOLD, DEFAULT_MAX_MESSAGE_BYTES);
    }

    /**
     * @param branching       ranges of the first message; the split of a range whose counts say little; an
     *                        adaptive split has at most {@code 8 * branching} sub-ranges (2..1024)
     * @param idListThreshold answer an IDLIST when I have at most this many items in a differing range (0..1024)
     * @param maxMessageBytes largest message produced (1024..{@link ReconcileMessage#MAX_MESSAGE_BYTES})
     */
    public RangeReconciler(int branching, int idListThreshold, int maxMessageBytes) {
        if (branching < 2 || branching > 1024) throw new IllegalArgumentException("branching must be in 2..1024");
        if (idListThreshold < 0 || idListThreshold > 1024) throw new IllegalArgumentException("idListThreshold must be in 0..1024");
        if (maxMessageBytes < 1024 || maxMessageBytes > ReconcileMessage.MAX_MESSAGE_BYTES)
            throw new IllegalArgumentException("maxMessageBytes must be in 1024.." + ReconcileMessage.MAX_MESSAGE_BYTES);
        this.branching = branching;
        this.idListThreshold = idListThreshold;
        this.maxMessageBytes = maxMessageBytes;
        this.maxSplit = 8 * branching;
        // an IDLIST must fit next to a full need list (half a message), the fallback and two worst-case bounds
        this.maxIdList = Math.min(MAX_IDLIST, (maxMessageBytes / 2 - HEADER_RESERVE - FALLBACK_RESERVE - 2 * 44 - 8) / ID);
    }

    public int branching() {
        return branching;
    }

    public int idListThreshold() {
        return idListThreshold;
    }

    public int maxMessageBytes() {
        return maxMessageBytes;
    }

    public static Summary summary(SyncItems items) {
        return new Summary(items.size(), items.fingerprint());
    }

    /** The first message: {@code branching} fingerprinted ranges over my set, or an IDLIST of a small set. */
    public byte[] initiate(SyncItems mine) {
        int n = mine.size();
        Reply reply = new Reply(maxMessageBytes - HEADER_RESERVE);
        if (n <= Math.max(idListThreshold, branching) && n * ID + 16 <= reply.limit) {
            reply.idList(Bound.MIN, Bound.INFINITY, mine.ids(0, n));
        } else {
            if (!split(mine, Bound.MIN, Bound.INFINITY, 0, n, branching, reply)) throw new IllegalStateException("first message does not fit");
        }
        return new ReconcileMessage(reply.ranges(), List.of()).encode();
    }

    /**
     * Handles one message from the peer.
     *
     * @throws WireFormatException if the message is malformed (see {@link ReconcileMessage#decode})
     */
    public Outcome respond(SyncItems mine, byte[] message) throws WireFormatException {
        ReconcileMessage in = ReconcileMessage.decode(message);
        int n = mine.size();
        BitSet send = new BitSet(n);
        List<byte[]> need = new ArrayList<>();
        Set<ByteBuffer> needSet = new HashSet<>();
        int needCap = (maxMessageBytes / 2) / ID;

        // Pass 1: classify every incoming range; settle IDLISTs and empty sides at once.
        List<Plan> plans = new ArrayList<>(in.ranges().size());
        Bound lo = Bound.MIN;
        int a = 0;
        for (Range r : in.ranges()) {
            int b = mine.lowerBound(r.upper(), a, n);
            int mode = SKIP;
            switch (r.mode()) {
                case SKIP -> { }
                case FINGERPRINT -> {
                    int mineCount = b - a, peerCount = r.count();
                    if (mineCount == peerCount && r.fingerprintEquals(mine.fingerprint(a, b))) mode = SKIP;
                    else if (mineCount == 0) mode = EMPTY;
                    else if (peerCount == 0) send.set(a, b);
                    else mode = MISMATCH;
                }
                case IDLIST -> {
                    List<byte[]> theirIds = r.ids();
                    Set<ByteBuffer> theirs = new HashSet<>();
                    List<byte[]> missing = new ArrayList<>();
                    for (byte[] id : theirIds) {
                        ByteBuffer key = ByteBuffer.wrap(id);
                        if (theirs.add(key) && !needSet.contains(key) && !mine.containsId(id)) missing.add(id);
                    }
                    for (int i = a; i < b; i++) if (!theirs.contains(ByteBuffer.wrap(mine.id(i)))) send.set(i);
                    if (need.size() + missing.size() <= needCap) {
                        need.addAll(missing);
                        for (byte[] id : missing) needSet.add(ByteBuffer.wrap(id));
                    } else {
                        mode = b == a ? EMPTY : MISMATCH; // too many to ask for: answer with my ids (see choose)
                    }
                }
            }
            Plan plan = new Plan(lo, r.upper(), a, b, mode, r.mode() == Mode.IDLIST ? r.idCount() : r.count());
            plan.answersIdList = r.mode() == Mode.IDLIST;
            plans.add(plan);
            lo = r.upper();
            a = b;
        }
        for (byte[] id : in.need()) {
            int i = mine.indexOfId(id);
            if (i >= 0) send.set(i);
        }

        // Pass 2: choose IDLIST or a split for every differing range, within the byte budget.
        int limit = maxMessageBytes - HEADER_RESERVE - need.size() * ID;
        plan(mine, plans, limit - FALLBACK_RESERVE);

        // Pass 3: write the reply.
        Reply reply = new Reply(limit - FALLBACK_RESERVE);
        Bound end = plans.isEmpty() ? Bound.MIN : plans.getLast().hi;
        boolean progress = false;
        for (Plan p : plans) {
            boolean ok = switch (p.mode) {
                case SKIP, GROUPED -> true;
                case EMPTY -> reply.idList(p.lo, p.hi, List.of());
                case IDS -> reply.idList(p.lo, p.hi, mine.ids(p.a, p.b));
                case MISMATCH -> split(mine, p.lo, p.hi, p.a, p.b, p.k, reply);
                case GROUP -> {
                    Plan last = plans.get(p.groupEnd);
                    yield reply.fingerprint(p.lo, last.hi, last.b - p.a, mine.fingerprint(p.a, last.b));
                }
                default -> throw new IllegalStateException();
            };
            if (!ok && !progress && (p.mode == IDS || p.mode == MISMATCH) && p.b - p.a >= 2) {
                ok = split(mine, p.lo, p.hi, p.a, p.b, 2, reply); // the estimates were off: the least that progresses
            }
            if (ok && p.mode != SKIP && p.mode != GROUP && p.mode != GROUPED) progress = true;
            if (!ok) { // out of room: one fingerprint over everything from here on, for a later round
                reply.limit += FALLBACK_RESERVE;
                int b = mine.lowerBound(end, p.a, n);
                if (!reply.fingerprint(p.lo, end, b - p.a, mine.fingerprint(p.a, b)))
                    throw new IllegalStateException("no room for the fallback range");
                break;
            }
        }

        List<byte[]> sendIds = new ArrayList<>(send.cardinality());
        for (int i = send.nextSetBit(0); i >= 0; i = send.nextSetBit(i + 1)) sendIds.add(mine.id(i));
        byte[] out = reply.isEmpty() && need.isEmpty() ? null : new ReconcileMessage(reply.ranges(), need).encode();
        return new Outcome(out, sendIds, need);
    }

    // plan modes
    private static final int SKIP = 0, EMPTY = 1, IDS = 3, MISMATCH = 4, GROUP = 5, GROUPED = 6;

    private static final class Plan {
        final Bound lo, hi;
        final int a, b, peerCount;
        int mode;
        /** Whether the peer sent an IDLIST for this range. */
        boolean answersIdList;
        /** Whether a SKIP must be written before this range (the previous one is skipped). */
        boolean skipBefore;
        /** Wanted sub-ranges of a MISMATCH. */
        int k;
        /** Index of the last plan covered by a GROUP. */
        int groupEnd;

        Plan(Bound lo, Bound hi, int a, int b, int mode, int peerCount) {
            this.lo = lo;
            this.hi = hi;
            this.a = a;
            this.b = b;
            this.mode = mode;
            this.peerCount = peerCount;
        }
    }

    /** Decides IDLIST or split (and the split's width) for each MISMATCH, fitting the reply in {@code budget}. */
    private void plan(SyncItems mine, List<Plan> plans, int budget) {
        for (int i = 1; i < plans.size(); i++) plans.get(i).skipBefore = plans.get(i - 1).mode == SKIP;
        List<Plan> splits = new ArrayList<>();
        long total = 0;
        for (Plan p : plans) {
            if (p.mode == MISMATCH) choose(p);
            if (p.mode == MISMATCH) splits.add(p);
            total += estimate(mine, p);
        }
        if (total <= budget) {
            finishNow(mine, splits, budget - total);
            return;
        }
        if (!splits.isEmpty()) {
            long room = budget - (total - splitCost(mine, splits, 1.0));
            if (splitCost(mine, splits, 0.0) <= room) { // scale every split by the largest factor that fits
                double lo = 0, hi = 1;
                for (int i = 0; i < 20; i++) {
                    double mid = (lo + hi) / 2;
                    if (splitCost(mine, splits, mid) <= room) lo = mid;
                    else hi = mid;
                }
                for (Plan p : splits) p.k = scaled(p.k, lo);
                return;
            }
        }
        group(mine, plans, budget);
    }

    /**
     * IDLIST of mine, or a split into a few sub-ranges per expected difference. The side with more items in the
     * range never answers an IDLIST (unless the peer's answer to it was one): splitting finer costs less than
     * listing its ids plus the peer's need list, and takes as many messages.
     */
    private void choose(Plan p) {
        int c = p.b - p.a;
        if (p.answersIdList) { // the peer listed its ids, but I lack too many of them to ask for now
            if (c <= maxIdList) p.mode = IDS; // the peer pushes what I lack, no need list
            else p.k = Math.max(2, Math.min(maxSplit, c));
            return;
        }
        int d = c != p.peerCount ? Math.abs(c - p.peerCount) : 2;
        boolean notMore = c <= p.peerCount;
        if (notMore && c <= maxIdList && (c <= Math.max(1, idListThreshold) || (long) c <= (long) IDLIST_PER_DIFFERENCE * d)) {
            p.mode = IDS;
            return;
        }
        double perDifference = Math.pow(c / (double) d / LEAF_ITEMS, 1.0 / LEVELS);
        perDifference = Math.max(MIN_SPLIT_PER_DIFFERENCE, Math.min(MAX_SPLIT_PER_DIFFERENCE, Math.ceil(perDifference)));
        long k = c == p.peerCount ? Math.max(branching, (long) (d * perDifference)) : (long) Math.ceil(d * perDifference);
        p.k = (int) Math.max(2, Math.min(k, Math.min(c, maxSplit)));
    }

    /**
     * When every range still being split is small, finishes them all now if that fits and at most doubles
     * their cost: an IDLIST where I have fewer items than the peer (it pushes what I lack; nothing follows),
     * else one sub-range per item (the peer answers with IDLISTs of at most one id). Saves the last rounds,
     * which would otherwise carry a few straggling ranges; all or nothing, since one straggler keeps the round.
     */
    private void finishNow(SyncItems mine, List<Plan> splits, long spare) {
        if (splits.isEmpty()) return;
        long now = 0, extra = 0;
        for (Plan p : splits) {
            int c = p.b - p.a;
            long cost = estimate(mine, p);
            now += cost;
            if (c < p.peerCount && c <= FINISH_ITEMS) extra += (p.skipBefore ? 8 : 0) + 4 + (long) c * ID - cost;
            else if (c >= p.peerCount && c <= FINISH_ITEMS && c <= maxSplit) extra += (p.skipBefore ? 8 : 0) + (long) c * entryCost(mine, p.a, p.b, c) - cost;
            else return;
        }
        if (extra > spare || extra > now * FINISH_GROWTH) return;
        for (Plan p : splits) {
            if (p.b - p.a < p.peerCount) p.mode = IDS;
            else p.k = p.b - p.a;
        }
    }

    private static boolean needsWork(Plan p) {
        return p.mode != SKIP;
    }

    /**
     * Too many ranges need work for one message even with the smallest splits: work on them in order while
     * keeping room for the rest, which is covered by a few fingerprints over groups of consecutive ranges (the
     * peer splits those again from the counts). The first range needing work is always worked on, so every
     * round makes progress.
     */
    private static void group(SyncItems mine, List<Plan> plans, int budget) {
        int n = plans.size();
        long[] deferCost = new long[n + 1];
        for (int i = n - 1; i >= 0; i--) {
            Plan p = plans.get(i);
            deferCost[i] = deferCost[i + 1] + (needsWork(p) ? GROUP_ENTRY_ESTIMATE : 0);
        }
        long reserveCap = budget / 8;
        long used = 0;
        int cut = n;
        boolean first = true;
        for (int i = 0; i < n && cut == n; i++) {
            Plan p = plans.get(i);
            if (!needsWork(p)) continue;
            long reserve = Math.min(deferCost[i + 1], reserveCap);
            if (used + estimate(mine, p) + reserve > budget) {
                if (!first) {
                    cut = i;
                    break;
                }
                if (p.mode == IDS && used + estimate(mine, p) + reserve > budget && p.b - p.a >= 2) {
                    p.mode = MISMATCH;
                    p.k = 2;
                }
                while (p.mode == MISMATCH && p.k > 2 && used + estimate(mine, p) + reserve > budget) p.k = Math.max(2, p.k / 2);
            }
            first = false;
            used += estimate(mine, p);
        }
        if (cut == n) return;
        int work = 0;
        for (int i = cut; i < n; i++) if (needsWork(plans.get(i))) work++;
        int groups = (int) Math.max(1, Math.min(work, (budget - used) / GROUP_ENTRY_ESTIMATE));
        int perGroup = (work + groups - 1) / groups;
        Plan head = null;
        int inGroup = 0;
        for (int i = cut; i < n; i++) {
            Plan p = plans.get(i);
            if (!needsWork(p)) continue;
            if (head == null || inGroup == perGroup) {
                head = p;
                p.mode = GROUP;
                inGroup = 0;
            } else {
                p.mode = GROUPED;
            }
            head.groupEnd = i;
            inGroup++;
        }
    }

    private static long estimate(SyncItems mine, Plan p) {
        int skip = p.skipBefore ? 8 : 0;
        return switch (p.mode) {
            case EMPTY -> skip + 4;
            case IDS -> skip + 4 + (long) (p.b - p.a) * ID;
            case MISMATCH -> splitCost(mine, List.of(p), 1.0);
            default -> 0;
        };
    }

    /** Estimated bytes of one FINGERPRINT range when my items [a, b) are split in k. */
    private static int entryCost(SyncItems mine, int a, int b, int k) {
        long span = b > a ? mine.hlc(b - 1) - mine.hlc(a) : 0;
        return ReconcileMessage.varintSize(span / k + 1) + 1 + 1 + 1 + ReconcileMessage.varintSize((b - a) / k) + 16;
    }

    private static int scaled(int k, double f) {
        return Math.max(2, Math.min(k, (int) Math.floor(k * f)));
    }

    /** Estimated bytes of the given splits scaled by {@code f}: a SKIP before each, then k FINGERPRINT ranges. */
    private static long splitCost(SyncItems mine, List<Plan> splits, double f) {
        long total = 0;
        for (Plan p : splits) {
            int k = scaled(p.k, f);
            total += (p.skipBefore ? 8 : 0) + (long) k * entryCost(mine, p.a, p.b, k);
        }
        return total;
    }

    /** Adds FINGERPRINT ranges for {@code k} parts of about equal count of my items [a, b); false if out of room. */
    private static boolean split(SyncItems mine, Bound lo, Bound hi, int a, int b, int k, Reply reply) {
        int c = b - a;
        k = Math.max(1, Math.min(k, c));
        int mark = reply.mark();
        long[] sum = new long[4];
        Bound lower = lo;
        int from = a;
        for (int j = 1; j <= k; j++) {
            int to = j == k ? b : a + (int) ((long) c * j / k);
            Bound upper = j == k ? hi : mine.boundBefore(to);
            mine.sum(from, to, sum);
            if (!reply.fingerprint(lower, upper, to - from, ReconcileMessage.fingerprint(sum, to - from))) {
                reply.reset(mark);
                return false;
            }
            lower = upper;
            from = to;
        }
        return true;
    }

    /**
     * A reply being built, with its exact encoded size: a SKIP is written only where the next range does not
     * start where the previous one ended, and adjacent IDLISTs are merged.
     */
    private static final class Reply {
        private record Entry(Bound upper, Mode mode, int count, byte[] fingerprint, List<byte[]> ids) { }

        private final List<Entry> entries = new ArrayList<>();
        int limit;
        private int bytes;
        private int ids;
        private Bound last = Bound.MIN;
        /** hlc of the last finite bound written, and as it was before the last entry. */
        private long prevHlc, prevHlcBeforeLast;

        Reply(int limit) {
            this.limit = limit;
        }

        boolean isEmpty() {
            return entries.isEmpty();
        }

        private static int size(Bound upper, Mode mode, int count, int idCount, long prevHlc) {
            int n = ReconcileMessage.boundSize(upper, prevHlc) + 1;
            return switch (mode) {
                case SKIP -> n;
                case FINGERPRINT -> n + ReconcileMessage.varintSize(count) + ReconcileMessage.FINGERPRINT_BYTES;
                case IDLIST -> n + ReconcileMessage.varintSize(idCount) + idCount * ID;
            };
        }

        boolean fingerprint(Bound lower, Bound upper, int count, byte[] fingerprint) {
            return add(lower, new Entry(upper, Mode.FINGERPRINT, count, fingerprint, List.of()));
        }

        boolean idList(Bound lower, Bound upper, List<byte[]> list) {
            if (lower.equals(last) && !entries.isEmpty() && entries.getLast().mode == Mode.IDLIST) {
                Entry prev = entries.getLast();
                int merged = prev.ids.size() + list.size();
                int delta = size(upper, Mode.IDLIST, 0, merged, prevHlcBeforeLast)
                        - size(prev.upper, Mode.IDLIST, 0, prev.ids.size(), prevHlcBeforeLast);
                if (bytes + delta > limit || ids + list.size() > ReconcileMessage.MAX_IDS) return false;
                prev.ids.addAll(list);
                entries.set(entries.size() - 1, new Entry(upper, Mode.IDLIST, 0, null, prev.ids));
                bytes += delta;
                ids += list.size();
                last = upper;
                prevHlc = upper.isInfinity() ? prevHlcBeforeLast : upper.hlc();
                return true;
            }
            return add(lower, new Entry(upper, Mode.IDLIST, 0, null, new ArrayList<>(list)));
        }

        private boolean add(Bound lower, Entry e) {
            boolean skip = !lower.equals(last);
            long p = prevHlc;
            int cost = 0;
            if (skip) {
                cost += size(lower, Mode.SKIP, 0, 0, p);
                p = lower.hlc();
            }
            cost += size(e.upper, e.mode, e.count, e.ids.size(), p);
            if (bytes + cost > limit || entries.size() + (skip ? 2 : 1) > ReconcileMessage.MAX_RANGES
                    || ids + e.ids.size() > ReconcileMessage.MAX_IDS) return false;
            if (skip) entries.add(new Entry(lower, Mode.SKIP, 0, null, List.of()));
            entries.add(e);
            bytes += cost;
            ids += e.ids.size();
            last = e.upper;
            prevHlcBeforeLast = p;
            prevHlc = last.isInfinity() ? p : last.hlc();
            return true;
        }

        int mark() {
            return entries.size();
        }

        /** Drops the entries added since {@code mark} (none of which was merged into an earlier one). */
        void reset(int mark) {
            while (entries.size() > mark) entries.removeLast();
            bytes = 0;
            ids = 0;
            long p = 0, before = 0;
            Bound l = Bound.MIN;
            for (Entry e : entries) {
                bytes += size(e.upper, e.mode, e.count, e.ids.size(), p);
                ids += e.ids.size();
                before = p;
                if (!e.upper.isInfinity()) p = e.upper.hlc();
                l = e.upper;
            }
            last = l;
            prevHlc = p;
            prevHlcBeforeLast = before;
        }

        List<Range> ranges() {
            List<Range> out = new ArrayList<>(entries.size());
            for (Entry e : entries) {
                out.add(switch (e.mode) {
                    case SKIP -> Range.skip(e.upper);
                    case FINGERPRINT -> Range.fingerprint(e.upper, e.count, e.fingerprint);
                    case IDLIST -> Range.idList(e.upper, e.ids);
                });
            }
            return out;
        }
    }
}
