package org.parley.overlay;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.parley.protocol.DeviceRecord;
import org.parley.protocol.Frame;
import org.parley.protocol.OverlayContact;

/** The Kademlia overlay as a whole: 200 supernodes in memory, 10 ms links, virtual time. */
class OverlayNodeTest {
    static final int N = 200;
    static final int K = OverlayConfig.defaults().k();
    static final double LOG2_N = Math.log(N) / Math.log(2);

    /** Records decoded from the wire are new objects: compare signed content and signature. */
    static org.assertj.core.api.ListAssert<DeviceRecord> assertRecords(List<DeviceRecord> l) {
        return assertThat(l).usingElementComparator((a, b) -> a.sameAs(b) ? 0 : 1);
    }

    static boolean has(List<DeviceRecord> l, DeviceRecord r) {
        return l.stream().anyMatch(r::sameAs);
    }

    static List<NodeId> ids(List<OverlayNode> l) {
        return l.stream().map(OverlayNode::id).toList();
    }

    @Test
    void everyNodeJoinsWithAUsefulRoutingTable() {
        Cluster c = Cluster.of(N, 1, 0);
        for (OverlayNode n : c.live()) {
            assertThat(n.table().size()).as("table of %s", n.id()).isGreaterThanOrEqualTo(K);
            // its own k closest neighbours are known to it: that is what makes the last lookup hop exact
            List<NodeId> neighbours = c.trueClosest(n.id(), K, n);
            assertThat(neighbours.stream().filter(n.table()::contains).count()).as("neighbours of %s", n.id())
                    .isGreaterThanOrEqualTo(K - 1);
        }
    }

    @Test
    void lookupNodesFindsTheTrueKClosest() {
        Cluster c = Cluster.of(N, 2, 0);
        int exact = 0, rounds = 100;
        for (int i = 0; i < rounds; i++) {
            OverlayNode from = c.randomLive();
            NodeId target = i % 4 == 0 ? c.randomLive().id() : NodeId.random(c.rnd);
            List<NodeId> got = c.lookupNodes(from, target);
            List<NodeId> expected = c.trueClosest(target, K, from);
            assertThat(got).as("lookup result is sorted by distance and has no duplicates").doesNotHaveDuplicates()
                    .isSortedAccordingTo(target::compareDistance).doesNotContain(from.id());
            assertThat(got.stream().filter(expected::contains).count()).as("overlap with the true %d closest", K)
                    .isGreaterThanOrEqualTo(K - 1);
            if (got.equals(expected)) exact++;
        }
        assertThat(exact).as("lookups that found exactly the true k closest").isGreaterThanOrEqualTo(rounds * 95 / 100);
    }

    @Test
    void publishedRecordsLandAtTheKClosestAndAreFoundFromEverywhereInFewHops() {
        Cluster c = Cluster.of(N, 3, 0);
        int maxHops = 0, totalHops = 0, lookups = 0;
        for (int u = 0; u < 15; u++) {
            String user = "user" + u;
            DeviceRecord r = c.record(user, u, 1);
            OverlayNode publisher = c.randomLive();
            assertThat(c.publish(publisher, r)).as("acks for %s", user).isEqualTo(K);
            assertThat(ids(c.holders(user))).as("holders of %s", user)
                    .containsExactlyElementsOf(c.trueClosest(NodeId.forUser(user), K, null));
            for (OverlayNode h : c.holders(user)) assertRecords(h.store().get(user, c.clock.now())).containsExactly(r);
            for (int q = 0; q < 12; q++) {
                OverlayNode from = c.randomLive();
                OverlayNode.LookupResult res = c.find(from, user);
                assertThat(res.user()).isEqualTo(user);
                assertRecords(res.records()).as("%s looked up from %s", user, from.id()).containsExactly(r);
                assertThat(res.holders()).isPositive();
                maxHops = Math.max(maxHops, res.hops());
                totalHops += res.hops();
                lookups++;
                if (from.store().get(user, c.clock.now()).isEmpty()) {
                    assertThat(res.messages()).isPositive();
                    assertThat(res.hops()).isPositive();
                }
            }
        }
        assertThat(maxHops).isLessThanOrEqualTo((int) Math.floor(LOG2_N));
        assertThat(totalHops / (double) lookups).isLessThan(LOG2_N / 2);
    }

    @Test
    void aHolderOfTheKeyAnswersFromItsOwnStore() {
        Cluster c = Cluster.of(N, 4, 0);
        DeviceRecord r = c.record("alice", 1, 1);
        c.publish(c.randomLive(), r);
        OverlayNode closest = c.byId(c.trueClosest(NodeId.forUser("alice"), 1, null).get(0));
        assertThat(closest.holds(NodeId.forUser("alice"))).isTrue();
        long sent = closest.requestsSent();
        OverlayNode.LookupResult res = c.find(closest, "alice");
        assertRecords(res.records()).containsExactly(r);
        assertThat(res.hops()).isZero();
        assertThat(closest.requestsSent()).isEqualTo(sent);
        OverlayNode far = c.live().stream().filter(n -> !n.holds(NodeId.forUser("alice"))).findFirst().orElseThrow();
        assertRecords(far.store().get("alice", c.clock.now())).isEmpty();
    }

    @Test
    void recordsSurviveTheLossOfAllButOneHolder() {
        Cluster c = Cluster.of(N, 5, 0);
        List<String> users = List.of("alice", "bob", "carol", "dave");
        List<DeviceRecord> recs = new ArrayList<>();
        for (int i = 0; i < users.size(); i++) {
            DeviceRecord r = c.record(users.get(i), i, 1);
            recs.add(r);
            assertThat(c.publish(c.randomLive(), r)).isEqualTo(K);
        }
        // k-1 holders of every user crash (the farthest of each survives)
        for (String u : users) {
            List<OverlayNode> h = c.holders(u);
            assertThat(h).hasSize(K);
            for (OverlayNode x : h.subList(0, K - 1)) c.kill(x);
        }
        for (int i = 0; i < users.size(); i++) {
            for (int q = 0; q < 10; q++) {
                OverlayNode from = c.randomLive();
                OverlayNode.LookupResult res = c.find(from, users.get(i));
                assertRecords(res.records()).as("%s from %s", users.get(i), from.id()).containsExactly(recs.get(i));
                assertThat(res.millis()).isLessThanOrEqualTo(c.cfg.lookupDeadlineMillis());
            }
        }
    }

    @Test
    void storeRefusesForgedRecordsAndLookupsNeverReturnThem() {
        Cluster c = Cluster.of(N, 6, 0);
        DeviceRecord good = c.record("alice", 1, 1);
        assertThat(c.publish(c.randomLive(), good)).isEqualTo(K);
        List<OverlayNode> holders = c.holders("alice");

        // an attacker (any peer may send STORE) offers forged versions to every holder
        List<Frame.Stored> answers = new ArrayList<>();
        String attacker = "attacker.test:7000";
        c.net.register(attacker, f -> {
            if (f instanceof Frame.Stored s) answers.add(s);
        });
        OverlayContact me = new OverlayContact(NodeId.random(c.rnd).bytes(), attacker, 10, 0, 0);
        DeviceRecord newer = c.record("alice", 1, 50);
        List<DeviceRecord> forged = List.of(
                FakePki.tampered(newer, "203.0.113.66:666"),      // altered field, old signature
                FakePki.signedByWrongKey(c.record("alice", 1, 51)), // signed with a key that is not the device's
                FakePki.tampered(good, "203.0.113.66:666"));      // same sequence as the stored one, altered
        long rejectedBefore = holders.stream().mapToLong(h -> h.store().rejected()).sum();
        long id = 1;
        for (OverlayNode h : holders) c.net.send(attacker, h.address(), new Frame.Store(id++, me, forged));
        c.clock.runFor(1000);
        assertThat(answers).hasSize(K);
        // the same-sequence forgery is not stored either (counted as already known)
        assertThat(answers).allSatisfy(s -> assertThat(s.accepted()).isLessThanOrEqualTo(1));
        for (OverlayNode h : holders) assertRecords(h.store().get("alice", c.clock.now())).containsExactly(good);
        assertThat(holders.stream().mapToLong(h -> h.store().rejected()).sum() - rejectedBefore).isEqualTo(2L * K);

        // three holders turn malicious and answer every FIND_VALUE with forgeries of a higher sequence
        Set<String> evil = new HashSet<>();
        for (int i = 0; i < 3; i++) evil.add(holders.get(i * 2).address());
        c.net.intercept((from, to, f) -> {
            if (evil.contains(from) && f instanceof Frame.Values v && !v.records().isEmpty()) {
                return new Frame.Values(v.requestId(), v.sender(), v.user(), forged.subList(0, 2), v.contacts());
            }
            return f;
        });
        int found = 0, asked = 0;
        for (OverlayNode from : c.live()) {
            if (evil.contains(from.address())) continue;
            OverlayNode.LookupResult res = c.find(from, "alice");
            asked++;
            assertRecords(res.records()).as("from %s", from.id()).allSatisfy(r -> {
                assertThat(r.observedAddress()).isNotEqualTo("203.0.113.66:666");
                assertThat(r.sequence()).isEqualTo(1);
            });
            if (has(res.records(), good)) found++;
        }
        assertThat(found).as("lookups that still found the genuine record despite 3 lying holders").isEqualTo(asked);
    }

    @Test
    void aHolderWithAnOldRecordDoesNotRollTheAnswerBack() {
        Cluster c = Cluster.of(N, 7, 0);
        DeviceRecord v1 = c.record("alice", 1, 1);
        assertThat(c.publish(c.randomLive(), v1)).isEqualTo(K);
        List<OverlayNode> holders = c.holders("alice");
        // the closest holder misses the update (its STOREs are lost)
        OverlayNode behind = holders.get(0);
        c.net.intercept((from, to, f) -> to.equals(behind.address()) && f instanceof Frame.Store ? null : f);
        DeviceRecord v2 = c.record("alice", 1, 2);
        OverlayNode publisher = c.live().stream().filter(n -> !holders.contains(n)).findFirst().orElseThrow();
        assertThat(c.publish(publisher, v2)).isEqualTo(K - 1);
        c.net.intercept((from, to, f) -> f);
        assertRecords(behind.store().get("alice", c.clock.now())).containsExactly(v1);
        for (OverlayNode h : holders) if (h != behind) assertRecords(h.store().get("alice", c.clock.now())).containsExactly(v2);
        for (OverlayNode from : c.live()) {
            if (from == behind) continue;
            assertRecords(c.find(from, "alice").records()).as("from %s", from.id()).containsExactly(v2);
        }
        // the lagging holder catches up; then another holder replays the old (validly signed) record to everyone
        assertThat(behind.store().put(v2)).isEqualTo(RecordStore.Outcome.STORED);
        OverlayNode replayer = holders.get(1);
        c.net.intercept((from, to, f) -> from.equals(replayer.address()) && f instanceof Frame.Values v && !v.records().isEmpty()
                ? new Frame.Values(v.requestId(), v.sender(), v.user(), List.of(v1), v.contacts()) : f);
        for (int q = 0; q < 40; q++) {
            OverlayNode from = c.randomLive();
            if (from == replayer) continue;
            assertRecords(c.find(from, "alice").records()).containsExactly(v2);
        }
    }

    @Test
    void requestTimeoutsEvictDeadNodes() {
        Cluster c = Cluster.of(N, 8, 0);
        OverlayNode victim = c.randomLive();
        List<OverlayNode> knowers = c.live().stream().filter(n -> n.table().contains(victim.id())).toList();
        assertThat(knowers).hasSizeGreaterThanOrEqualTo(K);
        c.kill(victim);
        for (OverlayNode a : knowers.subList(0, Math.min(10, knowers.size()))) {
            long timeouts = a.timeouts();
            for (int i = 0; i < 2; i++) {
                List<NodeId> got = c.lookupNodes(a, victim.id());
                assertThat(got).doesNotContain(victim.id());
                // the dead node may still take a slot in the neighbours' answers, so a lookup from inside the
                // k-group can end one short; what it returns is always the true closest live nodes
                List<NodeId> expected = c.trueClosest(victim.id(), K, a);
                assertThat(got).hasSizeGreaterThanOrEqualTo(K - 1).isEqualTo(expected.subList(0, got.size()));
            }
            assertThat(a.timeouts()).isGreaterThan(timeouts);
            assertThat(a.table().contains(victim.id())).as("%s still routes to the dead node", a.id()).isFalse();
        }
    }

    @Test
    void aNewNodeAmongTheKClosestReceivesTheRecords() {
        Cluster c = Cluster.of(N, 9, 0);
        DeviceRecord r = c.record("alice", 1, 1);
        assertThat(c.publish(c.randomLive(), r)).isEqualTo(K);
        List<OverlayNode> old = c.holders("alice");
        byte[] key = NodeId.forUser("alice").bytes();
        key[key.length - 1] ^= 1; // as close to the key as an id can be
        OverlayNode newcomer = c.add(NodeId.of(key));
        c.clock.runFor(5_000);
        assertRecords(newcomer.store().get("alice", c.clock.now())).containsExactly(r);
        assertThat(newcomer.holds(NodeId.forUser("alice"))).isTrue();
        assertThat(c.holders("alice")).hasSize(K + 1);
        // after a refresh period (the newcomer's bucket refreshes make it known beyond its first k neighbours)
        // every old holder is gone: the record lives on at the newcomer
        c.clock.runFor(2 * c.cfg.refreshMillis());
        for (OverlayNode h : old) c.kill(h);
        for (int q = 0; q < 15; q++) {
            OverlayNode from = c.randomLive();
            assertRecords(c.find(from, "alice").records()).as("from %s", from.id()).containsExactly(r);
        }
    }

    @Test
    void aLossyNetworkStillResolvesAlmostEverything() {
        Cluster c = Cluster.of(N, 10, 0.03);
        List<DeviceRecord> recs = new ArrayList<>();
        for (int u = 0; u < 10; u++) {
            DeviceRecord r = c.record("user" + u, u, 1);
            recs.add(r);
            assertThat(c.publish(c.randomLive(), r)).isGreaterThanOrEqualTo(K / 2);
        }
        int ok = 0, total = 0;
        for (int u = 0; u < 10; u++) {
            for (int q = 0; q < 20; q++) {
                OverlayNode.LookupResult res = c.find(c.randomLive(), "user" + u);
                total++;
                if (has(res.records(), recs.get(u))) ok++;
                assertRecords(res.records()).hasSizeLessThanOrEqualTo(1);
            }
        }
        assertThat(ok).isGreaterThanOrEqualTo(total * 97 / 100);
    }

    @Test
    void recordsExpireWithoutRepublishing() {
        Cluster c = Cluster.of(30, 11, 0);
        DeviceRecord r = c.record("alice", 1, 1);
        assertThat(c.publish(c.randomLive(), r)).isEqualTo(K);
        c.clock.runUntil(r.expiresAtMillis() + 2 * c.cfg.refreshMillis());
        assertThat(c.holders("alice")).isEmpty();
        assertThat(c.live().stream().mapToInt(n -> n.store().size()).sum()).as("swept by refresh").isZero();
        assertRecords(c.find(c.randomLive(), "alice").records()).isEmpty();
    }

    @Test
    void stoppedNodesStayQuiet() {
        Cluster c = Cluster.of(30, 12, 0);
        OverlayNode n = c.randomLive();
        long served = n.requestsServed();
        n.stop();
        long sent = c.net.sent;
        n.onMessage(new Frame.OverlayPing(5, c.randomLive().contact()));
        c.clock.runFor(10 * c.cfg.refreshMillis());
        assertThat(n.requestsServed()).as("served nothing").isEqualTo(served);
        // other nodes keep talking; the stopped one sends nothing of its own
        long before = n.requestsSent();
        c.clock.runFor(5 * c.cfg.refreshMillis());
        assertThat(n.requestsSent()).isEqualTo(before);
        assertThat(c.net.sent).isGreaterThanOrEqualTo(sent);
    }
}
