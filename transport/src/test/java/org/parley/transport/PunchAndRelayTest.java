package org.parley.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.parley.identity.Role;
import org.parley.protocol.ControlDatagram;
import org.parley.protocol.Frame;
import org.parley.transport.QuicNodeTest.Recorder;

/** Hole-punch datagrams and QUIC connections through a relay, on 127.0.0.1. */
class PunchAndRelayTest {
    private static final InetSocketAddress ANY = QuicNodeTest.ANY;

    /** A minimal relay speaking the binding protocol: two tokens, forwards between the bound addresses. */
    static final class TestRelay implements AutoCloseable {
        final DatagramSocket socket;
        final byte[] tokenA = new byte[16];
        final byte[] tokenB = new byte[16];
        volatile InetSocketAddress a;
        volatile InetSocketAddress b;
        final AtomicInteger forwarded = new AtomicInteger();
        final List<byte[]> seen = new CopyOnWriteArrayList<>();
        final Thread thread;

        TestRelay() throws SocketException {
            socket = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
            Arrays.fill(tokenA, (byte) 1);
            Arrays.fill(tokenB, (byte) 2);
            thread = Thread.ofVirtual().start(this::loop);
        }

        InetSocketAddress address() {
            return (InetSocketAddress) socket.getLocalSocketAddress();
        }

        private void loop() {
            byte[] buf = new byte[2048];
            while (!socket.isClosed()) {
                try {
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    socket.receive(p);
                    byte[] data = Arrays.copyOf(p.getData(), p.getLength());
                    InetSocketAddress from = (InetSocketAddress) p.getSocketAddress();
                    if (ControlDatagram.isControl(java.nio.ByteBuffer.wrap(data))) {
                        if (ControlDatagram.decode(data) instanceof ControlDatagram.RelayBind bind) {
                            if (Arrays.equals(bind.token(), tokenA)) a = from;
                            else if (Arrays.equals(bind.token(), tokenB)) b = from;
                            else continue;
                            boolean both = a != null && b != null;
                            send(ControlDatagram.encode(new ControlDatagram.RelayBound(bind.token(), both)), from);
                        }
                        continue;
                    }
                    seen.add(data);
                    InetSocketAddress to = from.equals(a) ? b : from.equals(b) ? a : null;
                    if (to != null) {
                        send(data, to);
                        forwarded.incrementAndGet();
                    }
                } catch (Exception e) {
                    if (socket.isClosed()) return;
                }
            }
        }

        void send(byte[] data, InetSocketAddress to) throws java.io.IOException {
            socket.send(new DatagramPacket(data, data.length, to));
        }

        void deny(InetSocketAddress to, byte[] token) throws java.io.IOException {
            send(ControlDatagram.encode(new ControlDatagram.RelayDeny(token, ControlDatagram.DENY_LIMIT)), to);
        }

        @Override
        public void close() {
            socket.close();
        }
    }

    @Test
    void punchesReachTheListenerWithTheSendersPort() throws Exception {
        TestPki pki = new TestPki();
        List<InetSocketAddress> from = new CopyOnWriteArrayList<>();
        List<ControlDatagram.Punch> punches = new CopyOnWriteArrayList<>();
        try (QuicNode alice = QuicNode.bind(ANY, pki.identity("alice", Role.USER), pki.verifier, null, new Recorder(),
                QuicNode.Options.DEFAULT, new SimpleMeterRegistry());
             QuicNode bob = QuicNode.bind(ANY, pki.identity("bob", Role.USER), pki.verifier, null, new Recorder(),
                QuicNode.Options.DEFAULT, new SimpleMeterRegistry())) {
            bob.onPunch((p, f) -> {
                punches.add(p);
                from.add(f);
            });
            byte[] attempt = new byte[16];
            attempt[0] = 7;
            byte[] device = ControlDatagram.deviceBytes("00112233445566778899aabbccddeeff");
            alice.sendControl(bob.localAddress(), new ControlDatagram.Punch(attempt, device));
            await().atMost(Duration.ofSeconds(5)).until(() -> !punches.isEmpty());
            assertThat(punches.get(0).senderDeviceHex()).isEqualTo("00112233445566778899aabbccddeeff");
            assertThat(from.get(0).getPort()).isEqualTo(alice.localAddress().getPort());
            // a punch is not garbage
            assertThat(bob.garbageDatagrams()).isZero();
        }
    }

    @Test
    void peersTalkEndToEndThroughARelayThatSeesOnlyCiphertext() throws Exception {
        TestPki pki = new TestPki();
        Recorder bobIn = new Recorder();
        bobIn.echo = true;
        Recorder aliceRec = new Recorder();
        try (TestRelay relay = new TestRelay();
             QuicNode alice = QuicNode.bind(ANY, pki.identity("alice", Role.USER), pki.verifier, null, new Recorder(),
                QuicNode.Options.DEFAULT, new SimpleMeterRegistry());
             QuicNode bob = QuicNode.bind(ANY, pki.identity("bob", Role.USER), pki.verifier, null, bobIn,
                QuicNode.Options.DEFAULT, new SimpleMeterRegistry())) {
            bob.acceptViaRelay(relay.address(), relay.tokenB, Duration.ofSeconds(10)).get(10, TimeUnit.SECONDS);
            Connection c = alice.dialViaRelay(relay.address(), relay.tokenA, Role.USER, aliceRec, Duration.ofSeconds(10))
                    .get(15, TimeUnit.SECONDS);
            assertThat(c.peer().user()).isEqualTo("bob");
            assertThat(c.relayAddress()).isEqualTo(relay.address());
            String secret = "attack at dawn, the relay must not read this";
            byte[] secretBytes = secret.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            c.send(new Frame.EventPush(0, java.util.List.of(secretBytes), java.util.List.of()));
            c.send(new Frame.Ping(99));
            await().atMost(Duration.ofSeconds(10)).until(() -> aliceRec.frames.contains(new Frame.Pong(99)));
            assertThat(bobIn.connected).hasSize(1);
            Connection in = bobIn.connected.get(0);
            assertThat(in.peer().user()).isEqualTo("alice");
            assertThat(in.relayAddress()).isEqualTo(relay.address());
            assertThat(bobIn.frames).anyMatch(f -> f instanceof Frame.EventPush p && p.events().size() == 1
                    && java.util.Arrays.equals(p.events().get(0), secretBytes));
            assertThat(relay.forwarded.get()).isGreaterThan(4);
            byte[] needle = secret.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            for (byte[] d : relay.seen) assertThat(indexOf(d, needle)).as("plaintext in a relayed datagram").isEqualTo(-1);
            // neither side's one port was used: the relay saw the relay sockets only
            assertThat(relay.a.getPort()).isNotEqualTo(alice.localAddress().getPort());
            assertThat(relay.b.getPort()).isNotEqualTo(bob.localAddress().getPort());
            // call media (QUIC datagrams) goes through the relay too
            for (int i = 0; i < 50; i++) {
                c.sendDatagram(new byte[] {(byte) i, 1, 2, 3});
                Thread.sleep(2);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> aliceRec.datagrams.size() >= 45);
            // the relay ending the session closes the connection through it
            relay.deny(relay.a, relay.tokenA);
            await().atMost(Duration.ofSeconds(10)).until(() -> !c.isOpen());
        }
    }

    @Test
    void aRelayThatNeverAnswersFailsTheDialWithinItsTimeout() throws Exception {
        TestPki pki = new TestPki();
        try (DatagramSocket silent = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
             QuicNode alice = QuicNode.bind(ANY, pki.identity("alice", Role.USER), pki.verifier, null, new Recorder(),
                QuicNode.Options.DEFAULT, new SimpleMeterRegistry())) {
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> alice.dialViaRelay((InetSocketAddress) silent.getLocalSocketAddress(), new byte[16],
                    Role.USER, new Recorder(), Duration.ofMillis(800)).get(10, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class).hasMessageContaining("relayed dial via");
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
        }
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
            return i;
        }
        return -1;
    }
}
