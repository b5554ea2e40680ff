package org.parley.supernode.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.BindException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.parley.protocol.ControlDatagram;

/** The relay on 127.0.0.1 with plain DatagramSockets as the two sides of each session. */
class UdpRelayTest {
    static final InetSocketAddress LOOPBACK_ANY = new InetSocketAddress("127.0.0.1", 0);

    /** A clock the test moves by hand. */
    static final class MutableClock extends Clock {
        volatile long millis = 1_700_000_000_000L;

        void advance(Duration d) {
            millis += d.toMillis();
        }

        @Override public ZoneId getZone() { return ZoneOffset.UTC; }
        @Override public Clock withZone(ZoneId zone) { return this; }
        @Override public Instant instant() { return Instant.ofEpochMilli(millis); }
        @Override public long millis() { return millis; }
    }

    final MutableClock clock = new MutableClock();
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    final List<DatagramSocket> sockets = new ArrayList<>();
    final Random random = new Random(42);
    UdpRelay relay;

    @AfterEach
    void tearDown() {
        for (DatagramSocket s : sockets) s.close();
        if (relay != null) relay.close();
    }

    UdpRelay start(RelayConfig c) throws IOException {
        relay = UdpRelay.start(LOOPBACK_ANY, c, registry, clock);
        return relay;
    }

    DatagramSocket socket() throws IOException {
        DatagramSocket s = new DatagramSocket(LOOPBACK_ANY);
        s.setSoTimeout(3000);
        s.setReceiveBufferSize(1 << 20);
        sockets.add(s);
        return s;
    }

    void send(DatagramSocket s, byte[] data) throws IOException {
        s.send(new DatagramPacket(data, data.length, relay.address()));
    }

    void bind(DatagramSocket s, byte[] token) throws IOException {
        send(s, ControlDatagram.encode(new ControlDatagram.RelayBind(token)));
    }

    static byte[] receive(DatagramSocket s) throws IOException {
        byte[] buf = new byte[4096];
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        s.receive(p);
        return Arrays.copyOf(buf, p.getLength());
    }

    /** The next datagram within {@code millis}, or null. */
    static byte[] receiveWithin(DatagramSocket s, int millis) throws IOException {
        int old = s.getSoTimeout();
        s.setSoTimeout(millis);
        try {
            return receive(s);
        } catch (SocketTimeoutException e) {
            return null;
        } finally {
            s.setSoTimeout(old);
        }
    }

    static ControlDatagram receiveControl(DatagramSocket s) throws Exception {
        return ControlDatagram.decode(receive(s));
    }

    /** Random bytes that are not a control datagram (first byte with QUIC's fixed bit, like a real packet). */
    byte[] payload(int len) {
        byte[] b = new byte[len];
        random.nextBytes(b);
        b[0] = (byte) (0x40 | (b[0] & 0x3f));
        return b;
    }

    /** Binds both sides and consumes the three RELAY_BOUND answers. */
    DatagramSocket[] bindBoth(Allocation a) throws Exception {
        DatagramSocket sa = socket();
        DatagramSocket sb = socket();
        bind(sa, a.tokenA());
        assertThat(receiveControl(sa)).isInstanceOf(ControlDatagram.RelayBound.class);
        bind(sb, a.tokenB());
        assertThat(receiveControl(sb)).isInstanceOf(ControlDatagram.RelayBound.class);
        assertThat(receiveControl(sa)).isInstanceOf(ControlDatagram.RelayBound.class);
        return new DatagramSocket[] {sa, sb};
    }

    double dropped(String reason) {
        return registry.counter("parley_relay_dropped", "reason", reason).count();
    }

    @Test
    void bindHandshakeReportsWhetherThePeerIsBound() throws Exception {
        start(RelayConfig.defaults());
        Allocation a = relay.allocate("deviceA", "deviceB");
        DatagramSocket sa = socket();
        DatagramSocket sb = socket();

        bind(sa, a.tokenA());
        ControlDatagram.RelayBound first = (ControlDatagram.RelayBound) receiveControl(sa);
        assertThat(first.token()).isEqualTo(a.tokenA());
        assertThat(first.peerBound()).isFalse();

        bind(sb, a.tokenB());
        ControlDatagram.RelayBound second = (ControlDatagram.RelayBound) receiveControl(sb);
        assertThat(second.token()).isEqualTo(a.tokenB());
        assertThat(second.peerBound()).isTrue();
        // A is told without waiting for its next bind
        ControlDatagram.RelayBound pushed = (ControlDatagram.RelayBound) receiveControl(sa);
        assertThat(pushed.token()).isEqualTo(a.tokenA());
        assertThat(pushed.peerBound()).isTrue();

        bind(sa, a.tokenA()); // keepalive
        ControlDatagram.RelayBound again = (ControlDatagram.RelayBound) receiveControl(sa);
        assertThat(again.peerBound()).isTrue();
        assertThat(receiveWithin(sb, 200)).as("a keepalive is not pushed to the peer").isNull();

        assertThat(registry.counter("parley_relay_binds").count()).isEqualTo(3);
        SessionInfo info = relay.sessionInfos().get(0);
        assertThat(info.id()).isEqualTo(a.sessionId());
        assertThat(info.deviceA()).isEqualTo("deviceA");
        assertThat(info.deviceB()).isEqualTo("deviceB");
        assertThat(info.addressA()).isEqualTo(sa.getLocalSocketAddress());
        assertThat(info.addressB()).isEqualTo(sb.getLocalSocketAddress());
        assertThat(info.bound()).isTrue();
        assertThat(info.created()).isEqualTo(clock.instant());
    }

    @Test
    void forwardsBothWaysByteForByte() throws Exception {
        start(RelayConfig.defaults());
        Allocation a = relay.allocate("a", "b");
        DatagramSocket[] s = bindBoth(a);
        List<byte[]> sentAB = new ArrayList<>();
        List<byte[]> sentBA = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            sentAB.add(payload(1 + random.nextInt(1400)));
            sentBA.add(payload(1 + random.nextInt(1400)));
        }
        sentAB.add(payload(UdpRelay.MAX_DATAGRAM_BYTES));
        byte[] zeroFirst = payload(50);
        zeroFirst[0] = 0; // starts like the magic but is not one: forwarded
        sentBA.add(zeroFirst);
        for (int i = 0; i < sentAB.size(); i++) {
            send(s[0], sentAB.get(i));
            if (i < sentBA.size()) send(s[1], sentBA.get(i));
        }
        for (byte[] want : sentAB) assertThat(receive(s[1])).isEqualTo(want);
        for (byte[] want : sentBA) assertThat(receive(s[0])).isEqualTo(want);

        // too large to be sure it was not truncated: dropped
        send(s[0], payload(UdpRelay.MAX_DATAGRAM_BYTES + 1));
        assertThat(receiveWithin(s[1], 200)).isNull();

        long bytesAB = sentAB.stream().mapToLong(b -> b.length).sum();
        long bytesBA = sentBA.stream().mapToLong(b -> b.length).sum();
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            assertThat(registry.counter("parley_relay_packets").count()).isEqualTo(sentAB.size() + sentBA.size());
            assertThat(registry.counter("parley_relay_bytes").count()).isEqualTo(bytesAB + bytesBA);
            assertThat(dropped("garbage")).isEqualTo(1);
        });
        SessionInfo info = relay.sessionInfos().get(0);
        assertThat(info.packetsAToB()).isEqualTo(sentAB.size());
        assertThat(info.bytesAToB()).isEqualTo(bytesAB);
        assertThat(info.packetsBToA()).isEqualTo(sentBA.size());
        assertThat(info.bytesBToA()).isEqualTo(bytesBA);
        assertThat(registry.get("parley_relay_sessions").gauge().value()).isEqualTo(1);
    }

    @Test
    void aBindFromANewPortMovesThatSide() throws Exception {
        start(RelayConfig.defaults());
        Allocation a = relay.allocate("a", "b");
        DatagramSocket[] s = bindBoth(a);
        DatagramSocket moved = socket(); // A's NAT gave it a new port
        bind(moved, a.tokenA());
        ControlDatagram.RelayBound r = (ControlDatagram.RelayBound) receiveControl(moved);
        assertThat(r.peerBound()).isTrue();
        assertThat(relay.sessionInfos().get(0).addressA()).isEqualTo(moved.getLocalSocketAddress());

        byte[] toA = payload(300);
        send(s[1], toA);
        assertThat(receive(moved)).isEqualTo(toA);
        assertThat(receiveWithin(s[0], 200)).as("the old address gets nothing").isNull();

        byte[] toB = payload(400);
        send(moved, toB);
        assertThat(receive(s[1])).isEqualTo(toB);

        send(s[0], payload(100)); // the old address is no longer bound
        assertThat(receiveWithin(s[1], 200)).isNull();
        await().atMost(Duration.ofSeconds(5)).until(() -> dropped("unbound") == 1);
    }

    @Test
    void unknownReleasedOrForeignTokensAreDenied() throws Exception {
        start(RelayConfig.defaults());
        DatagramSocket s = socket();
        byte[] unknown = new byte[16];
        random.nextBytes(unknown);
        bind(s, unknown);
        ControlDatagram.RelayDeny d = (ControlDatagram.RelayDeny) receiveControl(s);
        assertThat(d.token()).isEqualTo(unknown);
        assertThat(d.reason()).isEqualTo(ControlDatagram.DENY_UNKNOWN_TOKEN);

        Allocation a = relay.allocate("a", "b");
        relay.release(a.sessionId());
        assertThat(relay.sessions()).isZero();
        bind(s, a.tokenB());
        ControlDatagram.RelayDeny released = (ControlDatagram.RelayDeny) receiveControl(s);
        assertThat(released.token()).isEqualTo(a.tokenB());
        assertThat(released.reason()).isEqualTo(ControlDatagram.DENY_UNKNOWN_TOKEN);
        relay.release(a.sessionId()); // twice: ignored
        relay.release(12345);
        assertThat(registry.counter("parley_relay_binds").count()).isZero();
    }

    @Test
    void theRateLimitDropsWhatIsOverIt() throws Exception {
        start(RelayConfig.defaults().withRate(10_000, 10_000));
        Allocation a = relay.allocate("a", "b");
        DatagramSocket[] s = bindBoth(a);
        // the clock stands still: the burst of 10,000 bytes is all there is
        for (int i = 0; i < 20; i++) send(s[0], payload(1000));
        int got = 0;
        while (receiveWithin(s[1], 300) != null) got++;
        assertThat(got).isEqualTo(10);
        await().atMost(Duration.ofSeconds(5)).until(() -> dropped("rate") == 10);

        // half a second refills 5,000 bytes, shared by both directions
        clock.advance(Duration.ofMillis(500));
        for (int i = 0; i < 4; i++) send(s[1], payload(1000));
        for (int i = 0; i < 4; i++) assertThat(receive(s[0])).hasSize(1000);
        for (int i = 0; i < 4; i++) send(s[0], payload(1000));
        got = 0;
        while (receiveWithin(s[1], 300) != null) got++;
        assertThat(got).isEqualTo(1);
        SessionInfo info = relay.sessionInfos().get(0);
        assertThat(info.droppedRate()).isEqualTo(13);
        assertThat(info.packetsAToB()).isEqualTo(11);
        assertThat(info.packetsBToA()).isEqualTo(4);
    }

    @Test
    void theSessionByteCapDeniesBothSidesAndRemovesTheSession() throws Exception {
        start(RelayConfig.defaults().withMaxSessionBytes(5000));
        Allocation a = relay.allocate("a", "b");
        DatagramSocket[] s = bindBoth(a);
        for (int i = 0; i < 3; i++) send(s[0], payload(1000));
        for (int i = 0; i < 3; i++) assertThat(receive(s[1])).hasSize(1000);
        send(s[1], payload(1000));
        assertThat(receive(s[0])).hasSize(1000);
        send(s[1], payload(1000)); // exactly 5,000: still allowed
        assertThat(receive(s[0])).hasSize(1000);
        send(s[1], payload(1)); // over the cap

        ControlDatagram.RelayDeny toB = (ControlDatagram.RelayDeny) receiveControl(s[1]);
        assertThat(toB.token()).isEqualTo(a.tokenB());
        assertThat(toB.reason()).isEqualTo(ControlDatagram.DENY_LIMIT);
        ControlDatagram.RelayDeny toA = (ControlDatagram.RelayDeny) receiveControl(s[0]);
        assertThat(toA.token()).isEqualTo(a.tokenA());
        assertThat(toA.reason()).isEqualTo(ControlDatagram.DENY_LIMIT);
        assertThat(relay.sessions()).isZero();
        await().atMost(Duration.ofSeconds(5)).until(() -> dropped("limit") == 1);

        send(s[0], payload(100)); // nothing is forwarded any more
        assertThat(receiveWithin(s[1], 200)).isNull();
        bind(s[0], a.tokenA());
        assertThat(((ControlDatagram.RelayDeny) receiveControl(s[0])).reason()).isEqualTo(ControlDatagram.DENY_UNKNOWN_TOKEN);
    }

    @Test
    void sessionsExpireWhenNotBoundInTimeOrIdle() throws Exception {
        start(RelayConfig.defaults().withTimeouts(Duration.ofSeconds(60), Duration.ofSeconds(30)));
        Allocation never = relay.allocate("a", "b");
        Allocation half = relay.allocate("c", "d");
        Allocation used = relay.allocate("e", "f");
        DatagramSocket halfA = socket();
        bind(halfA, half.tokenA());
        receiveControl(halfA);

        clock.advance(Duration.ofSeconds(10));
        DatagramSocket[] s = bindBoth(used); // bound at t = 10 s: idle counts from here
        clock.advance(Duration.ofSeconds(19)); // t = 29 s
        relay.sweep();
        assertThat(relay.sessions()).isEqualTo(3);
        clock.advance(Duration.ofSeconds(1)); // t = 30 s
        relay.sweep();
        assertThat(relay.sessionInfos()).extracting(SessionInfo::id).containsExactly(used.sessionId());

        clock.advance(Duration.ofSeconds(39)); // t = 69 s, 59 s after the bind
        relay.sweep();
        assertThat(relay.sessions()).isEqualTo(1);
        send(s[0], payload(100)); // activity at t = 69 s
        receive(s[1]);
        clock.advance(Duration.ofSeconds(59)); // t = 128 s
        relay.sweep();
        assertThat(relay.sessions()).isEqualTo(1);
        assertThat(relay.sessionInfos().get(0).lastActive()).isEqualTo(clock.instant().minusSeconds(59));
        clock.advance(Duration.ofSeconds(1)); // 60 s idle
        relay.sweep();
        assertThat(relay.sessions()).isZero();

        for (byte[] t : List.of(never.tokenA(), half.tokenB(), used.tokenA())) {
            bind(halfA, t);
            ControlDatagram.RelayDeny d = (ControlDatagram.RelayDeny) receiveControl(halfA);
            assertThat(d.token()).isEqualTo(t);
            assertThat(d.reason()).isEqualTo(ControlDatagram.DENY_UNKNOWN_TOKEN);
        }
        send(s[0], payload(100));
        assertThat(receiveWithin(s[1], 200)).isNull();
    }

    @Test
    void beyondMaxSessionsAllocationFails() throws Exception {
        start(RelayConfig.defaults().withMaxSessions(3));
        List<Allocation> l = new ArrayList<>();
        for (int i = 0; i < 3; i++) l.add(relay.allocate("a" + i, "b" + i));
        assertThat(l).extracting(Allocation::sessionId).doesNotHaveDuplicates();
        assertThatThrownBy(() -> relay.allocate("x", "y")).isInstanceOf(RelayFullException.class)
                .hasMessage("relay full: 3 sessions in use");
        relay.release(l.get(1).sessionId());
        assertThat(relay.allocate("x", "y").tokenA()).hasSize(16);
        assertThat(relay.sessions()).isEqualTo(3);
    }

    @Test
    void garbageOfEveryKindDoesNotStopForwarding() throws Exception {
        start(RelayConfig.defaults().withThreads(2));
        Allocation a = relay.allocate("a", "b");
        DatagramSocket[] s = bindBoth(a);

        List<byte[]> controlGarbage = new ArrayList<>();
        for (int type = 0; type < 8; type++) {
            for (int len : new int[] {5, 6, 20, 21, 22, 23, 37, 38, 300}) {
                byte[] g = new byte[len];
                random.nextBytes(g);
                System.arraycopy(ControlDatagram.MAGIC, 0, g, 0, 4);
                g[4] = (byte) type;
                boolean validBind = type == ControlDatagram.TYPE_RELAY_BIND && len == 21;
                if (!validBind) controlGarbage.add(g);
            }
        }
        byte[] id = new byte[16];
        controlGarbage.add(ControlDatagram.encode(new ControlDatagram.Punch(id, id)));
        controlGarbage.add(ControlDatagram.encode(new ControlDatagram.RelayBound(a.tokenA(), true)));
        controlGarbage.add(ControlDatagram.encode(new ControlDatagram.RelayDeny(a.tokenB(), 2)));
        controlGarbage.add(Arrays.copyOf(ControlDatagram.MAGIC, 4)); // the magic alone: too short, not forwarded from strangers

        // strangers on many ports (so every relay socket gets some): random bytes of 0..1500 and control garbage
        int strangers = 0;
        for (int i = 0; i < 16; i++) {
            DatagramSocket g = socket();
            for (int j = 0; j < 40; j++) {
                byte[] b = new byte[random.nextInt(1501)];
                random.nextBytes(b);
                send(g, b);
                strangers++;
            }
            for (byte[] c : controlGarbage) send(g, c);
        }
        // control garbage from a bound side is not forwarded either
        for (byte[] c : controlGarbage) {
            if (c.length >= ControlDatagram.HEADER) send(s[0], c);
        }
        assertThat(receiveWithin(s[1], 300)).isNull();
        assertThat(receiveWithin(s[0], 50)).isNull();

        byte[] ab = payload(1200);
        byte[] ba = payload(1200);
        send(s[0], ab);
        send(s[1], ba);
        assertThat(receive(s[1])).isEqualTo(ab);
        assertThat(receive(s[0])).isEqualTo(ba);
        // and new sessions on new ports (other relay sockets) still work
        for (int i = 0; i < 6; i++) {
            DatagramSocket[] n = bindBoth(relay.allocate("x" + i, "y" + i));
            byte[] p = payload(100 + i);
            send(n[1], p);
            assertThat(receive(n[0])).isEqualTo(p);
        }
        assertThat(relay.openChannels()).isEqualTo(2);
        int total = strangers;
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                assertThat(dropped("garbage") + dropped("unbound")).isGreaterThanOrEqualTo(total));
    }

    @Test
    void aSessionSeesNoOtherSessionsTraffic() throws Exception {
        start(RelayConfig.defaults());
        DatagramSocket[] one = bindBoth(relay.allocate("a1", "b1"));
        DatagramSocket[] two = bindBoth(relay.allocate("a2", "b2"));
        DatagramSocket snoop = socket(); // never bound, sends and listens
        List<byte[]> p1 = new ArrayList<>();
        List<byte[]> p2 = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            byte[] x = payload(200);
            x[1] = 1;
            byte[] y = payload(200);
            y[1] = 2;
            p1.add(x);
            p2.add(y);
            send(one[0], x);
            send(two[1], y);
            send(snoop, payload(200));
        }
        for (byte[] x : p1) assertThat(receive(one[1])).isEqualTo(x);
        for (byte[] y : p2) assertThat(receive(two[0])).isEqualTo(y);
        assertThat(receiveWithin(one[0], 200)).isNull();
        assertThat(receiveWithin(two[1], 100)).isNull();
        assertThat(receiveWithin(snoop, 100)).isNull();
    }

    @Test
    void aTakenPortIsOneLine() throws Exception {
        try (DatagramSocket taken = new DatagramSocket(LOOPBACK_ANY)) {
            InetSocketAddress at = new InetSocketAddress("127.0.0.1", taken.getLocalPort());
            assertThatThrownBy(() -> UdpRelay.start(at, RelayConfig.defaults(), registry, clock))
                    .isInstanceOf(BindException.class).hasMessageNotContaining("\n").hasMessageContaining("in use");
        }
        start(RelayConfig.defaults().withThreads(3));
        assertThat(relay.address().getPort()).isPositive();
        assertThat(relay.openChannels()).isEqualTo(3);
        relay.close();
        relay.close();
        assertThat(relay.openChannels()).isZero();
        assertThatThrownBy(() -> relay.allocate("a", "b")).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void configDefaultsAndValidation() {
        RelayConfig d = RelayConfig.defaults();
        assertThat(d.maxSessions()).isEqualTo(1000);
        assertThat(d.bytesPerSecond()).isEqualTo(1_000_000);
        assertThat(d.burstBytes()).isEqualTo(256 * 1024);
        assertThat(d.maxSessionBytes()).isEqualTo(2L << 30);
        assertThat(d.idleTimeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(d.bindTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(d.threads()).isEqualTo(Runtime.getRuntime().availableProcessors());
        List<Runnable> bad = List.of(
                () -> d.withMaxSessions(0),
                () -> d.withRate(0, 300_000),
                () -> d.withRate(1000, 100),
                () -> d.withMaxSessionBytes(0),
                () -> d.withTimeouts(Duration.ofMillis(999), Duration.ofSeconds(1)),
                () -> d.withTimeouts(Duration.ofSeconds(1), null),
                () -> d.withTimeouts(Duration.ofDays(2), Duration.ofSeconds(1)),
                () -> d.withThreads(0),
                () -> d.withThreads(1000));
        for (Runnable r : bad) {
            assertThatThrownBy(r::run).isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("relay ")
                    .hasMessageNotContaining("\n");
        }
    }
}
