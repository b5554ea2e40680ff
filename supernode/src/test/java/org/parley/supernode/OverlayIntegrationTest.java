package org.parley.supernode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.parley.identity.CertificateAuthority;
import org.parley.identity.CertificateVerifier;
import org.parley.identity.DeviceCredentials;
import org.parley.identity.DirectoryRecords;
import org.parley.identity.HostPort;
import org.parley.identity.Keys;
import org.parley.identity.NetworkFile;
import org.parley.identity.Policy;
import org.parley.identity.Role;
import org.parley.protocol.DeviceRecord;
import org.parley.protocol.Frame;
import org.parley.protocol.Limits;
import org.parley.transport.Connection;
import org.parley.transport.ConnectionHandler;
import org.parley.transport.QuicNode;
import org.parley.transport.TlsIdentity;

/** Several real supernodes on loopback forming the overlay: records, lookups and routing across supernodes. */
class OverlayIntegrationTest {
    @TempDir
    Path dir;
    CertificateAuthority ca;
    CertificateVerifier verifier;
    final List<Supernode> supernodes = new ArrayList<>();
    final List<QuicNode> nodes = new CopyOnWriteArrayList<>();

    static final class Client implements ConnectionHandler {
        final List<Frame> frames = new CopyOnWriteArrayList<>();
        Connection c;
        QuicNode node;
        KeyPair key;
        byte[] cert;
        String device;
        String user;

        @Override public void connected(Connection c) { }
        @Override public void frame(Connection c, Frame f) { frames.add(f); }
        @Override public void closed(Connection c) { }

        <T extends Frame> T await(Class<T> type, java.util.function.Predicate<T> p) {
            return org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(15)).until(
                    () -> frames.stream().filter(type::isInstance).map(type::cast).filter(p).findFirst().orElse(null), f -> f != null);
        }
    }

    @BeforeEach
    void setUp() throws Exception {
        ca = new CertificateAuthority("testnet", Keys.newCaKeyPair());
        verifier = new CertificateVerifier("testnet", ca.publicKey(), Clock.systemUTC());
    }

    @AfterEach
    void tearDown() {
        nodes.forEach(QuicNode::close);
        supernodes.forEach(Supernode::close);
    }

    private Supernode startSupernode(String name, int capacity, List<HostPort> seeds) throws Exception {
        KeyPair kp = Keys.newDeviceKeyPair();
        NetworkFile nf = new NetworkFile("testnet", ca.publicKey(), new HostPort("127.0.0.1", 1), "sha256/x", seeds);
        Path d = dir.resolve(name);
        Files.createDirectories(d);
        nf.write(d.resolve(DeviceCredentials.NETWORK));
        Keys.writePrivateKey(d.resolve(DeviceCredentials.KEY), kp.getPrivate());
        Instant now = Instant.now();
        Keys.writeCertificate(d.resolve(DeviceCredentials.CERT),
                ca.issueDevice(name, Role.SUPERNODE, kp.getPublic(), Policy.DEFAULT, now.minusSeconds(60), now.plusSeconds(3600)));
        Keys.writeSecret(d.resolve(DeviceCredentials.CREDENTIAL), ("{\"user\":\"" + name + "\",\"refreshToken\":\"t\"}").getBytes());
        Supernode s = Supernode.start(DeviceCredentials.load(d),
                SupernodeConfig.defaults(new HostPort("127.0.0.1", 0)).withCapacity(capacity), new SimpleMeterRegistry());
        supernodes.add(s);
        return s;
    }

    private Client attach(String user, Supernode sn) throws Exception {
        KeyPair kp = Keys.newDeviceKeyPair();
        Instant now = Instant.now();
        TlsIdentity id = new TlsIdentity(kp.getPrivate(),
                ca.issueDevice(user, Role.USER, kp.getPublic(), Policy.DEFAULT, now.minusSeconds(60), now.plusSeconds(3600)));
        Client cl = new Client();
        cl.key = kp;
        cl.user = user;
        cl.cert = id.certificate().getEncoded();
        cl.device = Keys.deviceId(kp.getPublic());
        cl.node = QuicNode.bind(new InetSocketAddress("127.0.0.1", 0), id, verifier, null, cl, QuicNode.Options.DEFAULT,
                new SimpleMeterRegistry());
        nodes.add(cl.node);
        cl.c = cl.node.dial(sn.address(), Role.SUPERNODE, cl).get(10, TimeUnit.SECONDS);
        cl.c.send(new Frame.Hello(1, "online", List.of()));
        return cl;
    }

    private DeviceRecord publish(Client cl, Supernode sn, long requestId) {
        long now = System.currentTimeMillis();
        DeviceRecord r = DirectoryRecords.sign(new DeviceRecord(cl.device, cl.user, "online", "127.0.0.1:" + cl.node.localAddress().getPort(),
                List.of(), cl.cert, now, List.of(sn.advertised()), List.of("chat"), now, now + Limits.RECORD_TTL_MILLIS, null),
                cl.key.getPrivate());
        cl.c.send(new Frame.Publish(requestId, r));
        cl.await(Frame.Published.class, p -> p.requestId() == requestId);
        return r;
    }

    private List<DeviceRecord> resolve(Client cl, String user, long requestId) {
        cl.c.send(new Frame.Resolve(requestId, user));
        return cl.await(Frame.Resolved.class, r -> r.requestId() == requestId).devices();
    }

    @Test
    void usersOnOtherSupernodesAreFoundAndReachedAndSurviveTheLossOfAHolder() throws Exception {
        Supernode a = startSupernode("sn-a", 100, List.of());
        HostPort seed = HostPort.parse(a.advertised());
        Supernode b = startSupernode("sn-b", 100, List.of(seed));
        Supernode c = startSupernode("sn-c", 2, List.of(seed));
        await().atMost(Duration.ofSeconds(30)).until(() -> supernodes.stream().allMatch(s -> s.overlayContacts() == 2));

        Client alice = attach("alice", a);
        alice.await(Frame.Welcome.class, w -> true);
        DeviceRecord aliceRecord = publish(alice, a, 1);
        Client bob = attach("bob", c);
        Frame.Welcome bw = bob.await(Frame.Welcome.class, w -> true);
        assertThat(bw.supernodes()).isNotEmpty().doesNotContain(c.advertised());

        // bob, attached to another supernode, finds alice's signed record and reaches her through her supernode
        List<DeviceRecord> found = resolve(bob, "alice", 2);
        assertThat(found).singleElement().satisfies(r -> {
            assertThat(r.sameAs(aliceRecord)).isTrue();
            assertThat(r.supernodes()).containsExactly(a.advertised());
        });
        bob.c.send(new Frame.Route(3, alice.device, new byte[] {7, 7}, a.advertised()));
        bob.await(Frame.Routed.class, r -> r.requestId() == 3);
        Frame.Deliver d = alice.await(Frame.Deliver.class, x -> true);
        assertThat(d.fromDevice()).isEqualTo(bob.device);
        assertThat(d.payload()).containsExactly(7, 7);

        // every supernode holds the record (k = 8 > 3 nodes): losing the one alice published through keeps it findable
        await().atMost(Duration.ofSeconds(10)).until(() -> supernodes.stream().allMatch(s -> s.storedRecords() >= 1));
        Client carol = attach("carol", b);
        carol.await(Frame.Welcome.class, w -> true);
        DeviceRecord carolRecord = publish(carol, b, 4);
        b.close();
        supernodes.remove(b);
        assertThat(resolve(bob, "carol", 5)).singleElement().satisfies(r -> assertThat(r.sameAs(carolRecord)).isTrue());

        // sn-c is full (capacity 2): a third client is redirected to the others, and bob keeps being served
        Client dave = attach("dave", c);
        dave.await(Frame.Welcome.class, w -> true);
        Client eve = attach("eve", c);
        Frame.Redirect r = eve.await(Frame.Redirect.class, x -> true);
        assertThat(r.alternatives()).contains(a.advertised()).doesNotContain(c.advertised());
        assertThat(resolve(bob, "alice", 6)).hasSize(1);
    }
}
