package org.parley.bench;

import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.cert.CertificateEncodingException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.parley.identity.CertificateVerifier;
import org.parley.identity.DirectoryRecords;
import org.parley.identity.HostPort;
import org.parley.identity.Role;
import org.parley.overlay.AttachPlanner;
import org.parley.overlay.HostCache;
import org.parley.protocol.DeviceRecord;
import org.parley.protocol.Frame;
import org.parley.protocol.Limits;
import org.parley.transport.Connection;
import org.parley.transport.ConnectionHandler;
import org.parley.transport.QuicNode;
import org.parley.transport.TlsIdentity;

/**
 * A lightweight client for load generation: its own QuicNode (own UDP port and certificate) on a shared event
 * loop group, speaking the client-supernode protocol directly (Hello/Welcome, Route/Routed, Deliver, Ping,
 * Publish/Published, Resolve/Resolved). No store, no daemon. Callbacks run on the event loop.
 *
 * <p>{@link #startAttachLoop} runs the daemon's attach logic (ClientDaemon.attachLoop/attachTo) on a virtual
 * thread: the real {@link AttachPlanner} over an in-memory {@link HostCache}, redirects followed at once, a Ping
 * every keepalive interval (as the Welcome says, jittered by 10%) with a 3 s Pong timeout that declares a silent
 * supernode dead, re-attach right after a link loss, and a freshly signed directory record published after every
 * (re-)attach.
 */
final class BenchClient implements ConnectionHandler {
    /** Receives the supernode's frames after the client is attached. */
    interface Listener {
        void deliver(BenchClient to, Frame.Deliver d);

        void routed(BenchClient c, Frame.Routed r);

        void error(BenchClient c, Frame.Error e);

        /** A Resolved that no {@link #resolve} call is waiting for (pipelined lookups). */
        default void resolved(BenchClient c, Frame.Resolved r) { }

        /** A Busy that no {@link #resolve} call is waiting for. */
        default void busy(BenchClient c, Frame.Busy b) { }
    }

    /** What the attach loop reports (on its virtual thread). */
    interface AttachEvents {
        /** Welcome received from {@code address} at {@code nanos} (System.nanoTime). */
        default void attached(BenchClient c, String address, long nanos) { }

        /**
         * The link to {@code address} ended; {@code silent}: declared dead by the Pong timeout at {@code nanos},
         * else closed at {@code nanos}.
         */
        default void lost(BenchClient c, String address, long nanos, boolean silent) { }

        /** A candidate could not be attached to (unreachable, timeout, error) at {@code nanos}. */
        default void failed(BenchClient c, String address, long nanos, String why) { }

        /** A candidate answered Redirect. */
        default void redirected(BenchClient c, String address, Frame.Redirect r) { }

        /** The record published after an attach was acknowledged ({@code replicas} holders) at {@code nanos}. */
        default void published(BenchClient c, String address, int replicas, long nanos) { }

        /** Publishing after an attach failed. */
        default void publishFailed(BenchClient c, String address, String why) { }
    }

    /** The supernode answered Hello with Redirect. */
    static final class RedirectedException extends IOException {
        final Frame.Redirect redirect;

        RedirectedException(Frame.Redirect r) {
            super("redirected: " + r.reason(), null);
            this.redirect = r;
        }
    }

    /** The supernode answered a request with Busy. */
    static final class BusyException extends IOException {
        final Frame.Busy busy;

        BusyException(Frame.Busy b) {
            super("busy: " + b.reason(), null);
            this.busy = b;
        }
    }

    /** How long a supernode may leave a Ping unanswered before the link counts as dead (as ClientDaemon). */
    static final long PONG_TIMEOUT_MILLIS = 3000;
    /** Handshake timeout of a dial to a supernode (QuicNode.Options.DEFAULT, which the daemon uses). */
    static final Duration DAEMON_HANDSHAKE = Duration.ofMillis(2500); // as ClientDaemon.ATTACH_HANDSHAKE
    /** A request (Publish, Resolve) unanswered this long fails (as ClientDaemon.request). */
    static final long REQUEST_TIMEOUT_MILLIS = 5000;

    static final AtomicLong REQUEST_IDS = new AtomicLong(1);
    /** Supernode connections that closed after Welcome (all clients of this JVM). */
    static final AtomicLong LINKS_LOST = new AtomicLong();

    final BenchNetwork.Identity id;
    private final QuicNode node;
    private volatile Connection conn;
    private volatile CompletableFuture<Frame.Welcome> welcome = new CompletableFuture<>();
    volatile Listener listener;
    /** Requests waiting for their answer (publish, resolve), by request id. */
    private final Map<Long, CompletableFuture<Frame>> requests = new ConcurrentHashMap<>();
    /** host:port of the supernode of the current connection (as dialled), or null. */
    private volatile String supernodeAddress;
    private volatile String observedAddress = "";
    private volatile long attachedSinceMillis;
    private volatile long lastPongNanos;
    private volatile long rttMillis;
    private long recordSequence;
    private volatile boolean running = true;
    private volatile Thread loopThread;
    private volatile AttachPlanner planner;
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
        return bind(id, verifier, group, registry, Duration.ofSeconds(10));
    }

    /** As {@link #bind(BenchNetwork.Identity, CertificateVerifier, EventLoopGroup, MeterRegistry)} with a handshake timeout. */
    static BenchClient bind(BenchNetwork.Identity id, CertificateVerifier verifier, EventLoopGroup group,
                            MeterRegistry registry, Duration handshakeTimeout) throws IOException {
        QuicNode.Options o = new QuicNode.Options(Duration.ofSeconds(30), handshakeTimeout, group, 1);
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
                    supernodeAddress = HostPort.of(supernode).toString();
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
        running = false;
        Thread t = loopThread;
        if (t != null) t.interrupt();
        conn = null;
        node.close();
    }

    /** host:port of the supernode this client is attached to now, or null. */
    String supernodeAddress() {
        return attached() ? supernodeAddress : null;
    }

    // ---- directory: Publish and Resolve ----

    /**
     * Signs and publishes this device's directory record through the current supernode, naming that supernode
     * (as ClientDaemon.publishRecord: sequence increasing, expiry now + {@link Limits#RECORD_TTL_MILLIS}).
     */
    CompletableFuture<Frame.Published> publish() {
        Connection c = conn;
        String via = supernodeAddress;
        if (c == null || via == null) return CompletableFuture.failedFuture(new IOException("not attached"));
        long now = System.currentTimeMillis();
        long seq;
        synchronized (this) {
            seq = recordSequence = Math.max(recordSequence + 1, now);
        }
        DeviceRecord unsigned = new DeviceRecord(id.deviceId(), id.user(), "online", observedAddress, List.of(),
                encodedCertificate(), attachedSinceMillis, List.of(via), List.of("chat", "relay"), seq,
                now + Limits.RECORD_TTL_MILLIS, null);
        DeviceRecord signed = DirectoryRecords.sign(unsigned, id.key());
        long rid = nextRequestId();
        return request(c, rid, new Frame.Publish(rid, signed)).thenApply(f -> {
            if (f instanceof Frame.Published p) return p;
            throw new IllegalStateException("unexpected answer " + f.getClass().getSimpleName());
        });
    }

    /** Resolves {@code user} through the current supernode: Resolved, or fails on Busy, Error or after 5 s. */
    CompletableFuture<Frame.Resolved> resolve(String user) {
        Connection c = conn;
        if (c == null) return CompletableFuture.failedFuture(new IOException("not attached"));
        long rid = nextRequestId();
        return request(c, rid, new Frame.Resolve(rid, user)).thenApply(f -> {
            if (f instanceof Frame.Resolved r) return r;
            throw new IllegalStateException("unexpected answer " + f.getClass().getSimpleName());
        });
    }

    /** Sends a Resolve whose answer goes to the {@link Listener} (no future, no timeout): for pipelined load. */
    boolean resolveAsync(long requestId, String user) {
        Connection c = conn;
        if (c == null) return false;
        c.send(new Frame.Resolve(requestId, user));
        return true;
    }

    private CompletableFuture<Frame> request(Connection c, long rid, Frame f) {
        CompletableFuture<Frame> r = new CompletableFuture<>();
        requests.put(rid, r);
        c.send(f).whenComplete((v, t) -> {
            if (t != null && requests.remove(rid, r)) r.completeExceptionally(t);
        });
        return r.orTimeout(REQUEST_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS).whenComplete((v, t) -> requests.remove(rid, r));
    }

    private byte[] encodedCertificate() {
        try {
            return id.certificate().getEncoded();
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- the daemon's attach loop ----

    /**
     * Starts attaching and staying attached as ClientDaemon does, from {@code seeds} (network.json order) and an
     * empty in-memory host cache, with the daemon's default backoff (500 ms doubling to 30 s).
     */
    void startAttachLoop(List<String> seeds, long randomSeed, AttachEvents events) {
        SplittableRandom rnd = new SplittableRandom(randomSeed);
        planner = new AttachPlanner(new HostCache(), seeds, rnd.split(), Duration.ofMillis(500), Duration.ofSeconds(30));
        loopThread = Thread.ofVirtual().name("attach-" + id.user()).start(() -> attachLoop(rnd, events));
    }

    private void attachLoop(SplittableRandom random, AttachEvents ev) {
        AttachPlanner pl = planner;
        while (running) {
            List<String> round = new ArrayList<>(pl.round(System.currentTimeMillis()));
            Set<String> tried = new LinkedHashSet<>();
            boolean wasAttached = false;
            while (!round.isEmpty() && running && tried.size() < 3 * AttachPlanner.ROUND_SIZE) {
                String address = round.remove(0);
                if (!tried.add(address)) continue;
                InetSocketAddress to;
                try {
                    to = HostPort.parse(address).toSocketAddress();
                } catch (RuntimeException e) {
                    pl.failed(address, System.currentTimeMillis());
                    continue;
                }
                try {
                    Connection c = attachTo(to, address);
                    Frame.Welcome w = welcome.getNow(null);
                    pl.attached(address, w.supernodes(), System.currentTimeMillis());
                    wasAttached = true;
                    ev.attached(this, address, System.nanoTime());
                    publishAndRetry(c, address, ev);
                    long silentAt = keepalive(c, Math.max(1000, w.keepaliveMillis()), random);
                    if (conn == c) conn = null;
                    for (CompletableFuture<Frame> r : requests.values()) r.completeExceptionally(new IOException("supernode link lost"));
                    requests.clear();
                    ev.lost(this, address, silentAt > 0 ? silentAt : System.nanoTime(), silentAt > 0);
                    pl.failed(address, System.currentTimeMillis());
                    break;
                } catch (RedirectedException r) {
                    ev.redirected(this, address, r.redirect);
                    long now = System.currentTimeMillis();
                    pl.redirected(address, r.redirect.retryAfterMillis(), r.redirect.alternatives(), now);
                    // follow the alternatives at once, before the rest of the round
                    List<String> next = new ArrayList<>(pl.round(now));
                    next.removeAll(tried);
                    round.removeAll(next);
                    next.addAll(round);
                    round = next;
                } catch (InterruptedException e) {
                    return;
                } catch (Exception e) {
                    pl.failed(address, System.currentTimeMillis());
                    ev.failed(this, address, System.nanoTime(), Fleet.rootMessage(e));
                }
            }
            if (!running) return;
            // after a link loss: straight back (a little jitter spreads a crowd); otherwise the planner's wait
            long delay = wasAttached ? random.nextLong(500) : pl.delayMillis();
            try {
                Thread.sleep(Math.max(1, delay));
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /**
     * Publishes the record on connection {@code c}; a failure is retried 5 s later while {@code c} is the link
     * (as ClientDaemon.publishRecord, whose tick retries a failed publish in 5 s).
     */
    private void publishAndRetry(Connection c, String address, AttachEvents ev) {
        if (!running || conn != c || !c.isOpen()) return;
        publish().whenComplete((p, t) -> {
            if (t == null) {
                ev.published(this, address, p.replicas(), System.nanoTime());
            } else {
                ev.publishFailed(this, address, Fleet.rootMessage(t));
                CompletableFuture.delayedExecutor(5, TimeUnit.SECONDS).execute(() -> publishAndRetry(c, address, ev));
            }
        });
    }

    /** Dial (5 s handshake), Hello, Welcome within 5 s: as ClientDaemon.attachTo. */
    private Connection attachTo(InetSocketAddress to, String address) throws Exception {
        CompletableFuture<Frame.Welcome> w = new CompletableFuture<>();
        welcome = w;
        Connection c;
        try {
            c = node.dial(to, Role.SUPERNODE, this, DAEMON_HANDSHAKE).get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IOException(Fleet.rootMessage(e));
        } catch (TimeoutException e) {
            throw new IOException("dial timed out");
        }
        conn = c;
        supernodeAddress = address;
        c.send(new Frame.Hello(1, "online", List.of()));
        Frame.Welcome got;
        try {
            got = w.get(5, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            conn = null;
            c.close();
            throw new IOException("no Welcome within 5 s");
        } catch (ExecutionException e) {
            conn = null;
            c.close();
            if (e.getCause() instanceof RedirectedException r) throw r;
            throw new IOException(Fleet.rootMessage(e.getCause()));
        }
        observedAddress = got.observedAddress();
        attachedSinceMillis = System.currentTimeMillis();
        return c;
    }

    /**
     * ClientDaemon's keepalive: one Ping per keepalive interval (jittered by 10%), and if no Pong came within
     * max(3 s, 4 x RTT) (at most 3/4 of the interval) the link is declared dead and closed. Returns when the connection is closed: the time
     * (System.nanoTime) the supernode was declared silent, or -1 if the link closed otherwise.
     */
    private long keepalive(Connection c, long keepalive, SplittableRandom random) throws InterruptedException {
        while (running && c.isOpen()) {
            long interval = keepalive - keepalive / 10 + random.nextLong(keepalive / 5 + 1);
            long wait = Math.min(Math.max(PONG_TIMEOUT_MILLIS, 4 * Math.max(0, rttMillis)), interval * 3 / 4);
            if (waitClosed(c, interval - wait)) return -1;
            long sent = System.nanoTime();
            c.send(new Frame.Ping(sent));
            // a killed supernode sends nothing: notice it within one interval, not at the QUIC idle timeout
            if (waitClosed(c, wait)) return -1;
            if (running && c.isOpen() && lastPongNanos - sent < 0) {
                long silentAt = System.nanoTime();
                c.close();
                waitClosed(c, 2000); // the daemon waits for the close as well (waitWhileAttached)
                return silentAt;
            }
        }
        return -1;
    }

    /** Waits up to {@code millis} for the connection to close; true if it did. */
    private static boolean waitClosed(Connection c, long millis) throws InterruptedException {
        try {
            c.closeFuture().get(millis, TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            return true;
        }
    }

    // ---- ConnectionHandler (supernode connection, event loop) ----

    @Override
    public void connected(Connection c) {
    }

    @Override
    public void frame(Connection c, Frame f) {
        switch (f) {
            case Frame.Welcome w -> {
                if (c == conn) welcome.complete(w);
            }
            case Frame.Redirect r -> {
                if (c == conn) welcome.completeExceptionally(new RedirectedException(r));
            }
            case Frame.Resolved r -> {
                CompletableFuture<Frame> q = requests.remove(r.requestId());
                if (q != null) {
                    q.complete(r);
                } else {
                    Listener l = listener;
                    if (l != null) l.resolved(this, r);
                }
            }
            case Frame.Published p -> {
                CompletableFuture<Frame> q = requests.remove(p.requestId());
                if (q != null) q.complete(p);
            }
            case Frame.Busy b -> {
                CompletableFuture<Frame> q = requests.remove(b.requestId());
                if (q != null) {
                    q.completeExceptionally(new BusyException(b));
                } else {
                    Listener l = listener;
                    if (l != null) l.busy(this, b);
                }
            }
            case Frame.Pong p -> {
                lastPongNanos = p.nonce();
                rttMillis = (System.nanoTime() - p.nonce()) / 1_000_000;
            }
            case Frame.Deliver d -> {
                Listener l = listener;
                if (l != null) l.deliver(this, d);
            }
            case Frame.Routed r -> {
                Listener l = listener;
                if (l != null) l.routed(this, r);
            }
            case Frame.Error e -> {
                CompletableFuture<Frame> q = e.requestId() == 0 ? null : requests.remove(e.requestId());
                if (q != null) {
                    q.completeExceptionally(new IOException("supernode error " + e.code() + ": " + e.message()));
                    return;
                }
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
        // only the connection the pending Welcome belongs to (a late close of an old link must not fail a new attach)
        Connection current = conn;
        if (current == c) welcome.completeExceptionally(new IOException("connection closed before Welcome"));
    }
}
