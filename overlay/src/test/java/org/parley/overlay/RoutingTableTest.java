package org.parley.overlay;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.parley.protocol.OverlayContact;

class RoutingTableTest {
    static OverlayContact contact(NodeId id, int capacity, int uptimeSeconds) {
        return new OverlayContact(id.bytes(), "sn-" + id + ":7000", capacity, 0, uptimeSeconds);
    }

    static Map<Integer, Integer> perBucket(RoutingTable t) {
        Map<Integer, Integer> m = new HashMap<>();
        for (RoutingTable.Entry e : t.all()) m.merge(t.self().bucketIndex(e.id()), 1, Integer::sum);
        return m;
    }

    static List<NodeId> ids(List<RoutingTable.Entry> l) {
        return l.stream().map(RoutingTable.Entry::id).toList();
    }

    @Test
    void neverMoreThanKPerBucketAndSizeIsConsistent() {
        Random rnd = new Random(1);
        NodeId self = NodeId.random(rnd);
        for (int k : new int[] {2, 8, 20}) {
            RoutingTable t = new RoutingTable(self, k);
            for (int i = 0; i < 3000; i++) {
                // a mix of far ids (bucket 255/254 overflow at once) and near ones; strong ones push weak ones out
                NodeId id = i % 2 == 0 ? NodeId.random(rnd) : self.randomInBucket(rnd.nextInt(40), rnd);
                t.seen(id, contact(id, 1 + rnd.nextInt(100_000), rnd.nextInt(200_000)), i);
                if (i % 17 == 0 && t.size() > 0) {
                    List<RoutingTable.Entry> all = t.all();
                    t.failed(all.get(rnd.nextInt(all.size())).id());
                }
                if (i % 101 == 0 && t.size() > 0) {
                    List<RoutingTable.Entry> all = t.all();
                    t.remove(all.get(rnd.nextInt(all.size())).id());
                }
            }
            assertThat(perBucket(t).values()).allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(k));
            assertThat(t.size()).isEqualTo(t.all().size());
            assertThat(t.all().stream().map(RoutingTable.Entry::id).distinct().count()).isEqualTo(t.size());
            assertThat(perBucket(t).get(255)).isEqualTo(k);
        }
    }

    @Test
    void selfIsNeverAdded() {
        NodeId self = NodeId.random(new Random(2));
        RoutingTable t = new RoutingTable(self, 8);
        assertThat(t.seen(self, contact(self, 10, 10), 1)).isFalse();
        assertThat(t.size()).isZero();
        assertThat(t.contains(self)).isFalse();
    }

    @Test
    void closestMatchesBruteForceWhenNoBucketOverflows() {
        Random rnd = new Random(3);
        int k = 8;
        for (int round = 0; round < 20; round++) {
            NodeId self = NodeId.random(rnd);
            RoutingTable t = new RoutingTable(self, k);
            List<NodeId> live = new ArrayList<>();
            for (int b = 0; b < NodeId.BITS; b++) {
                int n = rnd.nextInt(4) == 0 ? rnd.nextInt(k + 1) : 0;
                for (int i = 0; i < n; i++) {
                    NodeId id = self.randomInBucket(b, rnd);
                    if (t.seen(id, contact(id, 100, 0), 1)) live.add(id);
                }
            }
            // one failure (with an empty replacement cache) keeps the contact but it no longer counts as live
            List<NodeId> failing = new ArrayList<>();
            for (int i = 0; i < 3 && !live.isEmpty(); i++) {
                NodeId f = live.remove(rnd.nextInt(live.size()));
                t.failed(f);
                failing.add(f);
                assertThat(t.contains(f)).isTrue();
            }
            assertThat(t.size()).isEqualTo(live.size() + failing.size());
            for (int q = 0; q < 30; q++) {
                NodeId target = q % 3 == 0 ? self.randomInBucket(rnd.nextInt(NodeId.BITS), rnd) : NodeId.random(rnd);
                int n = 1 + rnd.nextInt(live.size() + 5);
                List<NodeId> expected = live.stream().sorted((a, b2) -> target.compareDistance(a, b2)).limit(n).toList();
                assertThat(ids(t.closest(target, n))).isEqualTo(expected);
            }
            assertThat(ids(t.closest(self, 1_000))).doesNotContainAnyElementsOf(failing).hasSize(live.size());
        }
    }

    /** A bucket filled with members of the given strengths; returns their ids in insertion order. */
    static List<NodeId> fillBucket(RoutingTable t, int bucket, int[] capacities, Random rnd) {
        List<NodeId> ids = new ArrayList<>();
        for (int cap : capacities) {
            NodeId id = t.self().randomInBucket(bucket, rnd);
            assertThat(t.seen(id, contact(id, cap, 0), 1)).isTrue();
            ids.add(id);
        }
        return ids;
    }

    @Test
    void fullBucketKeepsItsMembersAgainstNewcomersOfSimilarStrength() {
        Random rnd = new Random(4);
        RoutingTable t = new RoutingTable(NodeId.random(rnd), 4);
        List<NodeId> members = fillBucket(t, 255, new int[] {100, 100, 100, 100}, rnd);
        // strength = sqrt(capacity) * (1 + uptime hours): the members have 10
        for (int i = 0; i < 50; i++) {
            NodeId n = t.self().randomInBucket(255, rnd);
            int cap = 1 + rnd.nextInt(399); // sqrt(399) < 20: never more than twice as strong
            assertThat(t.seen(n, contact(n, cap, 0), 2)).isFalse();
            assertThat(t.contains(n)).isFalse();
        }
        // capacity 100 and one hour of uptime is exactly twice as strong: not enough
        NodeId twice = t.self().randomInBucket(255, rnd);
        assertThat(t.seen(twice, contact(twice, 100, 3600), 3)).isFalse();
        assertThat(t.contains(twice)).isFalse();
        assertThat(ids(t.all())).containsExactlyInAnyOrderElementsOf(members);
        // re-seeing a member refreshes it without changing membership
        assertThat(t.seen(members.get(0), contact(members.get(0), 100, 60), 4)).isFalse();
        assertThat(ids(t.all())).containsExactlyInAnyOrderElementsOf(members);
    }

    @Test
    void muchStrongerNewcomerReplacesTheWeakestMember() {
        Random rnd = new Random(5);
        RoutingTable t = new RoutingTable(NodeId.random(rnd), 4);
        List<NodeId> members = fillBucket(t, 255, new int[] {400, 100, 900, 1600}, rnd); // strengths 20 10 30 40
        NodeId strongCap = t.self().randomInBucket(255, rnd);
        assertThat(t.seen(strongCap, contact(strongCap, 401, 0), 2)).isTrue(); // 20.02 > 2 * 10
        assertThat(t.contains(strongCap)).isTrue();
        assertThat(t.contains(members.get(1))).isFalse();
        assertThat(t.size()).isEqualTo(4);
        // now the weakest is 20: uptime counts as well (sqrt(100) * (1 + 3 h) = 40 is not > 40, 3 h 1 min is)
        NodeId equal = t.self().randomInBucket(255, rnd);
        assertThat(t.seen(equal, contact(equal, 100, 3 * 3600), 3)).isFalse();
        NodeId longUp = t.self().randomInBucket(255, rnd);
        assertThat(t.seen(longUp, contact(longUp, 100, 3 * 3600 + 60), 3)).isTrue();
        assertThat(t.contains(longUp)).isTrue();
        assertThat(t.contains(members.get(0))).isFalse();
        assertThat(t.contains(strongCap)).isTrue();
        assertThat(perBucket(t).get(255)).isEqualTo(4);
    }

    @Test
    void uptimeBeyondTwoDaysDoesNotCount() {
        Random rnd = new Random(6);
        RoutingTable t = new RoutingTable(NodeId.random(rnd), 2);
        NodeId a = t.self().randomInBucket(255, rnd), b = t.self().randomInBucket(255, rnd);
        t.seen(a, contact(a, 100, 48 * 3600), 1);
        t.seen(b, contact(b, 100, 48 * 3600), 1);
        NodeId veteran = t.self().randomInBucket(255, rnd);
        assertThat(t.seen(veteran, contact(veteran, 100, Integer.MAX_VALUE), 2)).isFalse();
        assertThat(t.contains(veteran)).isFalse();
    }

    @Test
    void failedMemberMakesRoomForAnyNewcomer() {
        Random rnd = new Random(7);
        RoutingTable t = new RoutingTable(NodeId.random(rnd), 3);
        List<NodeId> members = fillBucket(t, 255, new int[] {10_000, 10_000, 10_000}, rnd);
        t.failed(members.get(1));
        assertThat(t.contains(members.get(1))).isTrue(); // one failure, nobody waiting: kept
        assertThat(ids(t.closest(t.self(), 10))).doesNotContain(members.get(1));
        NodeId weak = t.self().randomInBucket(255, rnd);
        assertThat(t.seen(weak, contact(weak, 1, 0), 2)).isTrue();
        assertThat(t.contains(weak)).isTrue();
        assertThat(t.contains(members.get(1))).isFalse();
        assertThat(t.contains(members.get(0))).isTrue();
        assertThat(t.contains(members.get(2))).isTrue();
        assertThat(t.size()).isEqualTo(3);
    }

    @Test
    void answeringAgainClearsAFailure() {
        Random rnd = new Random(8);
        RoutingTable t = new RoutingTable(NodeId.random(rnd), 3);
        List<NodeId> members = fillBucket(t, 255, new int[] {100, 100, 100}, rnd);
        t.failed(members.get(0));
        t.seen(members.get(0), contact(members.get(0), 100, 10), 5);
        t.failed(members.get(0)); // not consecutive: still there
        assertThat(t.contains(members.get(0))).isTrue();
        t.failed(members.get(0));
        assertThat(t.contains(members.get(0))).isFalse();
        assertThat(t.size()).isEqualTo(2);
    }

    @Test
    void twoFailuresEvictAndAReplacementTakesTheSlot() {
        Random rnd = new Random(9);
        int k = 4;
        RoutingTable t = new RoutingTable(NodeId.random(rnd), k);
        List<NodeId> members = fillBucket(t, 254, new int[] {100, 100, 100, 100}, rnd);
        // no replacement waiting: the second consecutive failure evicts
        t.failed(members.get(0));
        assertThat(t.contains(members.get(0))).isTrue();
        t.failed(members.get(0));
        assertThat(t.contains(members.get(0))).isFalse();
        assertThat(t.size()).isEqualTo(3);
        // the freed slot takes the next newcomer
        NodeId n1 = t.self().randomInBucket(254, rnd);
        assertThat(t.seen(n1, contact(n1, 100, 0), 2)).isTrue();
        // bucket full again: a newcomer of similar strength waits in the replacement cache
        NodeId waiting = t.self().randomInBucket(254, rnd);
        assertThat(t.seen(waiting, contact(waiting, 100, 0), 3)).isFalse();
        assertThat(t.contains(waiting)).isFalse();
        t.failed(members.get(1));
        t.failed(members.get(1));
        assertThat(t.contains(members.get(1))).isFalse();
        assertThat(t.contains(waiting)).as("replacement takes the evicted member's slot").isTrue();
        assertThat(t.size()).isEqualTo(k);
        assertThat(ids(t.closest(waiting, 1))).containsExactly(waiting);
        // a removed (closed) contact is replaced as well, and with nobody waiting the bucket just shrinks
        t.remove(members.get(2));
        assertThat(t.contains(members.get(2))).isFalse();
        assertThat(t.size()).isEqualTo(k - 1);
        assertThat(perBucket(t).get(254)).isEqualTo(k - 1);
    }

    @Test
    void failuresOfUnknownContactsAreHarmless() {
        Random rnd = new Random(10);
        RoutingTable t = new RoutingTable(NodeId.random(rnd), 4);
        fillBucket(t, 255, new int[] {100, 100}, rnd);
        t.failed(NodeId.random(rnd));
        t.failed(t.self());
        t.remove(NodeId.random(rnd));
        assertThat(t.size()).isEqualTo(2);
    }

    @Test
    void staleListsUntouchedBucketsAndLowestUsedBucketIsReported() {
        Random rnd = new Random(11);
        RoutingTable t = new RoutingTable(NodeId.random(rnd), 4);
        assertThat(t.lowestUsedBucket()).isEqualTo(NodeId.BITS);
        NodeId a = t.self().randomInBucket(250, rnd);
        t.seen(a, contact(a, 1, 1), 10_000);
        NodeId b = t.self().randomInBucket(240, rnd);
        t.seen(b, contact(b, 1, 1), 20_000);
        assertThat(t.lowestUsedBucket()).isEqualTo(240);
        List<Integer> stale = t.stale(15_000, 239);
        assertThat(stale).contains(255, 250, 241, 239).doesNotContain(240);
        assertThat(stale).allSatisfy(i -> assertThat(i).isGreaterThanOrEqualTo(239));
        assertThat(t.stale(25_000, 239)).contains(240, 250);
        assertThat(t.stale(5_000, 239)).doesNotContain(240, 250).contains(255);
    }
}
