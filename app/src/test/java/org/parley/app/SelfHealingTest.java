package org.parley.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.parley.client.ClientConfig;
import org.parley.client.ClientDaemon;
import org.parley.client.StoredMessage;
import org.parley.identity.HostPort;
import org.parley.identity.Keys;
import org.parley.identity.Role;
import org.parley.login.LoginServer;
import org.parley.login.LoginServerData;
import org.parley.supernode.Supernode;
import org.parley.supernode.SupernodeConfig;

/**
 * Two supernodes forming the overlay with real client daemons: users attached to different supernodes reach
 * each other, and a user whose supernode goes away re-attaches to the other one from its host cache and
 * seeds, republishes, stays reachable, and keeps its peer-to-peer session.
 */
class SelfHealingTest extends Resources {
    @TempDir
    Path dir;

    @Test
    void usersOnDifferentSupernodesTalkAndSurviveTheLossOfTheirSupernode() throws Exception {
        LoginServerData data = keep(LoginServerData.init(dir.resolve("login"), "heal", new HostPort("127.0.0.1", 0)));
        LoginServer login = keep(DemoNetwork.startLoopbackLogin(data, Duration.ofHours(24)));
        HostPort a = new HostPort("127.0.0.1", freeUdpPort());
        HostPort b = new HostPort("127.0.0.1", freeUdpPort());
        data.addSeed(a);
        data.addSeed(b);
        var snA = DemoNetwork.enrol(data, dir.resolve("sn-a"), "sn-a", Role.SUPERNODE, Keys.randomToken(12));
        var snB = DemoNetwork.enrol(data, dir.resolve("sn-b"), "sn-b", Role.SUPERNODE, Keys.randomToken(12));
        Supernode supernodeA = keep(Supernode.start(snA, SupernodeConfig.defaults(a), new SimpleMeterRegistry()));
        Supernode supernodeB = keep(Supernode.start(snB, SupernodeConfig.defaults(b), new SimpleMeterRegistry()));
        await().atMost(Duration.ofSeconds(30)).until(() -> supernodeA.overlayContacts() == 1 && supernodeB.overlayContacts() == 1);
        DemoNetwork.enrol(data, dir.resolve("alice"), "alice", Role.USER, "pw-alice-1");
        DemoNetwork.enrol(data, dir.resolve("bob"), "bob", Role.USER, "pw-bob-12");
        // each one's host cache starts with a different supernode (as after earlier sessions there)
        homeCache(dir.resolve("alice"), a);
        homeCache(dir.resolve("bob"), b);
        ClientConfig cfg = ClientConfig.defaults().withListen(new HostPort("127.0.0.1", 0));
        ClientDaemon alice = keep(ClientDaemon.start(dir.resolve("alice"), cfg, new SimpleMeterRegistry()));
        ClientDaemon bob = keep(ClientDaemon.start(dir.resolve("bob"), cfg, new SimpleMeterRegistry()));
        await().atMost(Duration.ofSeconds(20)).until(() -> alice.attached() && bob.attached());
        assertThat(alice.status().supernodeAddress()).isEqualTo(a.toString());
        assertThat(bob.status().supernodeAddress()).isEqualTo(b.toString());

        // across supernodes: each finds the other's signed record in the overlay and gets the message through
        StoredMessage hi = alice.send("bob", "hello across supernodes");
        StoredMessage back = bob.send("alice", "hello back");
        awaitDelivered(alice, "bob", hi);
        awaitDelivered(bob, "alice", back);
        await().atMost(Duration.ofSeconds(15)).until(() -> alice.status().sessions().stream().anyMatch(s -> s.path().startsWith("direct-")));

        // alice's supernode goes away: she re-attaches to sn-b, republishes, and stays reachable
        supernodeA.close();
        await().atMost(Duration.ofSeconds(30)).until(() -> alice.attached() && b.toString().equals(alice.status().supernodeAddress()));
        assertThat(Files.readString(dir.resolve("alice").resolve("hosts.txt"))).contains(b.toString());
        // the peer-to-peer session did not depend on the supernode link
        assertThat(alice.status().sessions()).anyMatch(s -> s.user().equals("bob") && s.path().startsWith("direct-"));
        StoredMessage after = bob.send("alice", "after the outage");
        awaitDelivered(bob, "alice", after);
        assertThat(alice.history("bob", 10).stream().map(StoredMessage::text)).contains("after the outage");
    }

    private static void homeCache(Path home, HostPort supernode) throws Exception {
        org.parley.overlay.HostCache c = new org.parley.overlay.HostCache();
        c.success(supernode.toString(), System.currentTimeMillis());
        Files.writeString(home.resolve("hosts.txt"), c.encode());
    }

    private static void awaitDelivered(ClientDaemon sender, String to, StoredMessage m) {
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> sender.history(to, 100).stream()
                .anyMatch(x -> x.id().equals(m.id()) && x.state().equals(StoredMessage.DELIVERED)));
    }
}
