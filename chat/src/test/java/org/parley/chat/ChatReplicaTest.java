package org.parley.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.parley.identity.CertificateAuthority;
import org.parley.identity.CertificateVerifier;
import org.parley.identity.Keys;
import org.parley.protocol.ChatEvent;
import org.parley.protocol.ChatEvent.Kind;
import org.parley.protocol.HybridClock;

/** One replica's checks on received events, its views, and its durability across a restart. */
class ChatReplicaTest {
    static final CertificateAuthority CA = ConvergenceTest.CA;
    @TempDir Path dir;
    ConvergenceTest.TestClock clock;
    ChatReplica alice, bob, carol;
    final List<ChatReplica> open = new ArrayList<>();

    ChatReplica open(String device) {
        SqliteEventStore store = new SqliteEventStore(dir.resolve(device + ".db"));
        CertificateVerifier v = new CertificateVerifier(ConvergenceTest.NET, CA.publicKey(), clock);
        ChatReplica r = new ChatReplica(store, new CertificateBook(v, store), ConvergenceTest.DEVICES.get(device),
                HexFormat.of().parseHex(Keys.deviceId(ConvergenceTest.KEYS.get(device).getPublic())),
                ConvergenceTest.KEYS.get(device).getPrivate(), ConvergenceTest.CERTS.get(device),
                new HybridClock(clock), clock);
        open.add(r);
        return r;
    }

    @BeforeEach
    void setUp() {
        clock = new ConvergenceTest.TestClock();
        alice = open("alice1");
        bob = open("bob1");
        carol = open("carol1");
    }

    @AfterEach
    void tearDown() {
        for (ChatReplica r : open) r.close();
    }

    /** Sends everything {@code from} has of a conversation to {@code to}, as a push would. */
    static ChatReplica.Received copy(ChatReplica from, ChatReplica to, byte[] conv) {
        List<byte[]> ids = new ArrayList<>();
        var items = from.items(conv);
        for (int i = 0; i < items.size(); i++) ids.add(items.id(i));
        ChatReplica.Batch b = from.eventsForPush(ids);
        return to.receive(b.events().stream().map(StoredEvent::encoded).toList(), b.certificates(), "direct");
    }

    static byte[] signed(ChatEvent unsigned, String device) {
        return CertificateBook.sign(unsigned, ConvergenceTest.KEYS.get(device).getPrivate()).encode();
    }

    static byte[] dev(String device) {
        return HexFormat.of().parseHex(Keys.deviceId(ConvergenceTest.KEYS.get(device).getPublic()));
    }

    @Test
    void invalidEventsAreRejectedCountedAndNeverStored() {
        byte[] g = alice.create("team", List.of("bob")).conversation();
        copy(alice, bob, g);
        copy(alice, carol, g);
        byte[] head = alice.newest(g);
        long t = (clock.millis() << 16) + 10;
        byte[] carolCert = ConvergenceTest.CERTS.get("carol1");
        byte[] bobCert = ConvergenceTest.CERTS.get("bob1");
        List<byte[]> bad = List.of(
                // carol is not a member
                signed(ChatEvent.unsigned(Kind.MESSAGE, g, "carol", dev("carol1"), t, List.of(head), null, List.of(), "let me in"), "carol1"),
                // bob's device signing as alice
                signed(ChatEvent.unsigned(Kind.MESSAGE, g, "alice", dev("bob1"), t, List.of(head), null, List.of(), "I am alice"), "bob1"),
                // signature by another key than the device's
                signed(ChatEvent.unsigned(Kind.MESSAGE, g, "bob", dev("bob1"), t, List.of(head), null, List.of(), "forged"), "carol1"),
                // not later than its parent
                signed(ChatEvent.unsigned(Kind.MESSAGE, g, "bob", dev("bob1"), 5, List.of(head), null, List.of(), "time travel"), "bob1"),
                // a day ahead of the clock
                signed(ChatEvent.unsigned(Kind.MESSAGE, g, "bob", dev("bob1"), (clock.millis() + 2 * 86_400_000L) << 16,
                        List.of(head), null, List.of(), "future"), "bob1"),
                // only the creator removes members
                signed(ChatEvent.unsigned(Kind.REMOVE, g, "bob", dev("bob1"), t, List.of(head), null, List.of("alice"), ""), "bob1"),
                // an edit of someone else's message (the create is not a message either)
                signed(ChatEvent.unsigned(Kind.EDIT, g, "bob", dev("bob1"), t, List.of(head), head, List.of(), "mine now"), "bob1"),
                // garbage
                new byte[] {1, 2, 3});
        ChatReplica.Received r = alice.receive(bad, List.of(carolCert, bobCert), "direct");
        assertThat(r.accepted()).isEmpty();
        assertThat(r.rejected()).isEqualTo(bad.size());
        assertThat(alice.rejectedCount()).isEqualTo(bad.size());
        assertThat(alice.items(g).size()).isEqualTo(1);
        assertThat(alice.store().count()).isEqualTo(1);
        // and what a replica refuses it never hands on
        List<byte[]> ids = new ArrayList<>();
        for (byte[] b : bad.subList(0, bad.size() - 1)) {
            try {
                ids.add(ChatEvent.decode(b).id());
            } catch (org.parley.protocol.WireFormatException e) {
                throw new AssertionError(e);
            }
        }
        assertThat(alice.eventsForPush(ids).events()).isEmpty();
    }

    @Test
    void eventsWaitForTheirParentsAndLateOldEventsTakeTheirPlaceByTime() {
        byte[] g = alice.create("team", List.of("bob", "carol")).conversation();
        copy(alice, bob, g);
        copy(alice, carol, g);
        clock.now.addAndGet(1000);
        StoredEvent carolOffline = carol.post(g, Kind.MESSAGE, null, List.of(), "written on the plane");
        clock.now.addAndGet(1000);
        StoredEvent a1 = alice.post(g, Kind.MESSAGE, null, List.of(), "later, on the ground");
        StoredEvent a2 = alice.post(g, Kind.MESSAGE, null, List.of(), "even later");
        // bob gets alice's second message before her first: it waits, then both apply
        ChatReplica.Received r = bob.receive(List.of(a2.encoded()), List.of(), "direct");
        assertThat(r.accepted()).isEmpty();
        assertThat(r.pending()).isEqualTo(1);
        assertThat(r.incomplete()).isNotEmpty();
        r = bob.receive(List.of(a1.encoded()), List.of(), "direct");
        assertThat(r.accepted()).hasSize(2);
        assertThat(bob.pendingCount()).isZero();
        // carol's older message arrives last but is shown where its time puts it
        bob.receive(List.of(carolOffline.encoded()), List.of(ConvergenceTest.CERTS.get("carol1")), "direct");
        assertThat(bob.history(g, 100).stream().map(ChatReplica.Line::text))
                .containsExactly("team", "written on the plane", "later, on the ground", "even later");
        assertThat(bob.unread(g)).isEqualTo(3);
    }

    @Test
    void editsDeletesReactionsAndReadMarkersApply() {
        byte[] g = alice.create("team", List.of("bob")).conversation();
        StoredEvent m = alice.post(g, Kind.MESSAGE, null, List.of(), "draft");
        copy(alice, bob, g);
        bob.post(g, Kind.REACTION, m.id(), List.of(), "👍");
        StoredEvent reply = bob.post(g, Kind.MESSAGE, null, List.of(), "looks good");
        alice.post(g, Kind.EDIT, m.id(), List.of(), "final");
        copy(bob, alice, g);
        copy(alice, bob, g);
        assertThat(alice.unread(g)).isEqualTo(1);
        alice.post(g, Kind.READ, alice.newest(g), List.of(), "");
        assertThat(alice.unread(g)).isZero();
        assertThatThrownBy(() -> bob.post(g, Kind.EDIT, m.id(), List.of(), "hijack")).hasMessageContaining("another author");
        bob.post(g, Kind.DELETE, reply.id(), List.of(), "");
        copy(bob, alice, g);
        List<ChatReplica.Line> h = alice.history(g, 100);
        assertThat(h).extracting(ChatReplica.Line::text).containsExactly("team", "final", "");
        assertThat(h.get(1).edited()).isTrue();
        assertThat(h.get(1).reactions()).containsEntry("👍", List.of("bob"));
        assertThat(h.get(2).deleted()).isTrue();
    }

    @Test
    void acknowledgedEventsSurviveARestartAndAFormerMemberSeesOnlyItsPast() {
        byte[] g = alice.create("team", List.of("bob", "carol")).conversation();
        alice.post(g, Kind.MESSAGE, null, List.of(), "before");
        alice.post(g, Kind.REMOVE, null, List.of("carol"), "");
        alice.post(g, Kind.MESSAGE, null, List.of(), "after carol left");
        long n = alice.items(g).size();
        alice.close();
        open.remove(alice);
        ChatReplica again = open("alice1");
        assertThat(again.items(g).size()).isEqualTo(n);
        assertThat(again.members(g)).containsExactlyInAnyOrder("alice", "bob");
        List<String> forCarol = new ArrayList<>();
        var items = again.itemsFor(g, "carol");
        for (int i = 0; i < items.size(); i++) forCarol.add(again.eventsForPush(List.of(items.id(i))).events().get(0).event().text());
        assertThat(forCarol).containsExactly("team", "before", "");
        assertThat(again.itemsFor(g, "bob").size()).isEqualTo(n);
        assertThat(again.itemsFor(g, "mallory").size()).isZero();
    }

    @Test
    void directConversationsHaveFixedMembers() {
        byte[] dm = alice.dm("bob");
        assertThat(dm).isEqualTo(Conversation.dmId("bob", "alice"));
        alice.post(dm, Kind.MESSAGE, null, List.of(), "hi bob");
        assertThatThrownBy(() -> alice.post(dm, Kind.ADD, null, List.of("carol"), "")).hasMessageContaining("1:1");
        byte[] bobDm = bob.dm("alice"); // bob's own creation event: two roots, both fine
        copy(alice, bob, dm);
        copy(bob, alice, bobDm);
        assertThat(alice.items(dm).size()).isEqualTo(bob.items(dm).size()).isEqualTo(3);
        assertThat(alice.list()).singleElement().satisfies(s -> {
            assertThat(s.kind()).isEqualTo("direct");
            assertThat(s.name()).isEqualTo("bob");
        });
    }
}
