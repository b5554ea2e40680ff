package org.parley.overlay;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.parley.protocol.DeviceRecord;
import org.parley.protocol.Frame;
import org.parley.protocol.Limits;
import org.parley.protocol.OverlayContact;

/** One overlay node's answers to single messages, with the network replaced by an outbox. */
class OverlayNodeMessagesTest {
    record Sent(String to, Frame frame) {}

    final VirtualClock clock = new VirtualClock(1_700_000_000_000L);
    final Random rnd = new Random(5);
    final List<Sent> outbox = new ArrayList<>();
    final OverlayConfig cfg = OverlayConfig.defaults();
    final OverlayNode node = new OverlayNode(NodeId.random(rnd), "me.test:7000", cfg, (to, f) -> outbox.add(new Sent(to, f)), clock,
            new Random(6), FakePki.validator(clock::now), new OverlayNode.LoadSource() {
                public int capacity() {
                    return 500;
                }

                public int load() {
                    return 20;
                }
            });

    OverlayContact peer(int i) {
        NodeId id = node.id().randomInBucket(255 - (i % 40), rnd);
        return new OverlayContact(id.bytes(), "peer" + i + ".test:7000", 100, 0, 60);
    }

    <T extends Frame> T last(Class<T> type) {
        assertThat(outbox).isNotEmpty();
        Frame f = outbox.get(outbox.size() - 1).frame();
        assertThat(f).isInstanceOf(type);
        return type.cast(f);
    }

    @Test
    void answersPingAndLearnsTheSender() {
        OverlayContact p = peer(1);
        node.onMessage(new Frame.OverlayPing(77, p));
        assertThat(outbox).hasSize(1);
        assertThat(outbox.get(0).to()).isEqualTo(p.address());
        Frame.OverlayPong pong = last(Frame.OverlayPong.class);
        assertThat(pong.requestId()).isEqualTo(77);
        assertThat(pong.sender().address()).isEqualTo("me.test:7000");
        assertThat(pong.sender().capacity()).isEqualTo(500);
        assertThat(pong.sender().load()).isEqualTo(20);
        assertThat(node.table().contains(NodeId.of(p.id()))).isTrue();
        assertThat(node.requestsServed()).isEqualTo(1);
    }

    @Test
    void findNodeReturnsAtMostKClosestWithoutTheRequesterButWithItself() {
        List<OverlayContact> peers = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            OverlayContact p = peer(i);
            peers.add(p);
            node.onMessage(new Frame.OverlayPing(i, p));
        }
        for (int q = 0; q < 30; q++) {
            OverlayContact asker = peers.get(rnd.nextInt(peers.size()));
            NodeId target = q % 2 == 0 ? NodeId.of(asker.id()) : NodeId.random(rnd);
            node.onMessage(new Frame.FindNode(1000 + q, asker, target.bytes()));
            Frame.Nodes n = last(Frame.Nodes.class);
            assertThat(n.requestId()).isEqualTo(1000 + q);
            List<NodeId> ids = n.contacts().stream().map(c -> NodeId.of(c.id())).toList();
            assertThat(ids).hasSize(cfg.k()).doesNotHaveDuplicates().doesNotContain(NodeId.of(asker.id()))
                    .isSortedAccordingTo(target::compareDistance);
            // exactly the k closest of everything this node knows, itself included, the asker left out
            List<NodeId> known = new ArrayList<>(node.table().all().stream().map(RoutingTable.Entry::id).toList());
            known.add(node.id());
            known.remove(NodeId.of(asker.id()));
            known.sort(target::compareDistance);
            assertThat(ids).isEqualTo(known.subList(0, cfg.k()));
        }
    }

    @Test
    void findValueAnswersRecordsOnlyUnderTheUsersKey() {
        DeviceRecord r = FakePki.record("alice", "a".repeat(32), 1, clock.now() + 60_000, "192.0.2.1:1");
        assertThat(node.store().put(r)).isEqualTo(RecordStore.Outcome.STORED);
        OverlayContact p = peer(1);
        node.onMessage(new Frame.FindValue(5, p, NodeId.forUser("alice").bytes(), "alice"));
        assertThat(last(Frame.Values.class).records()).containsExactly(r);
        node.onMessage(new Frame.FindValue(6, p, NodeId.forUser("bob").bytes(), "alice"));
        Frame.Values v = last(Frame.Values.class);
        assertThat(v.records()).isEmpty();
        assertThat(v.contacts()).isNotEmpty();
        clock.advance(60_000);
        node.onMessage(new Frame.FindValue(7, p, NodeId.forUser("alice").bytes(), "alice"));
        assertThat(last(Frame.Values.class).records()).as("expired records are not served").isEmpty();
    }

    @Test
    void storeAcceptsValidRecordsCapsTheBatchAndAnswersOnlyWhenAsked() {
        OverlayContact p = peer(1);
        List<DeviceRecord> batch = new ArrayList<>();
        for (int i = 0; i < 20; i++) batch.add(FakePki.record("alice", String.format("%032x", i), 1, clock.now() + 60_000, "192.0.2.1:1"));
        node.onMessage(new Frame.Store(9, p, batch));
        assertThat(last(Frame.Stored.class).accepted()).isEqualTo(Limits.MAX_DEVICES_PER_USER);
        assertThat(node.store().get("alice", clock.now())).hasSize(Limits.MAX_DEVICES_PER_USER);
        int before = outbox.size();
        DeviceRecord bob = FakePki.record("bob", "b".repeat(32), 1, clock.now() + 60_000, "192.0.2.2:1");
        node.onMessage(new Frame.Store(0, p, List.of(bob)));
        assertThat(outbox).hasSize(before); // replication pushes are not acknowledged
        assertThat(node.store().get("bob", clock.now())).containsExactly(bob);
        node.onMessage(new Frame.Store(10, p, List.of(FakePki.signedByWrongKey(FakePki.record("carol", "c".repeat(32), 1, clock.now() + 60_000, "x:1")))));
        assertThat(last(Frame.Stored.class).accepted()).isZero();
        assertThat(node.store().get("carol", clock.now())).isEmpty();
    }

    @Test
    void repliesFromTheWrongAddressOrTooLateAreIgnored() {
        OverlayContact real = peer(1);
        node.onMessage(new Frame.OverlayPing(1, real)); // known peer
        outbox.clear();
        List<List<OverlayContact>> results = new ArrayList<>();
        node.lookupNodes(NodeId.random(rnd), results::add);
        Frame.FindNode q = (Frame.FindNode) outbox.get(0).frame();
        assertThat(outbox.get(0).to()).isEqualTo(real.address());
        // an impostor answers the request first
        OverlayContact impostor = new OverlayContact(real.id(), "impostor.test:7000", 1, 0, 0);
        node.onMessage(new Frame.Nodes(q.requestId(), impostor, List.of()));
        assertThat(results).isEmpty();
        // then the real one
        node.onMessage(new Frame.Nodes(q.requestId(), real, List.of()));
        assertThat(results).hasSize(1);
        assertThat(results.get(0)).extracting(OverlayContact::address).containsExactly(real.address());
        // a duplicate or late answer changes nothing
        node.onMessage(new Frame.Nodes(q.requestId(), real, List.of(peer(2))));
        clock.runFor(10 * cfg.requestTimeoutMillis());
        assertThat(results).hasSize(1);
        assertThat(node.timeouts()).isZero();
    }

    @Test
    void unansweredRequestsTimeOutAndCountAsFailures() {
        OverlayContact p = peer(1);
        node.onMessage(new Frame.OverlayPing(1, p));
        List<List<OverlayContact>> results = new ArrayList<>();
        node.lookupNodes(NodeId.random(rnd), results::add);
        clock.runFor(cfg.requestTimeoutMillis() - 1);
        assertThat(results).isEmpty();
        clock.runFor(1);
        assertThat(results).containsExactly(List.of());
        assertThat(node.timeouts()).isEqualTo(1);
        assertThat(node.table().contains(NodeId.of(p.id()))).as("one failure, nobody waiting: kept").isTrue();
        node.lookupNodes(NodeId.random(rnd), results::add);
        // a contact with a failure is not asked again by the next lookup (it only returns live contacts)
        clock.runFor(cfg.requestTimeoutMillis());
        assertThat(results).hasSize(2);
        node.peerGone(p.address());
        assertThat(node.table().size()).isZero();
    }
}
