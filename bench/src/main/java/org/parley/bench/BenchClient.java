package org.parley.bench;

import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.parley.identity.CertificateVerifier;
import org.parley.identity.Role;
import org.parley.protocol.Frame;
import org.parley.transport.Connection;
import org.parley.transport.ConnectionHandler;
import org.parley.transport.QuicNode;
import org.parley.transport.TlsIdentity;

/**
 * A lightweight client for load generation: its own QuicNode (own UDP port and certificate) on a shared event
 * loop group, speaking the client-supernode protocol directly (Hello/Welcome, Route/Routed, Deliver, Ping).
 * No store, no daemon. Callbacks run on the event loop.
 */
final class BenchClient implements ConnectionHandler {
    /** Receives the supernode's frames after the client is attached. */
    interface Listener {
        void deliver(BenchClient to, Frame.Deliver d);

        void routed(BenchClient c, Frame.Routed r);

        void error(BenchClient c, Frame.Error e);
    }

    static final AtomicLong REQUEST_IDS = new AtomicLong(1);
    /** Supernode connections that closed after Welcome (all clients of this JVM). */
    static final AtomicLong LINKS_LOST = new AtomicLong();

    final BenchNetwork.Identity id;
    private final QuicNode node;
    private volatile Connection conn;
    private volatile CompletableFuture<Frame.Welcome> welcome = new CompletableFuture<>();
    volatile Listener listener;
    /** This client's own verifier (and so its own cache of verified certificates), as each daemon has one. */
    final CertificateVerifier verifier;

    private BenchClient(BenchNetwork.Identity id, QuicNode node, CertificateVerifier verifier) {
        this.id = id;
        this.node = node;
        this.verifier = verifier;
    }

    /** Binds the client's QuicNode on a free 127.0.0.1 port. */
    static BenchClient bind(BenchNetwork.Identity id, CertificateVerifier verifier, EventLoopGroup group,
                            MeterRegistry registry) throws IOException {
        QuicNode.Options o = new QuicNode.Options(Duration.ofSeconds(30), Duration.ofSeconds(10), group, 1);
        // inbound connections are not expected; only supernodes may dial in
        QuicNode node = QuicNode.bind(new InetSocketAddress("127.0.0.1", 0),
                new TlsIdentity(id.key(), id.certificate()), verifier, Role.SUPERNODE, INBOUND, o, registry);
        return new BenchClient(id, node, verifier);
    }

    /** Inbound connections are not part of the benchmark: refused. */
    private static final ConnectionHandler INBOUND = new ConnectionHandler() {
        @Override public void connected(Connection c) { c.close(); }
        @Override public void frame(Connection c, Frame f) { }
        @Override public void closed(Connection c) { }
    };

    /**
     * Dials the supernode, sends Hello and completes with the attach time in nanoseconds (dial start to
     * Welcome received).
     */
    CompletableFuture<Long> attach(InetSocketAddress supernode, Duration timeout) {
        CompletableFuture<Frame.Welcome> w = new CompletableFuture<>();
        welcome = w;
        long t0 = System.nanoTime();
        return node.dial(supernode, Role.SUPERNODE, this)
                .thenCompose(c -> {
                    conn = c;
                    c.send(new Frame.Hello(1, "online", List.of()));
                    return w;
                })
                .orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
                .thenApply(x -> System.nanoTime() - t0);
    }

    int localPort() {
        return node.localAddress().getPort();
    }

    boolean attached() {
        Connection c = conn;
        return c != null && c.isOpen() && welcome.isDone() && !welcome.isCompletedExceptionally();
    }

    void send(Frame f) {
        Connection c = conn;
        if (c != null) c.send(f);
    }

    long nextRequestId() {
        return REQUEST_IDS.getAndIncrement();
    }

    void ping() {
        Connection c = conn;
        if (c != null && c.isOpen()) c.send(new Frame.Ping(System.nanoTime()));
    }

    /** Closes the supernode connection (the node stays bound). */
    void detach() {
        Connection c = conn;
        conn = null;
        if (c != null) c.close();
    }

    void close() {
        conn = null;
        node.close();
    }

    // ---- ConnectionHandler (supernode connection, event loop) ----

    @Override
    public void connected(Connection c) {
    }

    @Override
    public void frame(Connection c, Frame f) {
        switch (f) {
            case Frame.Welcome w -> welcome.complete(w);
            case Frame.Redirect r -> welcome.completeExceptionally(new IOException("redirected: " + r.reason()));
            case Frame.Deliver d -> {
                Listener l = listener;
                if (l != null) l.deliver(this, d);
            }
            case Frame.Routed r -> {
                Listener l = listener;
                if (l != null) l.routed(this, r);
            }
            case Frame.Error e -> {
                if (!welcome.isDone()) {
                    welcome.completeExceptionally(new IOException("supernode error " + e.code() + ": " + e.message()));
                    return;
                }
                Listener l = listener;
                if (l != null) l.error(this, e);
            }
            case Frame.Ping p -> c.send(new Frame.Pong(p.nonce()));
            default -> { }
        }
    }

    @Override
    public void closed(Connection c) {
        if (welcome.isDone() && !welcome.isCompletedExceptionally() && conn == c) {
            LINKS_LOST.incrementAndGet();
            if (System.getenv("BENCH_DEBUG") != null) System.err.println("bench: link lost at " + java.time.LocalTime.now() + ": " + id.user() + " " + c);
        }
        welcome.completeExceptionally(new IOException("connection closed before Welcome"));
    }
}
