package org.parley.supernode;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import org.parley.identity.CertificateVerifier;
import org.parley.identity.DirectoryRecords;
import org.parley.identity.Keys;
import org.parley.overlay.Admission;
import org.parley.overlay.DirectoryService;
import org.parley.overlay.HostCache;
import org.parley.overlay.NodeId;
import org.parley.overlay.OverlayNet;
import org.parley.overlay.OverlayNode;
import org.parley.overlay.RoutingTable;
import org.parley.protocol.FrameCodec;
import org.parley.protocol.OverlayContact;
import org.parley.protocol.WireFormatException;
import org.parley.identity.DeviceCredentials;
import org.parley.identity.HostPort;
import org.parley.identity.LoginClient;
import org.parley.identity.LoginException;
import org.parley.identity.Role;
import org.parley.protocol.DeviceRecord;
import org.parley.protocol.ErrorCode;
import org.parley.protocol.Frame;
import org.parley.transport.Connection;
import org.parley.transport.ConnectionHandler;
import org.parley.supernode.relay.Allocation;
import org.parley.supernode.relay.RelayFullException;
import org.parley.supernode.relay.UdpRelay;
import org.parley.transport.QuicNode;
import org.parley.transport.TlsIdentity;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running supernode: admits clients (or redirects them, see {@link DirectoryService}), is a node of the
 * Kademlia directory overlay among supernodes ({@link OverlayNode}, run on one "overlay" thread), stores and
 * serves signed directory records, routes sealed frames to its clients and to other supernodes' clients, and
 * runs a relay. Start with {@link #start}; stop with {@link #close}.
 */
public final class Supernode implements AutoCloseable, ConnectionHandler {
    private static final Logger log = LoggerFactory.getLogger(Supernode.class);

    /** Per-connection state after a successful Hello. */
    private static final class Attached {
        final String deviceId;
        final String user;
        final long since;
        final TokenBucket routes;
        volatile Set<String> watching = Set.of();

        Attached(String deviceId, String user, long since, TokenBucket routes) {
            this.deviceId = deviceId;
            this.user = user;
            this.since = since;
            this.routes = routes;
        }
    }

    private final DeviceCredentials credentials;
    private final SupernodeConfig config;
    private final Clock clock;
    private final Directory directory = new LocalDirectory();
    private final Map<String, Connection> byDevice = new ConcurrentHashMap<>();
    private final Map<String, Set<Connection>> watchers = new ConcurrentHashMap<>();
    private final TlsIdentity identity;
    private final QuicNode node;
    private final ScheduledExecutorService timer;
    private final String id;
    private final Counter attaches;
    private final Counter redirects;
    private final Counter routed;
    private final Counter resolves;
    private final Counter refused;
    private volatile MetricsEndpoint metricsEndpoint;
    private final UdpRelay relay;
    private final Counter relayOpens;
    private final Counter published;
    private final Counter busy;
    private final Counter forwarded;
    private final ScheduledExecutorService overlayExec;
    private final ExecutorScheduler sched;
    private final DirectoryService service;
    private final OverlayNode overlay;
    private final String advertised;
    private final NodeId nodeId;
    private final DirectoryRecords recordChecker;
    private final Map<String, CompletableFuture<Connection>> peers = new ConcurrentHashMap<>();
    private final HostCache hostCache;
    private final Path hostCacheFile;
    /** Last seen devices (device id -> presence) of watched users attached elsewhere; overlay thread. */
    private final Map<String, Map<String, String>> remoteWatched = new HashMap<>();
    private volatile long relayBytesPerSecond;
    private long relayBytesAt, relayBytesMark;
    private volatile boolean closing;
    /** Dial-back checks this supernode asked other supernodes for, by request id. */
    private final Map<Long, CompletableFuture<Integer>> dialBackAsks = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicLong dialBackIds = new java.util.concurrent.atomic.AtomicLong(1);
    private static final ConnectionHandler PROBE = new ConnectionHandler() {
        @Override public void connected(Connection c) { }
        @Override public void frame(Connection c, Frame f) { }
        @Override public void closed(Connection c) { }
    };

    private Supernode(DeviceCredentials credentials, SupernodeConfig config, MeterRegistry registry, Clock clock,
                      QuicNode.Options options) throws IOException {
        this.credentials = credentials;
        this.config = config;
        this.clock = clock;
        this.id = credentials.user() + "/" + credentials.deviceId().substring(0, 8);
        CertificateVerifier verifier = CertificateVerifier.of(credentials.networkFile(), clock);
        try {
            verifier.verifyRole(credentials.certificate(), Role.SUPERNODE);
        } catch (org.parley.identity.CertificateRejectedException e) {
            if (e.reason() != org.parley.identity.CertificateRejectedException.Reason.EXPIRED) {
                throw new IOException("this supernode's certificate is unusable: " + e.getMessage());
            }
            renewNow();
        }
        this.identity = new TlsIdentity(credentials.privateKey(), credentials.certificate());
        this.attaches = Counter.builder("parley_supernode_attaches").register(registry);
        this.redirects = Counter.builder("parley_supernode_redirects").register(registry);
        this.routed = Counter.builder("parley_supernode_routed_frames").register(registry);
        this.resolves = Counter.builder("parley_supernode_lookups").register(registry);
        this.refused = Counter.builder("parley_supernode_refused").description("frames refused (rate, auth, offline)").register(registry);
        Gauge.builder("parley_supernode_attached_clients", byDevice, Map::size).register(registry);
        Gauge.builder("parley_supernode_capacity", () -> config.capacity()).register(registry);
        this.relayOpens = Counter.builder("parley_supernode_relay_opens").description("relay sessions allocated").register(registry);
        this.published = Counter.builder("parley_supernode_records_published").description("client records published into the overlay").register(registry);
        this.busy = Counter.builder("parley_supernode_busy").description("requests answered Busy (lookup or relay capacity)").register(registry);
        this.forwarded = Counter.builder("parley_supernode_forwarded").description("frames forwarded to or from other supernodes").register(registry);
        this.recordChecker = new DirectoryRecords(verifier);
        this.nodeId = NodeId.forKey(credentials.certificate().getPublicKey().getEncoded());
        this.node = QuicNode.bind(config.listen().toSocketAddress(), identity, verifier, null, this, options, registry);
        this.advertised = advertisedAddress(config, node.localAddress());
        // work handed over by the network while the supernode shuts down is dropped quietly
        this.overlayExec = new java.util.concurrent.ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "supernode-overlay");
            t.setDaemon(true);
            return t;
        }, new java.util.concurrent.ThreadPoolExecutor.DiscardPolicy());
        this.sched = new ExecutorScheduler(overlayExec, clock);
        SplittableRandom rnd = new SplittableRandom(new java.security.SecureRandom().nextLong());
        List<String> seeds = credentials.networkFile().seeds().stream().map(HostPort::toString).toList();
        this.service = new DirectoryService(new Admission(config.admission(), rnd.split(), clock.millis()), sched, rnd.split(), seeds);
        this.overlay = new OverlayNode(nodeId, advertised, config.overlay(), this::sendOverlay, sched, rnd.split(),
                recordChecker::check, service);
        service.bind(overlay);
        this.hostCacheFile = credentials.dir() == null ? null : credentials.dir().resolve("hosts.txt");
        this.hostCache = loadHostCache(hostCacheFile);
        Gauge.builder("parley_overlay_contacts", overlay, o -> o.table().size()).description("supernodes in the routing table").register(registry);
        Gauge.builder("parley_overlay_records", overlay, o -> o.store().size()).description("directory records stored here").register(registry);
        Gauge.builder("parley_overlay_lookups", overlay, OverlayNode::lookups).description("user lookups run").register(registry);
        Gauge.builder("parley_overlay_requests_served", overlay, OverlayNode::requestsServed).register(registry);
        Gauge.builder("parley_overlay_timeouts", overlay, OverlayNode::timeouts).description("overlay requests that went unanswered").register(registry);
        UdpRelay started = null;
        if (config.relayEnabled()) {
            try {
                started = UdpRelay.start(config.relayListen().toSocketAddress(), config.relay(), registry, clock);
            } catch (IOException | RuntimeException e) {
                node.close();
                throw new IOException("cannot start the relay on UDP " + config.relayListen() + ": " + e.getMessage(), e);
            }
        }
        this.relay = started;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "supernode-timer");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::housekeeping, 5, 5, TimeUnit.SECONDS);
        overlayExec.execute(() -> overlay.start(bootstrapList()));
        overlayExec.scheduleWithFixedDelay(this::overlayHousekeeping, 2, 5, TimeUnit.SECONDS);
    }

    private static HostCache loadHostCache(Path file) {
        try {
            return file != null && Files.exists(file) ? HostCache.decode(Files.readString(file, StandardCharsets.UTF_8)) : new HostCache();
        } catch (IOException | RuntimeException e) {
            return new HostCache(); // a damaged cache only costs hints
        }
    }

    /** The address this supernode tells others: --advertise, else the listen address with a concrete host. */
    static String advertisedAddress(SupernodeConfig config, InetSocketAddress bound) {
        if (config.advertise() != null) return config.advertise().toString();
        InetAddress a = bound.getAddress();
        if (a != null && !a.isAnyLocalAddress()) return HostPort.of(bound).toString();
        try {
            for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                if (!ni.isUp() || ni.isLoopback()) continue;
                for (InetAddress x : Collections.list(ni.getInetAddresses())) {
                    if (x instanceof Inet4Address) return x.getHostAddress() + ":" + bound.getPort();
                }
            }
        } catch (IOException ignored) {
            // fall through
        }
        return "127.0.0.1:" + bound.getPort();
    }

    /** Seeds and the host cache, best first, without this supernode. */
    private List<String> bootstrapList() {
        List<String> out = new ArrayList<>();
        for (String a : hostCache.attachOrder(List.of(), service.alternatives(0), clock.millis(), 32)) {
            if (!a.equals(advertised)) out.add(a);
        }
        for (HostPort s : credentials.networkFile().seeds()) {
            if (!s.toString().equals(advertised) && !out.contains(s.toString())) out.add(s.toString());
        }
        return out;
    }

    private int housekeepingRounds;

    /** Overlay thread, every 5 s: rejoin when alone, watch remote presence; every 10 s refresh the host cache (saved every minute). */
    private void overlayHousekeeping() {
        try {
            long now = clock.millis();
            if (overlay.table().size() == 0) overlay.start(bootstrapList());
            pollRemotePresence(List.copyOf(watchers.keySet()));
            if (housekeepingRounds++ % 2 == 1) return; // the rest every 10 s
            for (RoutingTable.Entry e : overlay.table().all()) {
                hostCache.learned(e.info().address(), e.info().capacity(), e.info().load(), now);
                if (now - e.lastSeen() < 60_000) hostCache.success(e.info().address(), now);
            }
            if (hostCacheFile != null && overlay.table().size() > 0 && housekeepingRounds % 12 == 1) {
                Keys.writeAtomically(hostCacheFile, hostCache.encode().getBytes(StandardCharsets.UTF_8), false);
            }
        } catch (RuntimeException e) {
            log.warn("overlay housekeeping failed: {}", e.toString());
        }
    }

    /** Presence of watched users attached to other supernodes comes from overlay lookups. Overlay thread. */
    private void pollRemotePresence(List<String> users) {
        int budget = 500;
        for (String user : users) {
            Set<Connection> w = watchers.get(user);
            if (w == null || w.isEmpty()) {
                remoteWatched.remove(user);
                continue;
            }
            if (!directory.lookup(user).isEmpty()) continue; // attached here: local events cover it
            if (budget-- == 0) break;
            overlay.findUser(user, r -> {
                Map<String, String> now = new HashMap<>();
                for (DeviceRecord d : r.records()) now.put(d.deviceId(), d.presence());
                Map<String, String> before = remoteWatched.getOrDefault(user, Map.of());
                remoteWatched.put(user, now);
                now.forEach((dev, p) -> {
                    if (!p.equals(before.get(dev))) notifyWatchers(user, dev, p, true);
                });
                before.keySet().forEach(dev -> {
                    if (!now.containsKey(dev)) notifyWatchers(user, dev, "offline", false);
                });
            });
        }
    }

    /** Overlay messages to other supernodes, over QUIC connections opened on demand and reused both ways. */
    private void sendOverlay(String address, Frame frame) {
        if (closing) return;
        CompletableFuture<Connection> f = peers.get(address);
        if (f == null || f.isCompletedExceptionally() || (f.isDone() && !f.join().isOpen())) {
            InetSocketAddress to;
            try {
                to = HostPort.parse(address).toSocketAddress();
            } catch (RuntimeException e) {
                return; // a contact with an unusable address: its requests time out
            }
            CompletableFuture<Connection> dialing = node.dialEphemeral(to, Role.SUPERNODE, this);
            CompletableFuture<Connection> old = f;
            if (old == null ? peers.putIfAbsent(address, dialing) != null : !peers.replace(address, old, dialing)) {
                dialing.thenAccept(Connection::close);
                f = peers.get(address);
                if (f == null) return;
            } else {
                f = dialing;
                dialing.whenComplete((c, t) -> {
                    if (t != null) peers.remove(address, dialing);
                });
            }
        }
        f.thenAccept(c -> c.send(frame));
    }

    public static Supernode start(DeviceCredentials credentials, SupernodeConfig config, MeterRegistry registry)
            throws IOException {
        return start(credentials, config, registry, Clock.systemUTC(), QuicNode.Options.DEFAULT);
    }

    public static Supernode start(DeviceCredentials credentials, SupernodeConfig config, MeterRegistry registry,
                                  Clock clock, QuicNode.Options options) throws IOException {
        Supernode s = new Supernode(credentials, config, registry, clock, options);
        if (config.metrics() != null) {
            try {
                s.metricsEndpoint = MetricsEndpoint.start(config.metrics(), registry);
            } catch (IOException e) {
                s.close();
                throw e;
            }
        }
        log.info("supernode {} listening on UDP {} (capacity {}), relay {}", s.id, s.address(), config.capacity(),
                s.relay == null ? "off" : "on UDP " + s.relay.address());
        return s;
    }

    public InetSocketAddress address() {
        return node.localAddress();
    }

    /** The relay's UDP address, or null when this supernode runs none. */
    public InetSocketAddress relayAddress() {
        return relay == null ? null : relay.address();
    }

    public int relaySessions() {
        return relay == null ? 0 : relay.sessions();
    }

    public int metricsPort() {
        MetricsEndpoint m = metricsEndpoint;
        return m == null ? -1 : m.port();
    }

    public int attached() {
        return byDevice.size();
    }

    public Directory directory() {
        return directory;
    }

    public QuicNode node() {
        return node;
    }

    /** The address this supernode advertises to the overlay and to clients. */
    public String advertised() {
        return advertised;
    }

    /** Supernodes in this one's routing table (a snapshot taken on the overlay thread). */
    public int overlayContacts() {
        return onOverlay(() -> overlay.table().size());
    }

    /** Directory records stored here. */
    public int storedRecords() {
        return onOverlay(() -> overlay.store().size());
    }

    private <T> T onOverlay(java.util.concurrent.Callable<T> task) {
        try {
            return overlayExec.submit(task).get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("overlay thread did not answer: " + e);
        }
    }

    // ---- connection events (event loop: no blocking) ----

    @Override
    public void connected(Connection c) {
        // nothing until the client says Hello
    }

    @Override
    public void frame(Connection c, Frame f) {
        if (c.peer().role() == Role.SUPERNODE) {
            overlayFrame(c, f);
            return;
        }
        Attached a = (Attached) c.attachment();
        if (a == null) {
            if (f instanceof Frame.Hello h) hello(c, h);
            else refuse(c, 0, ErrorCode.UNAUTHORIZED, "send Hello first");
            return;
        }
        switch (f) {
            case Frame.Ping p -> c.send(new Frame.Pong(p.nonce()));
            case Frame.Pong p -> { }
            case Frame.Resolve r -> resolve(c, r);
            case Frame.Publish p -> publish(c, a, p);
            case Frame.DialBack d -> dialBack(c, a, d);
            case Frame.Route r -> route(c, a, r);
            case Frame.RelayOpen r -> openRelay(c, a, r);
            case Frame.SetPresence p -> presence(c, a, p.presence());
            case Frame.Subscribe s -> subscribe(c, a, s.users());
            case Frame.Hello h -> refuse(c, 0, ErrorCode.BAD_REQUEST, "already attached");
            default -> refuse(c, 0, ErrorCode.BAD_REQUEST, "frame " + f.getClass().getSimpleName() + " is not for a supernode");
        }
    }

    private void refuse(Connection c, long requestId, ErrorCode code, String message) {
        refused.increment();
        c.send(new Frame.Error(requestId, code.code, message));
    }

    private void hello(Connection c, Frame.Hello h) {
        var peer = c.peer();
        if (h.clientVersion() < peer.policy().minClientVersion()) {
            c.send(new Frame.Error(0, ErrorCode.UNAUTHORIZED.code, "client version " + h.clientVersion()
                    + " is older than the network's minimum " + peer.policy().minClientVersion()))
                    .whenComplete((v, t) -> c.close());
            return;
        }
        int hour = clock.instant().atZone(ZoneOffset.UTC).getHour();
        if (!peer.policy().allowsHour(hour)) {
            c.send(new Frame.Error(0, ErrorCode.UNAUTHORIZED.code, "account may attach only during UTC hours "
                    + peer.policy().allowedHours())).whenComplete((v, t) -> c.close());
            return;
        }
        String observed = HostPort.of(c.remoteAddress()).toString();
        List<String> locals = h.localAddresses().stream().limit(8).toList();
        String presence = clean(h.presence());
        overlayExec.execute(() -> admit(c, peer.deviceId(), peer.user(), observed, locals, presence));
    }

    /** Admission on the overlay thread: admit (Welcome) or redirect to less-loaded supernodes. */
    private void admit(Connection c, String deviceId, String user, String observed, List<String> locals, String presence) {
        if (!c.isOpen()) return;
        DirectoryService.AttachDecision d = service.attach(deviceId);
        if (d instanceof DirectoryService.AttachDecision.Redirect r) {
            redirects.increment();
            c.send(new Frame.Redirect(r.retryAfterMillis(), r.alternatives(), r.reason())).whenComplete((v, t) -> c.close());
            return;
        }
        List<String> others = ((DirectoryService.AttachDecision.Admit) d).supernodes();
        long since = clock.millis();
        Attached a = new Attached(deviceId, user, since,
                new TokenBucket(config.routeRate(), config.routeRate() * 2.0, System.nanoTime()));
        c.attach(a);
        // what other devices see of it until its own signed record arrives (Publish)
        directory.register(new DeviceRecord(deviceId, user, presence, observed, locals, c.peer().encoded(), since));
        Connection previous = byDevice.put(deviceId, c);
        if (previous != null && previous != c) {
            previous.attach(null);
            previous.close();
        }
        if (!c.isOpen()) {
            // closed while we admitted it: closed() may have seen no attachment yet, so clean up here
            closed(c);
            return;
        }
        attaches.increment();
        c.send(new Frame.Welcome(id, observed, clock.millis(), (int) config.keepalive().toMillis(), others));
        notifyWatchers(user, deviceId, presence, true);
        log.debug("attached {} from {}", c.peer().label(), observed);
    }

    private void resolve(Connection c, Frame.Resolve r) {
        resolves.increment();
        overlayExec.execute(() -> {
            DirectoryService.Busy b = service.resolve(r.user(), res -> {
                List<DeviceRecord> out = res.records();
                if (out.size() > org.parley.protocol.Limits.MAX_DEVICES_PER_USER) {
                    out = out.subList(0, org.parley.protocol.Limits.MAX_DEVICES_PER_USER);
                }
                c.send(new Frame.Resolved(r.requestId(), r.user(), out));
            });
            if (b != null) {
                busy.increment();
                c.send(new Frame.Busy(r.requestId(), b.retryAfterMillis(), b.alternatives(), b.reason()));
            }
        });
    }

    /** A client's signed record: checked here (it must be the client's own), then stored in the overlay. */
    private void publish(Connection c, Attached a, Frame.Publish p) {
        DeviceRecord r = p.record();
        if (!r.deviceId().equals(a.deviceId) || !r.user().equals(a.user)) {
            refuse(c, p.requestId(), ErrorCode.BAD_REQUEST, "a device may publish only its own record");
            return;
        }
        overlayExec.execute(() -> {
            String why = recordChecker.check(r);
            if (why != null) {
                refuse(c, p.requestId(), ErrorCode.BAD_REQUEST, why);
                return;
            }
            service.publish(r, n -> {
                published.increment();
                c.send(new Frame.Published(p.requestId(), n));
            });
        });
    }

    /**
     * Promotion check for a client: this supernode and up to two others (asked over the overlay) try a QUIC
     * handshake to the client's own address; the answer counts the supernodes that got through.
     */
    private void dialBack(Connection c, Attached a, Frame.DialBack d) {
        HostPort hp;
        try {
            hp = HostPort.parse(d.address());
        } catch (IllegalArgumentException e) {
            refuse(c, d.requestId(), ErrorCode.BAD_REQUEST, "dial-back address: " + e.getMessage());
            return;
        }
        InetSocketAddress target = hp.toSocketAddress();
        if (target.getAddress() == null || !target.getAddress().equals(c.remoteAddress().getAddress())) {
            refuse(c, d.requestId(), ErrorCode.BAD_REQUEST, "dial-back is only to the address you connect from");
            return;
        }
        if (!a.routes.tryTake(System.nanoTime())) {
            refuse(c, d.requestId(), ErrorCode.RATE_LIMITED, "request rate limit exceeded");
            return;
        }
        CompletableFuture<Integer> mine = probe(target);
        overlayExec.execute(() -> {
            List<CompletableFuture<Integer>> checks = new ArrayList<>();
            checks.add(mine);
            List<RoutingTable.Entry> others = new ArrayList<>(overlay.table().all());
            Collections.shuffle(others);
            for (RoutingTable.Entry e : others.subList(0, Math.min(2, others.size()))) {
                long id = dialBackIds.getAndIncrement();
                CompletableFuture<Integer> f = new CompletableFuture<Integer>().completeOnTimeout(0, 8, TimeUnit.SECONDS);
                dialBackAsks.put(id, f);
                f.whenComplete((v, t) -> dialBackAsks.remove(id));
                sendOverlay(e.info().address(), new Frame.DialBack(id, d.address()));
                checks.add(f);
            }
            CompletableFuture.allOf(checks.toArray(CompletableFuture[]::new)).whenComplete((v, t) -> {
                int ok = 0;
                for (CompletableFuture<Integer> f : checks) ok += f.getNow(0);
                c.send(new Frame.DialBackResult(d.requestId(), ok, checks.size()));
            });
        });
    }

    /** 1 if a QUIC handshake with a client at {@code target} succeeds, else 0. */
    private CompletableFuture<Integer> probe(InetSocketAddress target) {
        return node.dialEphemeral(target, Role.USER, PROBE).handle((conn, t) -> {
            if (conn == null) return 0;
            conn.close();
            return 1;
        });
    }

    /** Frames from another supernode: overlay requests and answers, forwarded frames for our clients. */
    private void overlayFrame(Connection c, Frame f) {
        OverlayContact sender = switch (f) {
            case Frame.FindNode x -> x.sender();
            case Frame.Nodes x -> x.sender();
            case Frame.FindValue x -> x.sender();
            case Frame.Values x -> x.sender();
            case Frame.Store x -> x.sender();
            case Frame.Stored x -> x.sender();
            case Frame.OverlayPing x -> x.sender();
            case Frame.OverlayPong x -> x.sender();
            default -> null;
        };
        if (sender != null) {
            byte[] expected = NodeId.forKey(c.peer().publicKey().getEncoded()).bytes();
            if (!Arrays.equals(expected, sender.id())) {
                refuse(c, 0, ErrorCode.BAD_REQUEST, "overlay sender id does not match the certificate");
                return;
            }
            // answers go back over this connection unless one to the sender is already up (a dial of ours
            // still in its handshake, e.g. started before the sender was running, must not hold them)
            CompletableFuture<Connection> known = peers.get(sender.address());
            if (known == null || !known.isDone() || known.isCompletedExceptionally() || !known.join().isOpen()) {
                peers.put(sender.address(), CompletableFuture.completedFuture(c));
            }
            overlayExec.execute(() -> overlay.onMessage(f));
            return;
        }
        switch (f) {
            case Frame.Forward fw -> {
                Connection target = byDevice.get(fw.toDevice());
                if (target == null || !target.isOpen()) return;
                try {
                    Frame inner = FrameCodec.decode(fw.frame());
                    if (inner instanceof Frame.Deliver || inner instanceof Frame.RelayOffer) {
                        forwarded.increment();
                        target.send(inner);
                    }
                } catch (WireFormatException e) {
                    refused.increment();
                }
            }
            case Frame.DialBack d -> {
                try {
                    probe(HostPort.parse(d.address()).toSocketAddress())
                            .thenAccept(ok -> c.send(new Frame.DialBackResult(d.requestId(), ok, 1)));
                } catch (IllegalArgumentException e) {
                    c.send(new Frame.DialBackResult(d.requestId(), 0, 1));
                }
            }
            case Frame.DialBackResult r -> {
                CompletableFuture<Integer> asked = dialBackAsks.remove(r.requestId());
                if (asked != null) asked.complete(Math.min(1, Math.max(0, r.confirmations())));
            }
            case Frame.Ping p -> c.send(new Frame.Pong(p.nonce()));
            case Frame.Pong p -> { }
            case Frame.Error e -> log.debug("supernode {} says: {}", c.peer().label(), e.message());
            default -> refuse(c, 0, ErrorCode.BAD_REQUEST, "frame " + f.getClass().getSimpleName() + " is not for a supernode peer");
        }
    }

    /** Sends a Deliver or RelayOffer to a device attached at another supernode. */
    private boolean forwardTo(String supernode, String toDevice, Frame inner) {
        if (supernode == null || supernode.isEmpty() || supernode.equals(advertised)) return false;
        try {
            HostPort.parse(supernode);
        } catch (RuntimeException e) {
            return false;
        }
        forwarded.increment();
        sendOverlay(supernode, new Frame.Forward(toDevice, FrameCodec.encode(inner)));
        return true;
    }

    private static String clean(String presence) {
        return switch (presence) {
            case "online", "away", "busy", "invisible" -> presence;
            default -> "online";
        };
    }

    private void route(Connection c, Attached a, Frame.Route r) {
        if (!a.routes.tryTake(System.nanoTime())) {
            refuse(c, r.requestId(), ErrorCode.RATE_LIMITED, "routing rate limit of " + config.routeRate() + "/s exceeded");
            return;
        }
        Connection target = byDevice.get(r.toDevice());
        Frame.Deliver d = new Frame.Deliver(a.deviceId, c.peer().encoded(), r.payload());
        if (target == null || !target.isOpen()) {
            if (forwardTo(r.viaSupernode(), r.toDevice(), d)) {
                routed.increment();
                c.send(new Frame.Routed(r.requestId()));
                return;
            }
            refuse(c, r.requestId(), ErrorCode.OFFLINE, "device " + r.toDevice() + " is not attached here");
            return;
        }
        routed.increment();
        target.send(d);
        c.send(new Frame.Routed(r.requestId()));
    }

    /**
     * Allocates a relay session between the requesting device and {@code toDevice}, which must be attached
     * here: the requester gets one token, the target the other (in a RelayOffer). The relay forwards only
     * the two devices' QUIC packets, which are end-to-end encrypted between them.
     */
    private void openRelay(Connection c, Attached a, Frame.RelayOpen r) {
        if (relay == null) {
            refuse(c, r.requestId(), ErrorCode.NOT_FOUND, "this supernode runs no relay");
            return;
        }
        if (!a.routes.tryTake(System.nanoTime())) {
            refuse(c, r.requestId(), ErrorCode.RATE_LIMITED, "request rate limit of " + config.routeRate() + "/s exceeded");
            return;
        }
        Connection target = byDevice.get(r.toDevice());
        boolean remote = target == null || !target.isOpen();
        if (r.toDevice().equals(a.deviceId) || (remote && (r.viaSupernode().isEmpty() || r.viaSupernode().equals(advertised)))) {
            refuse(c, r.requestId(), ErrorCode.OFFLINE, "device " + r.toDevice() + " is not attached here");
            return;
        }
        if (relayBytesPerSecond >= config.relayBandwidth()) {
            busy.increment();
            c.send(new Frame.Busy(r.requestId(), 2000, List.of(), "relay at its bandwidth capacity of "
                    + config.relayBandwidth() + " bytes/s"));
            return;
        }
        Allocation alloc;
        try {
            alloc = relay.allocate(a.deviceId, r.toDevice());
        } catch (RelayFullException e) {
            refuse(c, r.requestId(), ErrorCode.OVER_CAPACITY, e.getMessage());
            return;
        }
        relayOpens.increment();
        String address = HostPort.of(relay.address()).toString();
        Frame.RelayOffer offer = new Frame.RelayOffer(alloc.sessionId(), a.deviceId, address, alloc.tokenB());
        if (remote) {
            // the relay's address must be reachable by the other side: a wildcard host becomes ours
            if (relay.address().getAddress().isAnyLocalAddress()) {
                offer = new Frame.RelayOffer(alloc.sessionId(), a.deviceId,
                        HostPort.parse(advertised).host() + ":" + relay.address().getPort(), alloc.tokenB());
            }
            forwardTo(r.viaSupernode(), r.toDevice(), offer);
        } else {
            target.send(offer);
        }
        c.send(new Frame.RelayAllocated(r.requestId(), alloc.sessionId(), address, alloc.tokenA()));
    }

    private void presence(Connection c, Attached a, String presence) {
        directory.device(a.deviceId).ifPresent(r -> directory.register(new DeviceRecord(r.deviceId(), r.user(),
                clean(presence), r.observedAddress(), r.localAddresses(), r.certificate(), r.sinceMillis())));
        notifyWatchers(a.user, a.deviceId, clean(presence), true);
    }

    private void subscribe(Connection c, Attached a, List<String> users) {
        Set<String> next = Set.copyOf(users.stream().limit(org.parley.protocol.Limits.MAX_LIST).toList());
        for (String u : a.watching) {
            Set<Connection> w = watchers.get(u);
            if (w != null) w.remove(c);
        }
        a.watching = next;
        for (String u : next) {
            watchers.computeIfAbsent(u, k -> ConcurrentHashMap.newKeySet()).add(c);
            for (DeviceRecord r : directory.lookup(u)) {
                c.send(new Frame.PresenceEvent(u, r.deviceId(), r.presence(), true));
            }
        }
        overlayExec.execute(() -> {
            for (String u : next) remoteWatched.remove(u); // report current remote presence to the new watcher
            pollRemotePresence(List.copyOf(next));
        });
    }

    private void notifyWatchers(String user, String deviceId, String presence, boolean online) {
        Set<Connection> w = watchers.get(user);
        if (w == null) return;
        Frame.PresenceEvent ev = new Frame.PresenceEvent(user, deviceId, presence, online);
        for (Connection c : w) {
            if (c.isOpen()) c.send(ev);
        }
    }

    @Override
    public void closed(Connection c) {
        if (c.peer() != null && c.peer().role() == Role.SUPERNODE) {
            peers.entrySet().removeIf(e -> e.getValue().isDone() && !e.getValue().isCompletedExceptionally()
                    && e.getValue().join() == c);
            return;
        }
        Attached a = (Attached) c.attachment();
        if (a == null) return;
        for (String u : a.watching) {
            Set<Connection> w = watchers.get(u);
            if (w != null) w.remove(c);
        }
        if (byDevice.remove(a.deviceId, c)) {
            overlayExec.execute(() -> {
                if (!byDevice.containsKey(a.deviceId)) service.detach(a.deviceId);
            });
            directory.unregister(a.deviceId, a.since);
            notifyWatchers(a.user, a.deviceId, "offline", false);
            log.debug("detached {}", a.user);
        }
    }

    // ---- housekeeping: certificate expiry of attached clients, own renewal ----

    private void housekeeping() {
        try {
            long now = clock.millis();
            for (Connection c : byDevice.values()) {
                if (c.peer().notAfter().toEpochMilli() < now) {
                    c.send(new Frame.Error(0, ErrorCode.UNAUTHORIZED.code, "certificate expired; renew and re-attach"))
                            .whenComplete((v, t) -> c.close());
                }
            }
            watchers.values().removeIf(Set::isEmpty);
            for (Connection c : byDevice.values()) {
                if (!c.isOpen()) closed(c); // a close that raced with admission
            }
            if (relay != null) {
                long b = relay.forwardedBytes();
                if (relayBytesAt > 0) relayBytesPerSecond = (b - relayBytesMark) * 1000 / Math.max(1, now - relayBytesAt);
                relayBytesMark = b;
                relayBytesAt = now;
            }
            if (clock.instant().isAfter(credentials.renewAt())) renewNow();
        } catch (RuntimeException e) {
            log.warn("housekeeping failed: {}", e.toString());
        }
    }

    private long nextRenewalAttempt;

    private void renewNow() {
        long now = clock.millis();
        if (now < nextRenewalAttempt) return;
        try {
            var cert = credentials.renew(new LoginClient(credentials.networkFile()));
            if (identity != null) identity.update(credentials.privateKey(), cert);
            log.info("renewed supernode certificate, valid until {}", cert.getNotAfter().toInstant());
        } catch (LoginException e) {
            nextRenewalAttempt = now + 30_000;
            log.warn("certificate renewal failed ({}), retrying in 30 s: {}", e.code(), e.getMessage());
        }
    }

    @Override
    public void close() {
        closing = true;
        timer.shutdownNow();
        overlayExec.execute(overlay::stop);
        overlayExec.shutdown();
        MetricsEndpoint m = metricsEndpoint;
        if (m != null) m.close();
        node.close();
        if (relay != null) relay.close();
    }
}
