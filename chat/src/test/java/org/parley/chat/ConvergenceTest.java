package org.parley.chat;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterTry;
import net.jqwik.api.lifecycle.BeforeTry;
import org.parley.chat.sync.RangeReconciler;
import org.parley.identity.CertificateAuthority;
import org.parley.identity.CertificateVerifier;
import org.parley.identity.Keys;
import org.parley.identity.Policy;
import org.parley.identity.Role;
import org.parley.protocol.ChatEvent.Kind;
import org.parley.protocol.HybridClock;

/**
 * Convergence: random schedules of offline writes, live pushes that arrive out of order, partial syncs between
 * random pairs, partitions, crashes (restart from the store), a device added late, members added and removed,
 * edits, deletes, reactions and read markers, over six replicas of one group. After the network heals and
 * everyone syncs, every replica of a current member holds the same events and shows the same history in the
 * same order.
 */
class ConvergenceTest {
    static final String NET = "proptest";
    static final Instant NB = Instant.parse("2026-01-01T00:00:00Z");
    static final Instant NA = Instant.parse("2027-01-01T00:00:00Z");
    static final CertificateAuthority CA = new CertificateAuthority(NET, Keys.newCaKeyPair());
    /** Devices: name -> user. alice3 joins late (a device added after the group exists). */
    static final Map<String, String> DEVICES = new LinkedHashMap<>();
    static final Map<String, KeyPair> KEYS = new LinkedHashMap<>();
    static final Map<String, byte[]> CERTS = new LinkedHashMap<>();

    static {
        DEVICES.put("alice1", "alice");
        DEVICES.put("alice2", "alice");
        DEVICES.put("bob1", "bob");
        DEVICES.put("carol1", "carol");
        DEVICES.put("dave1", "dave");
        DEVICES.put("alice3", "alice");
        for (var e : DEVICES.entrySet()) {
            KeyPair k = Keys.newDeviceKeyPair();
            KEYS.put(e.getKey(), k);
            try {
                CERTS.put(e.getKey(), CA.issueDevice(e.getValue(), Role.USER, k.getPublic(), Policy.DEFAULT, NB, NA).getEncoded());
            } catch (java.security.cert.CertificateEncodingException ex) {
                throw new IllegalStateException(ex);
            }
        }
    }

    /** A clock the test moves forward; replicas' skew is simulated by the HLC alone. */
    static final class TestClock extends Clock {
        final AtomicLong now = new AtomicLong(NB.toEpochMilli() + 86_400_000L);

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(now.get());
        }
    }

    sealed interface Action {}
    record Write(int device, String text) implements Action {}
    record Modify(int device, int which, int pick) implements Action {}
    record Push(int from, int to) implements Action {}
    record Sync(int a, int b, int maxRounds) implements Action {}
    record Crash(int device) implements Action {}
    record Partition(int device) implements Action {}
    record Membership(int device, int what) implements Action {}
    record Tick(int millis) implements Action {}

    Path dir;
    TestClock clock;
    List<String> names;
    Map<String, ChatReplica> replicas;
    Set<String> offline;
    byte[] group;

    @BeforeTry
    void setUp() throws Exception {
        dir = Files.createTempDirectory("convergence");
        clock = new TestClock();
        names = new ArrayList<>(DEVICES.keySet());
        replicas = new LinkedHashMap<>();
        offline = new HashSet<>();
        for (String d : names) if (!d.equals("alice3")) replicas.put(d, open(d));
        group = replicas.get("alice1").create("field team", List.of("bob", "carol")).conversation();
        // the group has reached the members' devices before the schedule starts
        for (String d : List.of("alice2", "bob1", "carol1")) sync("alice1", d, 10);
    }

    @AfterTry
    void tearDown() throws Exception {
        for (ChatReplica r : replicas.values()) r.close();
        try (var s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    ChatReplica open(String device) {
        SqliteEventStore store = new SqliteEventStore(dir.resolve(device + ".db"));
        CertificateVerifier v = new CertificateVerifier(NET, CA.publicKey(), clock);
        return new ChatReplica(store, new CertificateBook(v, store), DEVICES.get(device),
                HexFormat.of().parseHex(Keys.deviceId(KEYS.get(device).getPublic())), KEYS.get(device).getPrivate(),
                CERTS.get(device), new HybridClock(clock), clock);
    }

    @Provide
    Arbitrary<List<Action>> schedules() {
        Arbitrary<Integer> dev = Arbitraries.integers().between(0, DEVICES.size() - 1);
        Arbitrary<Action> write = Combinators.combine(dev, Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(12))
                .as(Write::new);
        Arbitrary<Action> modify = Combinators.combine(dev, Arbitraries.integers().between(0, 3), Arbitraries.integers().between(0, 1000))
                .as(Modify::new);
        Arbitrary<Action> push = Combinators.combine(dev, dev).as(Push::new);
        Arbitrary<Action> sync = Combinators.combine(dev, dev, Arbitraries.integers().between(1, 6)).as(Sync::new);
        Arbitrary<Action> crash = dev.map(Crash::new);
        Arbitrary<Action> part = dev.map(Partition::new);
        Arbitrary<Action> member = Combinators.combine(dev, Arbitraries.integers().between(0, 4)).as(Membership::new);
        Arbitrary<Action> tick = Arbitraries.integers().between(1, 5000).map(Tick::new);
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(6, write), net.jqwik.api.Tuple.of(2, modify), net.jqwik.api.Tuple.of(4, push),
                net.jqwik.api.Tuple.of(4, sync), net.jqwik.api.Tuple.of(1, crash), net.jqwik.api.Tuple.of(2, part),
                net.jqwik.api.Tuple.of(3, member), net.jqwik.api.Tuple.of(2, tick))
                .list().ofMinSize(20).ofMaxSize(120);
    }

    @Property(tries = 80)
    void replicasConvergeToOneHistoryInOneOrder(@ForAll("schedules") List<Action> schedule) {
        for (Action a : schedule) apply(a);
        // heal: everyone online, device alice3 exists, all pairs sync until nothing changes
        offline.clear();
        if (!replicas.containsKey("alice3")) replicas.put("alice3", open("alice3"));
        for (int round = 0; round < 4; round++) {
            for (String a : replicas.keySet()) for (String b : replicas.keySet()) if (!a.equals(b)) sync(a, b, 50);
        }
        Set<String> members = replicas.get("alice1").members(group);
        if (Boolean.getBoolean("convergence.stats")) {
            System.out.println("STATS events=" + replicas.get("alice1").items(group).size() + " members=" + members
                    + " authors=" + replicas.get("alice1").history(group, 100000).stream().map(ChatReplica.Line::author).distinct().toList()
                    + " rejected=" + replicas.values().stream().mapToLong(ChatReplica::rejectedCount).sum());
        }
        List<String> reference = null;
        List<String> referenceTexts = null;
        String referenceName = null;
        for (var e : replicas.entrySet()) {
            ChatReplica r = e.getValue();
            if (!members.contains(r.user())) continue;
            assertThat(r.members(group)).as("members at %s", e.getKey()).isEqualTo(members);
            List<ChatReplica.Line> h = r.history(group, 100_000);
            List<String> ids = h.stream().map(ChatReplica.Line::id).toList();
            List<String> texts = h.stream().map(l -> l.author() + ":" + l.text() + (l.deleted() ? "#deleted" : "")
                    + (l.edited() ? "#edited" : "") + l.reactions()).toList();
            List<String> all = itemIds(r);
            if (reference == null) {
                reference = all;
                referenceTexts = texts;
                referenceName = r.state(group).name();
                assertThat(ids).isNotEmpty();
            } else {
                assertThat(all).as("event set and order at %s", e.getKey()).isEqualTo(reference);
                assertThat(texts).as("history at %s", e.getKey()).isEqualTo(referenceTexts);
                assertThat(r.state(group).name()).isEqualTo(referenceName);
            }
            assertThat(r.pendingCount()).isZero();
        }
    }

    List<String> itemIds(ChatReplica r) {
        var items = r.items(group);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) out.add(items.get(i).hlc() + ":" + HexFormat.of().formatHex(items.get(i).id()));
        return out;
    }

    void apply(Action a) {
        switch (a) {
            case Write w -> {
                ChatReplica r = replicas.get(names.get(w.device()));
                if (r != null && r.knows(group) && r.members(group).contains(r.user())) {
                    r.post(group, Kind.MESSAGE, null, List.of(), w.text());
                }
            }
            case Modify m -> {
                ChatReplica r = replicas.get(names.get(m.device()));
                if (r == null || !r.knows(group) || !r.members(group).contains(r.user())) return;
                List<ChatReplica.Line> mine = r.history(group, 1000).stream()
                        .filter(l -> l.kind().equals("message") && !l.deleted()).toList();
                if (mine.isEmpty()) return;
                ChatReplica.Line target = mine.get(m.pick() % mine.size());
                byte[] t = HexFormat.of().parseHex(target.id());
                try {
                    switch (m.which()) {
                        case 0 -> r.post(group, Kind.EDIT, t, List.of(), "edited " + m.pick());
                        case 1 -> r.post(group, Kind.DELETE, t, List.of(), "");
                        case 2 -> r.post(group, Kind.REACTION, t, List.of(), m.pick() % 2 == 0 ? "+1" : "ok");
                        default -> r.post(group, Kind.READ, t, List.of(), "");
                    }
                } catch (ChatReplica.ChatException refused) {
                    // editing or deleting someone else's message is refused locally, as a peer would refuse it
                }
            }
            case Push p -> {
                String from = names.get(p.from()), to = names.get(p.to());
                ChatReplica f = replicas.get(from), t = replicas.get(to);
                if (f == null || t == null || from.equals(to) || offline.contains(from) || offline.contains(to) || !f.knows(group)) return;
                if (!f.user().equals(t.user()) && !f.members(group).contains(t.user())) return;
                byte[] newest = f.newest(group);
                ChatReplica.Batch b = f.eventsForPush(List.of(newest));
                t.receive(b.events().stream().map(StoredEvent::encoded).toList(), b.certificates(), "direct");
            }
            case Sync s -> {
                String x = names.get(s.a()), y = names.get(s.b());
                if (!x.equals(y) && !offline.contains(x) && !offline.contains(y)) sync(x, y, s.maxRounds());
            }
            case Crash c -> {
                String d = names.get(c.device());
                ChatReplica r = replicas.get(d);
                if (r == null) return;
                r.close();
                replicas.put(d, open(d));
            }
            case Partition p -> {
                String d = names.get(p.device());
                if (!offline.remove(d)) offline.add(d);
            }
            case Membership m -> {
                ChatReplica r = replicas.get(names.get(m.device()));
                if (r == null || !r.knows(group)) return;
                try {
                    switch (m.what()) {
                        case 0 -> r.post(group, Kind.ADD, null, List.of("dave"), "");
                        case 1 -> r.post(group, Kind.REMOVE, null, List.of("carol"), "");
                        case 4 -> r.post(group, Kind.ADD, null, List.of("carol"), "");
                        case 2 -> r.post(group, Kind.RENAME, null, List.of(), "renamed by " + r.user());
                        default -> {
                            if (!replicas.containsKey("alice3")) replicas.put("alice3", open("alice3"));
                        }
                    }
                } catch (ChatReplica.ChatException refused) {
                    // not a member, or not the owner: refused like any replica would
                }
            }
            case Tick t -> clock.now.addAndGet(t.millis());
        }
    }

    /** One reconciliation between two replicas, both directions of transfer, at most {@code maxRounds} messages each way. */
    void sync(String x, String y, int maxRounds) {
        ChatReplica a = replicas.get(x), b = replicas.get(y);
        if (a == null || b == null) return;
        RangeReconciler rec = new RangeReconciler();
        // the daemon's rule: own devices share everything; otherwise what the peer is or was a member of, and a
        // former member is offered only what was written while it was a member (ChatReplica.itemsFor)
        boolean aMay = a.user().equals(b.user()) || a.everMembers(group).contains(b.user()) || !a.knows(group);
        boolean bMay = a.user().equals(b.user()) || b.everMembers(group).contains(a.user()) || !b.knows(group);
        if (!aMay || !bMay) return;
        byte[] msg = rec.initiate(a.itemsFor(group, b.user()));
        ChatReplica from = b, to = a;
        for (int round = 0; round < maxRounds * 2 && msg != null; round++) {
            RangeReconciler.Outcome o;
            try {
                o = rec.respond(from.itemsFor(group, to.user()), msg);
            } catch (org.parley.protocol.WireFormatException e) {
                throw new AssertionError(e);
            }
            if (!o.send().isEmpty()) {
                ChatReplica.Batch batch = from.eventsForPush(o.send());
                to.receive(batch.events().stream().map(StoredEvent::encoded).toList(), batch.certificates(), "direct");
            }
            msg = o.reply();
            ChatReplica t = from;
            from = to;
            to = t;
        }
    }
}
