package org.parley.supernode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.parley.identity.CertificateAuthority;
import org.parley.identity.CertificateVerifier;
import org.parley.identity.DirectoryRecords;
import org.parley.protocol.DeviceRecord;
import org.parley.protocol.Limits;
import org.parley.identity.DeviceCredentials;
import org.parley.identity.HostPort;
import org.parley.identity.Keys;
import org.parley.identity.NetworkFile;
import org.parley.identity.Policy;
import org.parley.identity.Role;
import org.parley.protocol.ErrorCode;
import org.parley.protocol.Frame;
import org.parley.transport.Connection;
import org.parley.transport.ConnectionHandler;
import org.parley.transport.QuicNode;
import org.parley.transport.TlsIdentity;

/** The supernode's control protocol, driven by raw transport clients. */
class SupernodeTest {
    static final InetSocketAddress ANY = new InetSocketAddress("127.0.0.1", 0);
    @TempDir
    Path dir;
    CertificateAuthority ca;
    CertificateVerifier verifier;
    Supernode supernode;
    final List<QuicNode> nodes = new CopyOnWriteArrayList<>();

    static final class Client implements ConnectionHandler {
        final List<Frame> frames = new CopyOnWriteArrayList<>();
        Connection c;
        QuicNode node;
        KeyPair key;
        byte[] cert;

        @Override public void connected(Connection c) { }
        @Override public void frame(Connection c, Frame f) { frames.add(f); }
        @Override public void closed(Connection c) { }

        <T extends Frame> T await(Class<T> type) {
            return org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(
                    () -> frames.stream().filter(type::isInstance).map(type::cast).findFirst().orElse(null), f -> f != null);
        }
    }

    /** Writes an enrolled supernode folder by hand (certificate issued by the test CA). */
    private DeviceCredentials supernodeCredentials() throws Exception {
        KeyPair kp = Keys.newDeviceKeyPair();
        NetworkFile nf = new NetworkFile("testnet", ca.publicKey(), new HostPort("127.0.0.1", 1), "sha256/x", List.of());
        Path d = dir.resolve("sn");
        java.nio.file.Files.createDirectories(d);
        nf.write(d.resolve(DeviceCredentials.NETWORK));
        Keys.writePrivateKey(d.resolve(DeviceCredentials.KEY), kp.getPrivate());
        Instant now = Instant.now();
        Keys.writeCertificate(d.resolve(DeviceCredentials.CERT),
                ca.issueDevice("sn1", Role.SUPERNODE, kp.getPublic(), Policy.DEFAULT, now.minusSeconds(60), now.plusSeconds(3600)));
        Keys.writeSecret(d.resolve(DeviceCredentials.CREDENTIAL), "{\"user\":\"sn1\",\"refreshToken\":\"t\"}".getBytes());
        return DeviceCredentials.load(d);
    }

    @BeforeEach
    void setUp() throws Exception {
        ca = new CertificateAuthority("testnet", Keys.newCaKeyPair());
        verifier = new CertificateVerifier("testnet", ca.publicKey(), Clock.systemUTC());
    }

    private void startSupernode(int capacity) throws Exception {
        supernode = Supernode.start(supernodeCredentials(),
                SupernodeConfig.defaults(new HostPort("127.0.0.1", 0)).withCapacity(capacity), new SimpleMeterRegistry());
    }

    @AfterEach
    void tearDown() {
        nodes.forEach(QuicNode::close);
        if (supernode != null) supernode.close();
    }

    private Client connect(String user, Role role, Policy policy) throws Exception {
        KeyPair kp = Keys.newDeviceKeyPair();
        Instant now = Instant.now();
        TlsIdentity id = new TlsIdentity(kp.getPrivate(),
                ca.issueDevice(user, role, kp.getPublic(), policy, now.minusSeconds(60), now.plusSeconds(3600)));
        Client cl = new Client();
        cl.key = kp;
        cl.cert = id.certificate().getEncoded();
        cl.node = QuicNode.bind(ANY, id, verifier, null, cl, QuicNode.Options.DEFAULT, new SimpleMeterRegistry());
        nodes.add(cl.node);
        cl.c = cl.node.dial(supernode.address(), Role.SUPERNODE, cl).get(10, TimeUnit.SECONDS);
        return cl;
    }

    private Client attach(String user) throws Exception {
        Client cl = connect(user, Role.USER, Policy.DEFAULT);
        cl.c.send(new Frame.Hello(1, "online", List.of("10.0.0.5:1234")));
        cl.await(Frame.Welcome.class);
        return cl;
    }

    @Test
    void welcomesWithTheObservedAddressAndResolvesAttachedDevices() throws Exception {
        startSupernode(10);
        Client alice = attach("alice");
        Frame.Welcome w = alice.await(Frame.Welcome.class);
        assertThat(w.observedAddress()).isEqualTo("127.0.0.1:" + alice.node.localAddress().getPort());
        DeviceRecord signed = record(alice, "alice", 1);
        alice.c.send(new Frame.Publish(3, signed));
        assertThat(alice.await(Frame.Published.class).replicas()).isEqualTo(1);
        Client bob = attach("bob");
        bob.c.send(new Frame.Resolve(7, "alice"));
        Frame.Resolved r = bob.await(Frame.Resolved.class);
        assertThat(r.requestId()).isEqualTo(7);
        assertThat(r.devices()).hasSize(1);
        assertThat(r.devices().get(0).user()).isEqualTo("alice");
        assertThat(r.devices().get(0).localAddresses()).containsExactly("10.0.0.5:1234");
        assertThat(r.devices().get(0).sameAs(signed)).isTrue();
        assertThat(new DirectoryRecords(verifier).check(r.devices().get(0))).isNull();
        bob.c.send(new Frame.Resolve(8, "nobody"));
        await().atMost(Duration.ofSeconds(5)).until(() -> bob.frames.stream()
                .anyMatch(f -> f instanceof Frame.Resolved x && x.requestId() == 8 && x.devices().isEmpty()));
    }

    @Test
    void routesOpaquePayloadsAndReportsOfflineDevices() throws Exception {
        startSupernode(10);
        Client alice = attach("alice");
        Client bob = attach("bob");
        String bobDevice = bob.c.peer() == null ? null : Keys.deviceId(bob.node.identity().certificate().getPublicKey());
        alice.c.send(new Frame.Route(1, bobDevice, new byte[] {1, 2, 3}));
        Frame.Deliver d = bob.await(Frame.Deliver.class);
        assertThat(d.payload()).containsExactly(1, 2, 3);
        assertThat(d.fromDevice()).isEqualTo(Keys.deviceId(alice.node.identity().certificate().getPublicKey()));
        assertThat(verifier.verify(d.fromCertificate()).user()).isEqualTo("alice");
        assertThat(alice.await(Frame.Routed.class).requestId()).isEqualTo(1);
        alice.c.send(new Frame.Route(2, "0".repeat(32), new byte[] {9}));
        await().atMost(Duration.ofSeconds(5)).until(() -> alice.frames.stream()
                .anyMatch(f -> f instanceof Frame.Error e && e.requestId() == 2 && e.code() == ErrorCode.OFFLINE.code));
    }

    @Test
    void presenceSubscribersSeeArrivalsAndDepartures() throws Exception {
        startSupernode(10);
        Client bob = attach("bob");
        bob.c.send(new Frame.Subscribe(List.of("alice")));
        Client alice = attach("alice");
        await().atMost(Duration.ofSeconds(5)).until(() -> bob.frames.stream()
                .anyMatch(f -> f instanceof Frame.PresenceEvent p && p.user().equals("alice") && p.online()));
        alice.c.close();
        await().atMost(Duration.ofSeconds(10)).until(() -> bob.frames.stream()
                .anyMatch(f -> f instanceof Frame.PresenceEvent p && p.user().equals("alice") && !p.online()));
        await().atMost(Duration.ofSeconds(5)).until(() -> supernode.attached() == 1);
    }

    /** A record signed by the client's device key, naming this test's supernode. */
    DeviceRecord record(Client cl, String user, long seq) {
        String device = Keys.deviceId(cl.node.identity().certificate().getPublicKey());
        long now = System.currentTimeMillis();
        return DirectoryRecords.sign(new DeviceRecord(device, user, "online", "127.0.0.1:" + cl.node.localAddress().getPort(),
                List.of("10.0.0.5:1234"), cl.cert, now, List.of(HostPort.of(supernode.address()).toString()),
                List.of("chat"), seq, now + Limits.RECORD_TTL_MILLIS, null), cl.key.getPrivate());
    }

    @Test
    void forgedOrForeignRecordsAreRefused() throws Exception {
        startSupernode(10);
        Client alice = attach("alice");
        Client mallory = attach("mallory");
        DeviceRecord good = record(alice, "alice", 5);
        // mallory republishes alice's record: not its own device
        mallory.c.send(new Frame.Publish(1, good));
        await().atMost(Duration.ofSeconds(5)).until(() -> mallory.frames.stream()
                .anyMatch(f -> f instanceof Frame.Error e && e.requestId() == 1 && e.code() == ErrorCode.BAD_REQUEST.code));
        // alice's record with a field changed after signing
        DeviceRecord altered = new DeviceRecord(good.deviceId(), good.user(), good.presence(), "198.51.100.66:1",
                good.localAddresses(), good.certificate(), good.sinceMillis(), good.supernodes(), good.capabilities(),
                good.sequence(), good.expiresAtMillis(), good.signature());
        alice.c.send(new Frame.Publish(2, altered));
        await().atMost(Duration.ofSeconds(5)).until(() -> alice.frames.stream()
                .anyMatch(f -> f instanceof Frame.Error e && e.requestId() == 2 && e.message().contains("signature")));
        // the genuine one is accepted; an older sequence afterwards does not roll it back
        alice.c.send(new Frame.Publish(3, good));
        alice.await(Frame.Published.class);
        alice.c.send(new Frame.Publish(4, record(alice, "alice", 4)));
        await().atMost(Duration.ofSeconds(5)).until(() -> alice.frames.stream()
                .filter(f -> f instanceof Frame.Published).count() == 2);
        mallory.c.send(new Frame.Resolve(9, "alice"));
        Frame.Resolved r = mallory.await(Frame.Resolved.class);
        assertThat(r.devices()).singleElement().satisfies(d -> assertThat(d.sequence()).isEqualTo(5));
    }

    @Test
    void framesBeforeHelloAreRefused() throws Exception {
        startSupernode(10);
        Client x = connect("mallory", Role.USER, Policy.DEFAULT);
        x.c.send(new Frame.Resolve(1, "alice"));
        Frame.Error e = x.await(Frame.Error.class);
        assertThat(e.code()).isEqualTo(ErrorCode.UNAUTHORIZED.code);
        assertThat(supernode.attached()).isZero();
    }

    @Test
    void overCapacityRedirectsWithRetryAfterAndKeepsExistingClients() throws Exception {
        startSupernode(2);
        Client a = attach("alice");
        attach("bob");
        Client c = connect("carol", Role.USER, Policy.DEFAULT);
        c.c.send(new Frame.Hello(1, "online", List.of()));
        Frame.Redirect r = c.await(Frame.Redirect.class);
        assertThat(r.retryAfterMillis()).isBetween(1000, 5000);
        assertThat(r.reason()).contains("capacity");
        assertThat(supernode.attached()).isEqualTo(2);
        a.c.send(new Frame.Ping(99));
        await().atMost(Duration.ofSeconds(5)).until(() -> a.frames.contains(new Frame.Pong(99)));
    }

    @Test
    void policyOutsideAllowedHoursIsRefused() throws Exception {
        startSupernode(10);
        int hour = Instant.now().atZone(java.time.ZoneOffset.UTC).getHour();
        String window = String.format("%02d-%02d", (hour + 2) % 24, (hour + 3) % 24);
        Client x = connect("night", Role.USER, new Policy("free", 1, window, "normal"));
        x.c.send(new Frame.Hello(1, "online", List.of()));
        assertThat(x.await(Frame.Error.class).message()).contains("UTC hours");
        assertThat(supernode.attached()).isZero();
    }

    @Test
    void aSecondAttachOfTheSameDeviceReplacesTheFirst() throws Exception {
        startSupernode(10);
        Client first = attach("alice");
        // same identity, new connection (e.g. after a certificate renewal)
        Client second = new Client();
        second.node = first.node;
        second.c = first.node.dial(supernode.address(), Role.SUPERNODE, second).get(10, TimeUnit.SECONDS);
        second.c.send(new Frame.Hello(1, "away", List.of()));
        second.await(Frame.Welcome.class);
        // (the client closes its old link first in real use; here the supernode drops it on its side)
        await().atMost(Duration.ofSeconds(10)).until(() -> supernode.node().connections().size() == 1);
        assertThat(supernode.attached()).isEqualTo(1);
        assertThat(supernode.directory().lookup("alice")).singleElement().extracting(x -> x.presence()).isEqualTo("away");
    }
}
