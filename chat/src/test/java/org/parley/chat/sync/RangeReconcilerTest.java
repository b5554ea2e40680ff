package org.parley.chat.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.parley.protocol.ReconcileMessage;
import org.parley.protocol.ReconcileMessage.Bound;
import org.parley.protocol.ReconcileMessage.Range;
import org.parley.protocol.WireFormatException;

/**
 * Range-based reconciliation between two replicas, driven message by message until a reply is null, applying
 * the pushed events as they go. The big cases print their figures (grep the output for {@code RECONCILE}):
 * round trips (a message and its reply; pushed events travel alongside), reconciliation bytes each way, and
 * {@code bytes_overhead_ratio = (reconciliation bytes + 32 bytes per transferred id) / (missing events * 1024)},
 * for 1 KiB events.
 */
class RangeReconcilerTest {
    /** 2023-11-14 as a hybrid-logical-clock time: milliseconds in the high 48 bits. */
    static final long T0 = 1_700_000_000_000L << 16;
    static final int HISTORY = 100_000;
    static final int EVENT_BYTES = 1024;

    /** A conversation's history: n events, 1 ms to 10 minutes apart, random ids. */
    static List<SyncItem> history(int n, long seed) {
        Random r = new Random(seed);
        List<SyncItem> items = new ArrayList<>(n);
        long hlc = T0;
        for (int i = 0; i < n; i++) {
            hlc += ((1L + r.nextInt(600_000)) << 16) + r.nextInt(4);
            byte[] id = new byte[32];
            r.nextBytes(id);
            items.add(new SyncItem(hlc, id));
        }
        return items;
    }

    /** The result of one reconciliation run. */
    record Run(int messages, long bytesFromInitiator, long bytesFromResponder, long transferred, int largestMessage,
               SyncItems initiator, SyncItems responder) {
        /** A round trip is one message and its reply; the final null reply is not a message. */
        int roundTrips() {
            return (messages + 1) / 2;
        }

        long reconciliationBytes() {
            return bytesFromInitiator + bytesFromResponder;
        }
    }

    /**
     * Exchanges messages until a reply is null. Events in {@code send} are pushed to the peer before it reads
     * the reply they travel with.
     */
    static Run sync(RangeReconciler rec, SyncItems initiator, SyncItems responder, int maxMessages) throws WireFormatException {
        SyncItems[] side = {initiator, responder};
        long[] bytes = new long[2];
        long transferred = 0;
        byte[] msg = rec.initiate(side[0]);
        int messages = 1, sender = 0, largest = msg.length;
        bytes[0] += msg.length;
        while (msg != null) {
            assertThat(msg.length).isLessThanOrEqualTo(rec.maxMessageBytes());
            int receiver = 1 - sender;
            RangeReconciler.Outcome o = rec.respond(side[receiver], msg);
            if (!o.send().isEmpty()) {
                List<SyncItem> pushed = new ArrayList<>(o.send().size());
                for (byte[] id : o.send()) {
                    int i = side[receiver].indexOfId(id);
                    assertThat(i).as("pushed ids are mine").isNotNegative();
                    pushed.add(side[receiver].get(i));
                }
                side[sender] = side[sender].plus(pushed);
                transferred += pushed.size();
            }
            msg = o.reply();
            if (msg != null) {
                messages++;
                bytes[receiver] += msg.length;
                largest = Math.max(largest, msg.length);
                assertThat(messages).as("messages before convergence").isLessThanOrEqualTo(maxMessages);
            }
            sender = receiver;
        }
        return new Run(messages, bytes[0], bytes[1], transferred, largest, side[0], side[1]);
    }

    /** Syncs, checks that both sides end with the union, and prints the figures. */
    static Run reconcile(String name, RangeReconciler rec, List<SyncItem> initiator, List<SyncItem> responder) throws WireFormatException {
        SyncItems a = SyncItems.of(initiator), b = SyncItems.of(responder);
        Set<SyncItem> union = new HashSet<>(initiator);
        union.addAll(responder);
        long missing = (union.size() - a.size()) + (union.size() - b.size());
        Run run = sync(rec, a, b, 400);
        SyncItems expected = SyncItems.of(union);
        assertThat(run.initiator()).isEqualTo(expected);
        assertThat(run.responder()).isEqualTo(expected);
        assertThat(run.transferred()).isEqualTo(missing);
        if (missing > 0) {
            double recon = run.reconciliationBytes() / (missing * (double) EVENT_BYTES);
            double overhead = (run.reconciliationBytes() + 32.0 * run.transferred()) / (missing * (double) EVENT_BYTES);
            System.out.printf("RECONCILE %-34s round_trips=%d messages=%d bytes_initiator_to_responder=%d "
                            + "bytes_responder_to_initiator=%d largest_message=%d missing=%d recon_ratio=%.3f bytes_overhead_ratio=%.3f%n",
                    name, run.roundTrips(), run.messages(), run.bytesFromInitiator(), run.bytesFromResponder(),
                    run.largestMessage(), missing, recon, overhead);
        } else {
            System.out.printf("RECONCILE %-34s round_trips=%d messages=%d bytes_initiator_to_responder=%d "
                            + "bytes_responder_to_initiator=%d missing=0%n",
                    name, run.roundTrips(), run.messages(), run.bytesFromInitiator(), run.bytesFromResponder());
        }
        return run;
    }

    static double overheadRatio(Run run, long missing) {
        return (run.reconciliationBytes() + 32.0 * run.transferred()) / (missing * (double) EVENT_BYTES);
    }

    static List<SyncItem> without(List<SyncItem> all, int missing, long seed) {
        List<SyncItem> shuffled = new ArrayList<>(all);
        Collections.shuffle(shuffled, new Random(seed));
        return new ArrayList<>(shuffled.subList(missing, shuffled.size()));
    }

    // ------------------------------------------------------------------ the big cases

    @Test
    void identicalHistoriesAreConfirmedInOneRoundTrip() throws Exception {
        RangeReconciler rec = new RangeReconciler();
        SyncItems a = SyncItems.of(history(HISTORY, 1)), b = SyncItems.of(history(HISTORY, 1));
        byte[] first = rec.initiate(a);
        assertThat(first.length).isLessThan(1024);
        RangeReconciler.Outcome o = rec.respond(b, first);
        assertThat(o.reply()).isNull();
        assertThat(o.send()).isEmpty();
        assertThat(o.need()).isEmpty();
        Run run = reconcile("identical 100000", rec, history(HISTORY, 1), history(HISTORY, 1));
        assertThat(run.roundTrips()).isEqualTo(1);
        assertThat(run.bytesFromInitiator()).isLessThan(1024);
        assertThat(run.bytesFromResponder()).isZero();
    }

    @Test
    void offlineClientMissingTheNewest1000() throws Exception {
        List<SyncItem> all = history(HISTORY, 2);
        List<SyncItem> client = all.subList(0, HISTORY - 1000);
        RangeReconciler rec = new RangeReconciler();
        Run run = reconcile("tail 1000/100000, client starts", rec, client, all);
        assertThat(run.roundTrips()).isLessThanOrEqualTo(4);
        assertThat(run.reconciliationBytes()).isLessThanOrEqualTo((long) (0.2 * 1000 * EVENT_BYTES));
        assertThat(overheadRatio(run, 1000)).isLessThanOrEqualTo(0.2);

        Run other = reconcile("tail 1000/100000, server starts", rec, all, client);
        assertThat(other.roundTrips()).isLessThanOrEqualTo(4);
        assertThat(overheadRatio(other, 1000)).isLessThanOrEqualTo(0.2);
    }

    /**
     * 1% missing, scattered uniformly. Each isolated difference costs several 16-byte-fingerprinted ranges to
     * locate plus a few ids at the leaf, about 350 bytes, so the 0.2 target is out of reach for this case (see
     * the class comment of {@link RangeReconciler}); the bounds here guard against regressions.
     */
    @Test
    void thousandMissingScatteredAtRandom() throws Exception {
        List<SyncItem> all = history(HISTORY, 3);
        List<SyncItem> client = without(all, 1000, 3);
        RangeReconciler rec = new RangeReconciler();
        Run c = reconcile("scattered 1000/100000, client starts", rec, client, all);
        Run s = reconcile("scattered 1000/100000, server starts", rec, all, client);
        for (Run run : List.of(c, s)) {
            assertThat(run.roundTrips()).isLessThanOrEqualTo(6);
            assertThat(overheadRatio(run, 1000)).isLessThan(0.5);
        }
    }

    @Test
    void hundredMissingScatteredAtRandom() throws Exception {
        List<SyncItem> all = history(HISTORY, 4);
        List<SyncItem> client = without(all, 100, 4);
        RangeReconciler rec = new RangeReconciler();
        Run c = reconcile("scattered 100/100000, client starts", rec, client, all);
        Run s = reconcile("scattered 100/100000, server starts", rec, all, client);
        for (Run run : List.of(c, s)) {
            assertThat(run.roundTrips()).isLessThanOrEqualTo(5);
            assertThat(overheadRatio(run, 100)).isLessThan(0.8);
        }
    }

    @Test
    void tenThousandMissing() throws Exception {
        List<SyncItem> all = history(HISTORY, 5);
        List<SyncItem> client = without(all, 10_000, 5);
        RangeReconciler rec = new RangeReconciler();
        Run c = reconcile("scattered 10000/100000, client starts", rec, client, all);
        assertThat(overheadRatio(c, 10_000)).isLessThan(0.4);
        assertThat(c.roundTrips()).isLessThanOrEqualTo(35);
        Run t = reconcile("tail 10000/100000, client starts", rec, all.subList(0, HISTORY - 10_000), all);
        assertThat(t.roundTrips()).isLessThanOrEqualTo(4);
        assertThat(overheadRatio(t, 10_000)).isLessThan(0.1);
    }

    @Test
    void bothSidesHaveEventsTheOtherLacks() throws Exception {
        List<SyncItem> all = history(HISTORY, 6);
        List<SyncItem> shuffled = new ArrayList<>(all);
        Collections.shuffle(shuffled, new Random(6));
        List<SyncItem> a = new ArrayList<>(shuffled.subList(500, HISTORY));
        List<SyncItem> b = new ArrayList<>(shuffled.subList(0, 500));
        b.addAll(shuffled.subList(1000, HISTORY));
        RangeReconciler rec = new RangeReconciler();
        Run run = reconcile("both lack 500 scattered of 100000", rec, a, b);
        assertThat(run.roundTrips()).isLessThanOrEqualTo(6);
        assertThat(overheadRatio(run, 1000)).isLessThan(0.5);

        // both wrote while apart: each has 500 new events the other lacks, at the tail
        List<SyncItem> base = all.subList(0, HISTORY - 1000);
        List<SyncItem> x = new ArrayList<>(base), y = new ArrayList<>(base);
        for (int i = HISTORY - 1000; i < HISTORY; i++) (i % 2 == 0 ? x : y).add(all.get(i));
        Run tail = reconcile("both wrote 500 at the tail", rec, x, y);
        // interleaved two-way differences: equal counts say little, so splitting needs one more level
        assertThat(tail.roundTrips()).isLessThanOrEqualTo(5);
        assertThat(overheadRatio(tail, 1000)).isLessThanOrEqualTo(0.2);
    }

    @Test
    void emptyVersusFull() throws Exception {
        List<SyncItem> all = history(HISTORY, 7);
        RangeReconciler rec = new RangeReconciler();
        Run a = reconcile("empty starts, full answers", rec, List.of(), all);
        assertThat(a.messages()).isEqualTo(1);
        Run b = reconcile("full starts, empty answers", rec, all, List.of());
        assertThat(b.roundTrips()).isEqualTo(1);
        assertThat(b.reconciliationBytes()).isLessThan(1024);
        Run none = reconcile("both empty", rec, List.of(), List.of());
        assertThat(none.messages()).isEqualTo(1);
    }

    @Test
    void smallMessagesStillConverge() throws Exception {
        List<SyncItem> all = history(20_000, 8);
        Random r = new Random(8);
        List<SyncItem> a = new ArrayList<>(), b = new ArrayList<>();
        for (SyncItem it : all) {
            int x = r.nextInt(10);
            if (x != 0) a.add(it);
            if (x != 1) b.add(it);
        }
        RangeReconciler rec = new RangeReconciler(4, 2, 1024);
        Run run = sync(rec, SyncItems.of(a), SyncItems.of(b), 10_000);
        assertThat(run.initiator()).isEqualTo(SyncItems.of(all));
        assertThat(run.responder()).isEqualTo(SyncItems.of(all));
        assertThat(run.largestMessage()).isLessThanOrEqualTo(1024);
    }

    // ------------------------------------------------------------------ behaviour of one respond()

    @Test
    void needListIsServedAndUnknownIdsIgnored() throws Exception {
        List<SyncItem> all = history(100, 9);
        SyncItems mine = SyncItems.of(all);
        byte[] unknown = new byte[32];
        Arrays.fill(unknown, (byte) 7);
        byte[] msg = new ReconcileMessage(List.of(), List.of(all.get(3).id(), unknown, all.get(50).id())).encode();
        RangeReconciler.Outcome o = new RangeReconciler().respond(mine, msg);
        assertThat(o.reply()).isNull();
        assertThat(o.send()).containsExactly(all.get(3).id(), all.get(50).id());
    }

    @Test
    void incomingIdListIsSettledAtOnce() throws Exception {
        List<SyncItem> all = history(10, 10);
        SyncItems mine = SyncItems.of(all.subList(0, 8)); // I lack 8 and 9
        List<byte[]> theirs = new ArrayList<>();
        for (int i = 2; i < 10; i++) theirs.add(all.get(i).id()); // they lack 0 and 1
        byte[] msg = new ReconcileMessage(List.of(Range.idList(Bound.INFINITY, theirs)), List.of()).encode();
        RangeReconciler.Outcome o = new RangeReconciler().respond(mine, msg);
        assertThat(o.send()).containsExactlyInAnyOrder(all.get(0).id(), all.get(1).id());
        assertThat(o.need()).containsExactlyInAnyOrder(all.get(8).id(), all.get(9).id());
        ReconcileMessage reply = ReconcileMessage.decode(o.reply());
        assertThat(reply.ranges()).isEmpty();
        assertThat(reply.need()).containsExactlyInAnyOrder(all.get(8).id(), all.get(9).id());
    }

    @Test
    void malformedMessagesAreRejected() {
        RangeReconciler rec = new RangeReconciler();
        SyncItems mine = SyncItems.of(history(10, 11));
        assertThatThrownBy(() -> rec.respond(mine, new byte[] {9, 9, 9})).isInstanceOf(WireFormatException.class);
        assertThatThrownBy(() -> rec.respond(mine, new byte[0])).isInstanceOf(WireFormatException.class);
    }

    @Test
    void summariesTellEqualSetsApart() {
        List<SyncItem> h = history(1000, 12);
        RangeReconciler.Summary a = RangeReconciler.summary(SyncItems.of(h));
        RangeReconciler.Summary b = RangeReconciler.summary(SyncItems.of(new ArrayList<>(h.reversed())));
        RangeReconciler.Summary c = RangeReconciler.summary(SyncItems.of(h.subList(1, 1000)));
        assertThat(a).isEqualTo(b);
        assertThat(a.count()).isEqualTo(1000);
        assertThat(a.fingerprint16()).hasSize(16);
        assertThat(c).isNotEqualTo(a);
        assertThat(RangeReconciler.summary(SyncItems.EMPTY).count()).isZero();
    }

    @Test
    void constructorChecksItsArguments() {
        assertThatThrownBy(() -> new RangeReconciler(1, 4, 60_000)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RangeReconciler(16, -1, 60_000)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RangeReconciler(16, 4, ReconcileMessage.MAX_MESSAGE_BYTES + 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RangeReconciler(16, 4, 100)).isInstanceOf(IllegalArgumentException.class);
        RangeReconciler d = new RangeReconciler();
        assertThat(d.branching()).isEqualTo(RangeReconciler.DEFAULT_BRANCHING);
        assertThat(d.idListThreshold()).isEqualTo(RangeReconciler.DEFAULT_ID_LIST_THRESHOLD);
        assertThat(d.maxMessageBytes()).isEqualTo(ReconcileMessage.MAX_MESSAGE_BYTES);
    }

    @Test
    void respondOnAHundredThousandItemsTakesMilliseconds() throws Exception {
        List<SyncItem> all = history(HISTORY, 13);
        SyncItems full = SyncItems.of(all), partial = SyncItems.of(without(all, 1000, 13));
        RangeReconciler rec = new RangeReconciler();
        byte[] first = rec.initiate(full);
        byte[] big = rec.respond(partial, first).reply(); // tens of KB, thousands of ranges
        long identical = Long.MAX_VALUE, busy = Long.MAX_VALUE;
        for (int i = 0; i < 20; i++) {
            long t = System.nanoTime();
            rec.respond(full, first);
            identical = Math.min(identical, System.nanoTime() - t);
            t = System.nanoTime();
            rec.respond(full, big);
            busy = Math.min(busy, System.nanoTime() - t);
        }
        System.out.printf("RECONCILE timing: respond(100000 items, identical) %.3f ms; respond(100000 items, %d-byte message) %.3f ms%n",
                identical / 1e6, big.length, busy / 1e6);
        assertThat(identical / 1e6).isLessThan(20);
        assertThat(busy / 1e6).isLessThan(100);
    }

    // ------------------------------------------------------------------ SyncItem, SyncItems

    @Test
    void syncItemsSortAndDeduplicate() {
        List<SyncItem> h = history(500, 14);
        List<SyncItem> messy = new ArrayList<>(h);
        messy.addAll(h.subList(0, 100));
        Collections.shuffle(messy, new Random(14));
        SyncItems s = SyncItems.of(messy);
        assertThat(s.size()).isEqualTo(500);
        assertThat(s.toList()).isEqualTo(new ArrayList<>(new TreeSet<>(h)));
        assertThat(SyncItems.of(h.subList(0, 200)).plus(h.subList(150, 500))).isEqualTo(SyncItems.of(h));
        for (SyncItem it : h) assertThat(s.contains(it)).isTrue();
        assertThat(s.indexOfId(new byte[32])).isEqualTo(-1);
    }

    @Test
    void syncItemChecksAndOrders() {
        byte[] id = new byte[32];
        assertThatThrownBy(() -> new SyncItem(-1, id)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new SyncItem(Long.MAX_VALUE, id)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new SyncItem(1, new byte[31])).isInstanceOf(IllegalArgumentException.class);
        byte[] hi = new byte[32];
        hi[0] = (byte) 0x80; // unsigned order: 0x80 is above 0x01
        byte[] lo = new byte[32];
        lo[0] = 0x01;
        assertThat(new SyncItem(5, hi)).isGreaterThan(new SyncItem(5, lo));
        assertThat(new SyncItem(4, hi)).isLessThan(new SyncItem(5, lo));
        assertThat(new SyncItem(5, hi.clone())).isEqualTo(new SyncItem(5, hi)).hasSameHashCodeAs(new SyncItem(5, hi));
        byte[] mutable = lo.clone();
        SyncItem it = new SyncItem(5, mutable);
        mutable[0] = 9;
        assertThat(it.id()[0]).isEqualTo((byte) 1);
    }

    /** Range fingerprints agree with a BigInteger reference of the documented definition. */
    @Property(tries = 100)
    void rangeFingerprintsMatchTheDefinition(@ForAll long seed, @ForAll @IntRange(min = 0, max = 60) int n) {
        Random r = new Random(seed);
        List<SyncItem> items = randomItems(r, n, true);
        SyncItems s = SyncItems.of(items);
        int from = s.size() == 0 ? 0 : r.nextInt(s.size() + 1), to = from + r.nextInt(s.size() - from + 1);
        BigInteger sum = BigInteger.ZERO;
        for (int i = from; i < to; i++) sum = sum.add(new BigInteger(1, ReconcileMessageTest.reverse(s.id(i))));
        sum = sum.mod(BigInteger.TWO.pow(256));
        byte[] le = ReconcileMessageTest.reverse(ReconcileMessageTest.toFixed32(sum));
        long[] limbs = new long[4];
        for (int l = 0; l < 4; l++) for (int b = 0; b < 8; b++) limbs[l] |= (le[l * 8 + b] & 0xffL) << (8 * b);
        assertThat(s.fingerprint(from, to)).isEqualTo(ReconcileMessage.fingerprint(limbs, to - from));
    }

    /** Bounds between neighbours separate them, use the shortest prefix, and lowerBound agrees with a scan. */
    @Property(tries = 200)
    void boundsAndLowerBounds(@ForAll long seed, @ForAll @IntRange(min = 1, max = 80) int n) {
        Random r = new Random(seed);
        SyncItems s = SyncItems.of(randomItems(r, n, true));
        for (int i = 1; i <= s.size(); i++) {
            Bound b = s.boundBefore(i);
            assertThat(s.lowerBound(b)).isEqualTo(i);
            if (i < s.size() && b.prefixLength() > 0) {
                // one byte shorter would not separate item i-1 from item i
                Bound shorter = new Bound(b.hlc(), Arrays.copyOf(b.idPrefix(), b.prefixLength() - 1));
                assertThat(s.lowerBound(shorter)).isLessThan(i);
            }
        }
        for (int k = 0; k < 50; k++) {
            byte[] prefix = new byte[r.nextInt(4)];
            for (int j = 0; j < prefix.length; j++) prefix[j] = (byte) r.nextInt(3);
            Bound b = new Bound(r.nextInt(8), prefix);
            int scan = 0;
            while (scan < s.size() && b.compareToItem(s.hlc(scan), s.id(scan), 0) > 0) scan++;
            assertThat(s.lowerBound(b)).isEqualTo(scan);
        }
    }

    // ------------------------------------------------------------------ convergence property

    /**
     * Items with few distinct times and ids sharing prefixes, so bounds need prefixes of several bytes; some
     * all-zero ids at time 0 (the lowest possible item).
     */
    static List<SyncItem> randomItems(Random r, int n, boolean dense) {
        List<SyncItem> items = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            byte[] id = new byte[32];
            r.nextBytes(id);
            long hlc;
            if (dense) {
                hlc = r.nextInt(6);
                int shared = r.nextInt(4);
                for (int j = 0; j < shared; j++) id[j] = (byte) r.nextInt(2);
                if (r.nextInt(50) == 0) {
                    Arrays.fill(id, (byte) 0);
                    hlc = 0;
                }
            } else {
                hlc = T0 + ((long) r.nextInt(1_000_000) << 16);
            }
            items.add(new SyncItem(hlc, id));
        }
        return items;
    }

    /** Random small sets with random overlaps always converge to their union, in a bounded number of messages. */
    @Property(tries = 300)
    void randomSetsConvergeToTheUnion(@ForAll long seed,
                                      @ForAll @IntRange(min = 0, max = 400) int common,
                                      @ForAll @IntRange(min = 0, max = 150) int onlyA,
                                      @ForAll @IntRange(min = 0, max = 150) int onlyB,
                                      @ForAll @IntRange(min = 2, max = 16) int branching,
                                      @ForAll @IntRange(min = 0, max = 8) int threshold,
                                      @ForAll boolean smallMessages,
                                      @ForAll boolean dense) throws Exception {
        Random r = new Random(seed);
        List<SyncItem> shared = randomItems(r, common, dense);
        List<SyncItem> a = new ArrayList<>(shared), b = new ArrayList<>(shared);
        a.addAll(randomItems(r, onlyA, dense));
        b.addAll(randomItems(r, onlyB, dense));
        RangeReconciler rec = new RangeReconciler(branching, threshold, smallMessages ? 1024 : ReconcileMessage.MAX_MESSAGE_BYTES);
        Set<SyncItem> union = new HashSet<>(a);
        union.addAll(b);
        Run run = sync(rec, SyncItems.of(a), SyncItems.of(b), smallMessages ? 80 : 12);
        assertThat(run.initiator()).isEqualTo(SyncItems.of(union));
        assertThat(run.responder()).isEqualTo(SyncItems.of(union));
        assertThat(run.largestMessage()).isLessThanOrEqualTo(rec.maxMessageBytes());
    }
}
