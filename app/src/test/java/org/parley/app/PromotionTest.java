package org.parley.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.parley.client.ClientConfig;
import org.parley.client.ClientDaemon;
import org.parley.client.SupernodeDuty;
import org.parley.identity.HostPort;
import org.parley.identity.Keys;
import org.parley.identity.Role;
import org.parley.login.LoginServer;
import org.parley.login.LoginServerConfig;
import org.parley.login.LoginServerData;
import org.parley.supernode.Supernode;
import org.parley.supernode.SupernodeConfig;

/** An opted-in, reachable client is promoted to a supernode that joins the overlay, only if the network allows it. */
class PromotionTest extends Resources {
    @TempDir
    Path dir;
    Supernode a;
    Supernode b;

    private ClientDaemon network(boolean allowPromotion) throws Exception {
        LoginServerData data = keep(LoginServerData.init(dir.resolve("login"), "promo", new HostPort("127.0.0.1", 0)));
        LoginServer login = keep(LoginServer.start(data, LoginServerConfig.defaults(data.networkFile())
                .withListen(new HostPort("127.0.0.1", 0)).withAllowPromotion(allowPromotion)));
        data.setLoginServerAddress(new HostPort("127.0.0.1", login.port()));
        HostPort pa = new HostPort("127.0.0.1", freeUdpPort());
        HostPort pb = new HostPort("127.0.0.1", freeUdpPort());
        data.addSeed(pa);
        data.addSeed(pb);
        var snA = DemoNetwork.enrol(data, dir.resolve("sn-a"), "sn-a", Role.SUPERNODE, Keys.randomToken(12));
        var snB = DemoNetwork.enrol(data, dir.resolve("sn-b"), "sn-b", Role.SUPERNODE, Keys.randomToken(12));
        a = keep(Supernode.start(snA, SupernodeConfig.defaults(pa), new SimpleMeterRegistry()));
        b = keep(Supernode.start(snB, SupernodeConfig.defaults(pb), new SimpleMeterRegistry()));
        await().atMost(Duration.ofSeconds(30)).until(() -> a.overlayContacts() == 1 && b.overlayContacts() == 1);
        DemoNetwork.enrol(data, dir.resolve("alice"), "alice", Role.USER, "pw-alice-1");
        ClientConfig cfg = ClientConfig.defaults().withListen(new HostPort("127.0.0.1", 0))
                .withDuty(SupernodeDuty.optedIn(10_000, null).withTiming(Duration.ZERO, Duration.ofMillis(300), 2));
        ClientDaemon alice = keep(ClientDaemon.start(dir.resolve("alice"), cfg, new SimpleMeterRegistry()));
        await().atMost(Duration.ofSeconds(20)).until(alice::attached);
        return alice;
    }

    @Test
    void aReachableOptedInClientBecomesASupernodeAndStepsDownWhenItOptsOut() throws Exception {
        ClientDaemon alice = network(true);
        // both supernodes reach it by dial-back, so it is promoted; its supernode joins the overlay
        await().atMost(Duration.ofSeconds(30)).until(() -> alice.supernodeDuty() != null);
        Supernode duty = alice.supernodeDuty();
        assertThat(alice.status().supernodeDuty()).startsWith("supernode at ");
        await().atMost(Duration.ofSeconds(30)).until(() -> a.overlayContacts() == 2 && b.overlayContacts() == 2
                && duty.overlayContacts() == 2);
        // duty is capped to a quarter of the declared uplink: 10,000 kbit/s -> 1,250 clients
        assertThat(duty.attached()).isZero();
        // opting out ends duty at once
        alice.setSupernodeOptIn(false);
        await().atMost(Duration.ofSeconds(10)).until(() -> alice.supernodeDuty() == null);
        assertThat(alice.status().supernodeDuty()).contains("not opted in");
        assertThat(alice.attached()).isTrue();
    }

    @Test
    void withoutTheNetworksPermissionNobodyIsPromoted() throws Exception {
        ClientDaemon alice = network(false);
        await().atMost(Duration.ofSeconds(30)).until(() -> alice.status().supernodeDuty().contains("refused")
                || alice.status().supernodeDuty().contains("does not allow"));
        assertThat(alice.supernodeDuty()).isNull();
    }
}
