package org.parley.overlay;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;
import org.parley.protocol.DeviceRecord;

/** A whole overlay in memory: nodes on one {@link VirtualClock}, linked by a {@link SimNet}. */
final class Cluster {
    static final long T0 = 1_700_000_000_000L;

    final VirtualClock clock = new VirtualClock(T0);
    final SimNet net;
    final OverlayConfig cfg;
    final Random rnd;
    final RecordStore.Validator validator = FakePki.validator(clock::now);
    final Map<String, OverlayNode> nodes = new LinkedHashMap<>();
    final Set<String> dead = new HashSet<>();
    final List<String> seeds = new ArrayList<>();
    private int counter;

    Cluster(long seed, long latencyMillis, double loss, OverlayConfig cfg) {
        this.rnd = new Random(seed);
        this.net = new SimNet(clock, seed * 31 + 7, latencyMillis, loss);
        this.cfg = cfg;
    }

    /** {@code n} nodes joining one after another through the first three, then some minutes of normal life. */
    static Cluster of(int n, long seed, double loss) {
        Cluster c = new Cluster(seed, 10, loss, OverlayConfig.defaults().withCacheMillis(0));
        c.grow(n, 100);
        c.clock.runFor(4 * 60_000);
        return c;
    }

    OverlayNode add(NodeId id) {
        String address = "sn-" + (counter++) + ".test:7000";
        int capacity = 100 + rnd.nextInt(10_000);
        int load = rnd.nextInt(capacity);
        OverlayNode.LoadSource ls = new OverlayNode.LoadSource() {
            public int capacity() {
                return capacity;
            }

            public int load() {
                return load;
            }
        };
        OverlayNode node = new OverlayNode(id, address, cfg, net.from(address), clock, new Random(rnd.nextLong()), validator, ls);
        nodes.put(address, node);
        net.register(address, node::onMessage);
        if (seeds.size() < 3) seeds.add(address);
        node.start(seeds);
        return node;
    }

    void grow(int n, long gapMillis) {
        for (int i = 0; i < n; i++) {
            add(NodeId.random(rnd));
            clock.runFor(gapMillis);
        }
    }

    void kill(OverlayNode n) {
        n.stop();
        net.kill(n.address());
        dead.add(n.address());
    }

    List<OverlayNode> live() {
        List<OverlayNode> out = new ArrayList<>();
        for (OverlayNode n : nodes.values()) if (!dead.contains(n.address())) out.add(n);
        return out;
    }

    OverlayNode randomLive() {
        List<OverlayNode> l = live();
        return l.get(rnd.nextInt(l.size()));
    }

    OverlayNode byId(NodeId id) {
        for (OverlayNode n : nodes.values()) if (n.id().equals(id)) return n;
        throw new AssertionError("no node " + id);
    }

    /** Brute force: the {@code n} live nodes closest to {@code target}, optionally leaving one out. */
    List<NodeId> trueClosest(NodeId target, int n, OverlayNode exclude) {
        return live().stream().filter(x -> x != exclude).map(OverlayNode::id)
                .sorted((a, b) -> target.compareDistance(a, b)).limit(n).toList();
    }

    /** Live nodes holding any record of {@code user}. */
    List<OverlayNode> holders(String user) {
        return live().stream().filter(x -> !x.store().get(user, clock.now()).isEmpty())
                .sorted(Comparator.comparing(OverlayNode::id, (a, b) -> NodeId.forUser(user).compareDistance(a, b))).toList();
    }

    /** Starts an asynchronous operation and runs the clock until its callback fires (exactly once). */
    <T> T await(Consumer<Consumer<T>> op, long maxMillis) {
        List<T> got = new ArrayList<>(1);
        op.accept(v -> {
            if (!got.isEmpty()) throw new AssertionError("callback invoked twice");
            got.add(v);
        });
        long end = clock.now() + maxMillis;
        while (got.isEmpty() && clock.now() < end) clock.runFor(5);
        assertThat(got).as("operation did not complete within %d ms", maxMillis).hasSize(1);
        return got.get(0);
    }

    OverlayNode.LookupResult find(OverlayNode from, String user) {
        return await(cb -> from.findUser(user, cb), 30_000);
    }

    int publish(OverlayNode from, DeviceRecord r) {
        return await(cb -> from.publish(List.of(r), cb), 30_000);
    }

    List<NodeId> lookupNodes(OverlayNode from, NodeId target) {
        List<org.parley.protocol.OverlayContact> l = await(cb -> from.lookupNodes(target, cb), 30_000);
        return l.stream().map(c -> NodeId.of(c.id())).toList();
    }

    DeviceRecord record(String user, int device, long seq) {
        return FakePki.record(user, String.format("%032x", device), seq, clock.now() + org.parley.protocol.Limits.RECORD_TTL_MILLIS,
                "198.51.100." + (device % 250) + ":" + (4000 + seq));
    }
}
