package org.parley.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.parley.chat.ChatReplica;
import org.parley.client.ClientDaemon;
import org.parley.identity.Role;
import org.parley.protocol.ChatEvent.Kind;

/**
 * Group conversations between real daemons on loopback: creation reaches every member device, edits, deletes,
 * reactions and read markers apply everywhere, a user's second device is a full replica, an archive node fills the
 * gap when every other member is offline, and an event written offline takes its place in history by time.
 */
@Timeout(180)
class GroupChatTest {
    @TempDir Path dir;

    private static List<String> lines(ClientDaemon d, String conv) {
        return d.chatHistory(conv, 10_000).stream()
                .map(l -> l.kind() + ":" + l.author() + ":" + l.text() + (l.edited() ? "*" : "") + (l.deleted() ? "#" : "")
                        + (l.reactions().isEmpty() ? "" : l.reactions()))
                .toList();
    }

    private static List<String> ids(ClientDaemon d, String conv) {
        return d.chatHistory(conv, 10_000).stream().map(ChatReplica.Line::id).toList();
    }

    private static boolean knows(ClientDaemon d, String conv) {
        return d.chatList().stream().anyMatch(s -> s.id().equals(conv));
    }

    private static void awaitSame(Duration t, String conv, ClientDaemon... ds) {
        await().atMost(t).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
            for (ClientDaemon d : ds) assertThat(knows(d, conv)).as("%s knows the group", d.user()).isTrue();
            List<String> ref = ids(ds[0], conv);
            for (ClientDaemon d : ds) {
                assertThat(ids(d, conv)).as("history ids at %s", d.deviceId()).isEqualTo(ref);
                assertThat(lines(d, conv)).as("history at %s", d.deviceId()).isEqualTo(lines(ds[0], conv));
            }
        });
    }

    @Test
    void groupReachesEveryDeviceAndEditsReactionsAndReadMarkersApplyEverywhere() throws Exception {
        try (DemoNetwork net = DemoNetwork.start(dir, List.of("alice", "bob", "carol"), true)) {
            net.addDevice("alice2", "alice", Role.USER);
            net.startClient("alice2");
            assertThat(net.awaitAttached(Duration.ofSeconds(20))).isTrue();
            ClientDaemon alice = net.client("alice"), alice2 = net.client("alice2"), bob = net.client("bob"), carol = net.client("carol");
            String g = alice.chatCreate("field team", List.of("bob", "carol")).id();
            alice.chatPost(g, Kind.MESSAGE, null, List.of(), "hello team");
            awaitSame(Duration.ofSeconds(30), g, alice, alice2, bob, carol);
            String hello = ids(bob, g).get(1);
            bob.chatPost(g, Kind.MESSAGE, null, List.of(), "hi alice");
            carol.chatPost(g, Kind.REACTION, hello, List.of(), "👍");
            alice2.chatPost(g, Kind.EDIT, hello, List.of(), "hello team!"); // her other device edits her message
            awaitSame(Duration.ofSeconds(30), g, alice, alice2, bob, carol);
            assertThat(lines(carol, g)).containsExactly("create:alice:field team", "message:alice:hello team!*{👍=[carol]}",
                    "message:bob:hi alice");
            // unread on both of alice's devices; marking read on one clears it on the other
            await().atMost(Duration.ofSeconds(10)).until(() -> alice2.chatList().get(0).unread() == 1);
            alice.chatPost(g, Kind.READ, null, List.of(), null);
            await().atMost(Duration.ofSeconds(30)).until(() -> alice2.chatList().get(0).unread() == 0);
            // membership: carol is removed and can no longer post; bob deletes his message
            alice.chatPost(g, Kind.REMOVE, null, List.of("carol"), null);
            bob.chatPost(g, Kind.DELETE, ids(bob, g).get(2), List.of(), null);
            awaitSame(Duration.ofSeconds(30), g, alice, alice2, bob);
            await().atMost(Duration.ofSeconds(30)).until(() -> !carol.chat().members(carol.chatResolve(g)).contains("carol"));
            assertThat(lines(bob, g)).containsExactly("create:alice:field team", "message:alice:hello team!*{👍=[carol]}",
                    "message:bob:#", "remove:alice:");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> carol.chatPost(g, Kind.MESSAGE, null, List.of(), "still here?"))
                    .hasMessageContaining("not a member");
            for (ClientDaemon d : List.of(alice, alice2, bob, carol)) assertThat(d.status().chat().rejected()).isZero();
        }
    }

    @Test
    void archiveFillsTheGapAndOfflineWritesTakeTheirPlaceByTime() throws Exception {
        try (DemoNetwork net = DemoNetwork.start(dir, List.of("alice", "bob", "carol"), true)) {
            net.addDevice("vault", "vault", Role.ARCHIVE);
            net.startClient("vault");
            assertThat(net.awaitAttached(Duration.ofSeconds(20))).isTrue();
            ClientDaemon alice = net.client("alice"), vault = net.client("vault");
            String g = alice.chatCreate("ops", List.of("bob", "carol", "vault")).id();
            alice.chatPost(g, Kind.MESSAGE, null, List.of(), "first");
            awaitSame(Duration.ofSeconds(30), g, alice, net.client("bob"), net.client("carol"), vault);

            // bob goes offline; alice writes; then alice and carol go offline too: only the archive holds it
            net.stopClient("bob");
            alice.chatPost(g, Kind.MESSAGE, null, List.of(), "while bob was away");
            awaitSame(Duration.ofSeconds(30), g, alice, net.client("carol"), vault);
            net.stopClient("alice");
            net.stopClient("carol");
            net.startClient("bob");
            ClientDaemon bob = net.client("bob");
            await().atMost(Duration.ofSeconds(45)).pollInterval(Duration.ofMillis(100))
                    .until(() -> lines(bob, g).contains("message:alice:while bob was away"));
            assertThat(ids(bob, g)).isEqualTo(ids(vault, g));

            // bob writes "offline" (before he learns of carol's later message), carol writes while he is away:
            // when they meet, each message sits where its time puts it, the same on every device
            bob.chatPost(g, Kind.MESSAGE, null, List.of(), "bob, written first");
            net.stopClient("bob");
            net.startClient("carol");
            ClientDaemon carol = net.client("carol");
            await().atMost(Duration.ofSeconds(45)).until(() -> lines(carol, g).contains("message:alice:while bob was away"));
            Thread.sleep(50);
            carol.chatPost(g, Kind.MESSAGE, null, List.of(), "carol, written later");
            net.startClient("bob");
            awaitSame(Duration.ofSeconds(45), g, net.client("bob"), carol, vault);
            List<String> h = lines(carol, g);
            assertThat(h.indexOf("message:bob:bob, written first")).isLessThan(h.indexOf("message:carol:carol, written later"));
            assertThat(h).doesNotHaveDuplicates();
        }
    }
}
