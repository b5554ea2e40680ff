package org.parley.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.parley.client.ClientDaemon;
import org.parley.client.StoredMessage;

/** Whole networks on loopback: real sockets, real stores, in one JVM. */
class EndToEndTest {
    @TempDir
    Path dir;

    private static List<String> ids(ClientDaemon d, String with) {
        return d.history(with, 10_000).stream().map(StoredMessage::id).toList();
    }

    private static void awaitDelivered(ClientDaemon sender, String to, List<StoredMessage> sent) {
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50)).until(() ->
                sender.history(to, 10_000).stream().filter(m -> m.state().equals(StoredMessage.DELIVERED)).count()
                        >= sent.stream().filter(m -> m.recipient().equals(to)).count());
    }

    @Test
    void messagesArriveExactlyOnceInTheSameOrderOverADirectSession() throws Exception {
        try (DemoNetwork net = DemoNetwork.start(dir, List.of("alice", "bob"), true)) {
            assertThat(net.awaitAttached(Duration.ofSeconds(20))).isTrue();
            ClientDaemon alice = net.client("alice");
            ClientDaemon bob = net.client("bob");
            List<StoredMessage> fromAlice = new ArrayList<>();
            List<StoredMessage> fromBob = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                fromAlice.add(alice.send("bob", "a" + i));
                fromBob.add(bob.send("alice", "b" + i));
            }
            awaitDelivered(alice, "bob", fromAlice);
            awaitDelivered(bob, "alice", fromBob);
            List<String> atAlice = ids(alice, "bob");
            List<String> atBob = ids(bob, "alice");
            assertThat(atAlice).hasSize(40).doesNotHaveDuplicates().isEqualTo(atBob);
            // each side's own messages keep their sending order
            List<String> aliceOrder = atBob.stream().filter(id -> fromAlice.stream().anyMatch(m -> m.id().equals(id))).toList();
            assertThat(aliceOrder).isEqualTo(fromAlice.stream().map(StoredMessage::id).toList());
            // a direct session exists and later messages use it
            await().atMost(Duration.ofSeconds(10)).until(() -> !alice.status().sessions().isEmpty());
            assertThat(alice.status().sessions().get(0).path()).startsWith("direct-");
            assertThat(alice.status().sessions().get(0).user()).isEqualTo("bob");
            StoredMessage late = alice.send("bob", "over the direct path");
            await().atMost(Duration.ofSeconds(10)).until(() -> alice.history("bob", 100).stream()
                    .anyMatch(m -> m.id().equals(late.id()) && m.state().equals(StoredMessage.DELIVERED)));
            assertThat(alice.history("bob", 100).stream().filter(m -> m.id().equals(late.id())).findFirst().orElseThrow().path())
                    .isEqualTo("direct");
            assertThat(bob.history("alice", 100).stream().filter(m -> m.id().equals(late.id())).findFirst().orElseThrow().text())
                    .isEqualTo("over the direct path");
        }
    }

    @Test
    void relayOnlyKeepsPeerSessionsOnTheSupernodesRelay() throws Exception {
        try (DemoNetwork net = DemoNetwork.start(dir, List.of("alice", "bob"), false)) {
            assertThat(net.awaitAttached(Duration.ofSeconds(20))).isTrue();
            ClientDaemon alice = net.client("alice");
            ClientDaemon bob = net.client("bob");
            StoredMessage m = alice.send("bob", "via the supernode");
            StoredMessage r = bob.send("alice", "reply via the supernode");
            awaitDelivered(alice, "bob", List.of(m));
            awaitDelivered(bob, "alice", List.of(r));
            assertThat(alice.history("bob", 10).stream().filter(x -> x.id().equals(m.id())).findFirst().orElseThrow().path())
                    .isEqualTo("relayed");
            assertThat(ids(alice, "bob")).isEqualTo(ids(bob, "alice")).hasSize(2);
            // the peer session runs through the relay: end-to-end QUIC, the relay forwards opaque packets
            await().atMost(Duration.ofSeconds(15)).until(() -> alice.status().sessions().stream().anyMatch(x -> x.path().equals("relayed"))
                    && bob.status().sessions().stream().anyMatch(x -> x.path().equals("relayed")));
            var s = alice.status().sessions().get(0);
            assertThat(s.via()).contains("relay");
            assertThat(net.supernode().relaySessions()).isEqualTo(1);
            StoredMessage late = alice.send("bob", "through the relay session");
            awaitDelivered(alice, "bob", List.of(late));
            assertThat(bob.history("alice", 10)).extracting(StoredMessage::text).contains("through the relay session");
            assertThat(alice.status().sessions()).allMatch(x -> x.path().equals("relayed") && x.bytesSent() > 0);
        }
    }

    @Test
    void queuedMessagesSurviveRestartsOfBothSides() throws Exception {
        try (DemoNetwork net = DemoNetwork.start(dir, List.of("alice", "carol"), true)) {
            assertThat(net.awaitAttached(Duration.ofSeconds(20))).isTrue();
            net.stopClient("carol");
            StoredMessage m1 = net.client("alice").send("carol", "first while you were away");
            StoredMessage m2 = net.client("alice").send("carol", "second while you were away");
            Thread.sleep(300);
            assertThat(net.client("alice").history("carol", 10)).extracting(StoredMessage::state)
                    .containsOnly(StoredMessage.QUEUED);
            // the sender restarts before the recipient is back: nothing acknowledged is lost
            net.stopClient("alice");
            net.startClient("carol");
            assertThat(net.awaitAttached(Duration.ofSeconds(20))).isTrue();
            assertThat(net.client("carol").history("alice", 10)).isEmpty();
            net.startClient("alice");
            awaitDelivered(net.client("alice"), "carol", List.of(m1, m2));
            assertThat(ids(net.client("carol"), "alice")).containsExactly(m1.id(), m2.id());
            assertThat(ids(net.client("alice"), "carol")).containsExactly(m1.id(), m2.id());
        }
    }

    @Test
    void certificatesAreRenewedBeforeExpiryAndTheClientStaysReachable() throws Exception {
        try (DemoNetwork net = DemoNetwork.start(dir, List.of("alice", "bob"), false, Duration.ofSeconds(12))) {
            assertThat(net.awaitAttached(Duration.ofSeconds(20))).isTrue();
            long firstExpiry = net.client("alice").status().certificateExpiresAt();
            await().atMost(Duration.ofSeconds(25)).pollInterval(Duration.ofMillis(200))
                    .until(() -> net.client("alice").status().certificateExpiresAt() > firstExpiry);
            // past the first certificate's expiry, both still attach and talk
            await().atMost(Duration.ofSeconds(20)).until(() -> System.currentTimeMillis() > firstExpiry + 1000
                    && net.client("alice").attached() && net.client("bob").attached());
            StoredMessage m = net.client("alice").send("bob", "after renewal");
            awaitDelivered(net.client("alice"), "bob", List.of(m));
            assertThat(net.client("alice").status().renewalProblem()).isNull();
        }
    }

    @Test
    void aFullSupernodeRedirectsAndKeepsServingItsClients() throws Exception {
        try (DemoNetwork net = DemoNetwork.start(dir, List.of("alice", "bob"), true, Duration.ofHours(1), 1, false)) {
            net.startClient("alice");
            assertThat(net.awaitAttached(Duration.ofSeconds(20))).isTrue();
            net.startClient("bob");
            await().atMost(Duration.ofSeconds(20)).until(() -> "redirected".equals(net.client("bob").status().linkState()));
            assertThat(net.client("bob").status().lastLinkError()).contains("full");
            assertThat(net.supernode().attached()).isEqualTo(1);
            assertThat(net.client("alice").attached()).isTrue();
            // bob's message waits in his outbox; when alice leaves, bob gets in and delivers it on her return
            StoredMessage m = net.client("bob").send("alice", "let me in");
            net.stopClient("alice");
            await().atMost(Duration.ofSeconds(40)).until(() -> net.client("bob").attached());
            assertThat(net.client("bob").history("alice", 10)).extracting(StoredMessage::state).containsOnly(StoredMessage.QUEUED);
        }
    }
}
