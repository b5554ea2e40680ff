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
import org.parley.identity.CertificateVerifier;
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

/** A running supernode. Start with {@link #start}; stop with {@link #close}. */
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
        this.node = QuicNode.bind(config.listen().toSocketAddress(), identity, verifier, null, this, options, registry);
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

    // ---- connection events (event loop: no blocking) ----

    @Override
    public void connected(Connection c) {
        // nothing until the client says Hello
    }

    @Override
    public void frame(Connection c, Frame f) {
        Attached a = (Attached) c.attachment();
        if (a == null) {
            if (f instanceof Frame.Hello h) hello(c, h);
            else refuse(c, 0, ErrorCode.UNAUTHORIZED, "send Hello first");
            return;
        }
        switch (f) {
            case Frame.Ping p -> c.send(new Frame.Pong(p.nonce()));
            case Frame.Pong p -> { }
            case Frame.Resolve r -> {
                resolves.increment();
                c.send(new Frame.Resolved(r.requestId(), r.user(), directory.lookup(r.user())));
            }
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
        if (peer.role() == Role.SUPERNODE) {
            refuse(c, 0, ErrorCode.BAD_REQUEST, "supernode peering is not served on this port");
            c.send(new Frame.Error(0, ErrorCode.BAD_REQUEST.code, "bye")).whenComplete((v, t) -> c.close());
            return;
        }
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
        Connection previous = byDevice.get(peer.deviceId());
        if (previous == null && byDevice.size() >= config.capacity()) {
            redirects.increment();
            int retry = 1000 + ThreadLocalRandom.current().nextInt(4000);
            List<String> alternatives = new ArrayList<>();
            InetSocketAddress me = address();
            for (HostPort s : credentials.networkFile().seeds()) {
                if (s.port() != me.getPort() || !s.host().equals(me.getHostString())) alternatives.add(s.toString());
            }
            c.send(new Frame.Redirect(retry, alternatives.subList(0, Math.min(alternatives.size(), 16)),
                    "supernode at capacity " + config.capacity())).whenComplete((v, t) -> c.close());
            return;
        }
        long since = clock.millis();
        Attached a = new Attached(peer.deviceId(), peer.user(), since,
                new TokenBucket(config.routeRate(), config.routeRate() * 2.0, System.nanoTime()));
        c.attach(a);
        String observed = HostPort.of(c.remoteAddress()).toString();
        List<String> locals = h.localAddresses().stream().limit(8).toList();
        directory.register(new DeviceRecord(peer.deviceId(), peer.user(), clean(h.presence()), observed, locals,
                peer.encoded(), since));
        byDevice.put(peer.deviceId(), c);
        if (previous != null && previous != c) {
            previous.attach(null);
            previous.close();
        }
        attaches.increment();
        c.send(new Frame.Welcome(id, observed, clock.millis(), (int) config.keepalive().toMillis()));
        notifyWatchers(peer.user(), peer.deviceId(), clean(h.presence()), true);
        log.debug("attached {} from {}", peer.label(), observed);
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
        if (target == null || !target.isOpen()) {
            refuse(c, r.requestId(), ErrorCode.OFFLINE, "device " + r.toDevice() + " is not attached here");
            return;
        }
        routed.increment();
        target.send(new Frame.Deliver(a.deviceId, c.peer().encoded(), r.payload()));
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
        if (target == null || !target.isOpen() || r.toDevice().equals(a.deviceId)) {
            refuse(c, r.requestId(), ErrorCode.OFFLINE, "device " + r.toDevice() + " is not attached here");
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
        target.send(new Frame.RelayOffer(alloc.sessionId(), a.deviceId, address, alloc.tokenB()));
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
        Attached a = (Attached) c.attachment();
        if (a == null) return;
        for (String u : a.watching) {
            Set<Connection> w = watchers.get(u);
            if (w != null) w.remove(c);
        }
        if (byDevice.remove(a.deviceId, c)) {
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
        timer.shutdownNow();
        MetricsEndpoint m = metricsEndpoint;
        if (m != null) m.close();
        node.close();
        if (relay != null) relay.close();
    }
}
