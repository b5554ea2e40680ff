package org.parley.client;

import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;
import org.parley.identity.HostPort;
import org.parley.identity.Keys;
import org.parley.identity.Role;
import org.parley.protocol.ControlDatagram;
import org.parley.protocol.DeviceRecord;
import org.parley.protocol.Frame;
import org.parley.transport.Connection;
import org.parley.transport.ConnectionHandler;
import org.parley.transport.QuicNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The peer-to-peer sessions of one device: for each peer device at most one direct QUIC connection
 * (found by supernode-coordinated hole punching, or on the LAN) and one relayed QUIC connection through
 * a supernode's relay, the direct one preferred. Everything runs on the daemon's worker thread; network
 * callbacks hand their work to it.
 *
 * <p>Establishment: the side that wants a session sends a {@link Frame.Connect} (sealed, via the
 * supernode) with its observed and local addresses; both sides then send PUNCH datagrams from their
 * one port to every address of the other for {@link #PUNCH_WINDOW}. The device with the lower id dials:
 * at once to the source of the first punch it receives (that source is the peer's real mapping, which
 * also covers symmetric NATs on the other side), and to every known address after {@link #DIAL_DELAY}.
 * If no direct connection is up after {@link #RELAY_DEADLINE}, the dialer asks its supernode for a relay
 * session and dials through it; punching is retried in the background every
 * {@link #UPGRADE_INTERVAL} (jittered), and a direct connection that comes up replaces the relayed one,
 * which is closed after a grace period. Every connection is pinged each second; one that is silent for
 * {@link #DEAD_AFTER} is closed, and the session falls back to the relay (or back to direct).
 */
final class PeerSessions {
    private static final Logger log = LoggerFactory.getLogger(PeerSessions.class);
    static final Duration PUNCH_WINDOW = Duration.ofMillis(2500);
    static final Duration PUNCH_EVERY = Duration.ofMillis(100);
    static final Duration DIAL_DELAY = Duration.ofMillis(250);
    static final Duration RELAY_DEADLINE = Duration.ofMillis(1000);
    static final Duration UPGRADE_INTERVAL = Duration.ofSeconds(10);
    static final Duration PING_EVERY = Duration.ofSeconds(1);
    static final Duration DEAD_AFTER = Duration.ofMillis(4500);
    static final Duration RELAY_GRACE = Duration.ofSeconds(3);
    static final int MAX_LOCALS = 8;
    static final int MAX_TARGETS = 16;

    /** What the sessions need from the daemon. */
    interface Signals {
        /** Seals {@code f} for the device and routes it through the supernode; false without a supernode link. */
        boolean route(String deviceId, Frame f);

        /** Asks the supernode for a relay session with the device. */
        CompletableFuture<Frame.RelayAllocated> openRelay(String deviceId);

        String observedAddress();

        List<String> localAddresses();

        /** The relay's address as the supernode gave it, with a wildcard host replaced by the supernode's. */
        InetSocketAddress relayAddress(String given);

        /** Label of the supernode whose relay is used (id and address). */
        String supernodeLabel();

        /** A session with a device came up or changed path: sync with it and deliver what waits. */
        void sessionUp(Connection c);
    }

    /** Per-session status. */
    record Info(String user, String deviceId, String path, String via, String remote, Connection connection,
                long sinceMillis, int pathChanges) {}

    private static final class Link {
        final String device;
        String user;
        Connection direct;
        String directKind;
        Connection relayed;
        String relayVia;
        String path = "none";
        String lastRealPath;
        long downSince;
        long since;
        int pathChanges;
        String observed;
        final Set<String> locals = new LinkedHashSet<>();
        Attempt attempt;
        long nextUpgrade;
        boolean relayPending;
        long relayRetryAt;

        Link(String device) {
            this.device = device;
        }

        Connection active() {
            if (direct != null && direct.isOpen()) return direct;
            if (relayed != null && relayed.isOpen()) return relayed;
            return null;
        }
    }

    private static final class Attempt {
        final String id;
        final long started;
        final Set<InetSocketAddress> targets = new LinkedHashSet<>();
        final Set<InetSocketAddress> dialed = new LinkedHashSet<>();

        Attempt(String id, long started) {
            this.id = id;
            this.started = started;
        }
    }

    private final QuicNode node;
    private final ScheduledExecutorService worker;
    private final Clock clock;
    private final RandomGenerator random;
    private final String myDevice;
    private final byte[] myDeviceBytes;
    private final Duration dialTimeout;
    private final boolean directAllowed;
    private final ConnectionHandler handler;
    private final Signals signals;
    private final Map<String, Link> links = new ConcurrentHashMap<>();
    private final Map<Connection, Long> lastHeard = new ConcurrentHashMap<>();
    private final Map<Connection, Long> lastPing = new ConcurrentHashMap<>();
    /** False while the user works offline: no dials, no accepted sessions, no upkeep. */
    private volatile boolean enabled = true;

    PeerSessions(QuicNode node, ScheduledExecutorService worker, Clock clock, RandomGenerator random, String myDevice,
                 Duration dialTimeout, boolean directAllowed, ConnectionHandler handler, Signals signals) {
        this.directAllowed = directAllowed;
        this.node = node;
        this.worker = worker;
        this.clock = clock;
        this.random = random;
        this.myDevice = myDevice;
        this.myDeviceBytes = ControlDatagram.deviceBytes(myDevice);
        this.dialTimeout = dialTimeout;
        this.handler = handler;
        this.signals = signals;
        node.onPunch((p, from) -> worker.execute(() -> onPunch(p, from)));
    }

    private boolean dialer(String device) {
        return myDevice.compareTo(device) < 0;
    }

    private Link link(String device, String user) {
        Link l = links.computeIfAbsent(device, Link::new);
        if (user != null) l.user = user;
        return l;
    }

    /**
     * Work offline ({@code false}): closes every peer session and path attempt and refuses new ones until enabled
     * again. Worker thread.
     */
    void setEnabled(boolean on) {
        enabled = on;
        if (on) return;
        for (Link l : links.values()) {
            for (Connection c : new Connection[] {l.direct, l.relayed}) if (c != null) c.close();
        }
        links.clear();
        lastHeard.clear();
        lastPing.clear();
    }

    // ------------------------------------------------------------------ queries

    /** The connection to use for one device now (direct when up, else relayed), or null. Any thread. */
    Connection activeFor(String device) {
        Link l = links.get(device);
        return l == null ? null : l.active();
    }

    /** The connection to use for each device of {@code user}: direct when up, else relayed. */
    List<Connection> active(String user) {
        List<Connection> out = new ArrayList<>();
        for (Link l : links.values()) {
            if (!user.equals(l.user)) continue;
            Connection c = l.active();
            if (c != null) out.add(c);
        }
        return out;
    }

    List<Info> infos() {
        List<Info> out = new ArrayList<>();
        for (Link l : links.values()) {
            Connection c = l.active();
            if (c == null || l.user == null) continue;
            boolean direct = c == l.direct;
            out.add(new Info(l.user, l.device, direct ? l.directKind : "relayed", direct ? null : l.relayVia,
                    HostPort.of(c.remoteAddress()).toString(), c, l.since, l.pathChanges));
        }
        return out;
    }

    // ------------------------------------------------------------------ establishment

    /** We want a session with this device (it has messages waiting, or a call). Worker thread. */
    void ensure(DeviceRecord d) {
        if (!enabled) return;
        Link l = link(d.deviceId(), d.user());
        if (d.observedAddress() != null && !d.observedAddress().isBlank()) l.observed = d.observedAddress();
        setLocals(l, d.localAddresses());
        if (l.active() != null || l.attempt != null) return;
        long now = clock.millis();
        if (l.relayPending || now < l.relayRetryAt) return;
        if (!directAllowed) {
            // relay only: the dialer opens the relay; the other side asks it to
            if (dialer(l.device)) openRelay(l);
            else if (now >= l.nextUpgrade) {
                l.nextUpgrade = now + 5_000;
                signals.route(l.device, new Frame.Connect(newAttemptId(), false, "", List.of()));
            }
            return;
        }
        startAttempt(l, newAttemptId(), true);
    }

    /** The peer's latest local addresses, at most {@link #MAX_LOCALS}: a peer cannot make us punch a whole list. */
    private static void setLocals(Link l, List<String> locals) {
        l.locals.clear();
        for (String a : locals) {
            if (l.locals.size() >= MAX_LOCALS) break;
            l.locals.add(a);
        }
    }

    private String newAttemptId() {
        byte[] b = new byte[16];
        Keys.RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    private void startAttempt(Link l, String id, boolean announce) {
        long now = clock.millis();
        Attempt a = new Attempt(id, now);
        l.attempt = a;
        refreshTargets(l, a);
        if (announce) sendConnect(l, id, false);
        log.debug("attempt {} with {}: targets {}", id, l.device, a.targets);
        punchRound(l, a);
        if (dialer(l.device)) {
            scheduleDials(l, a);
            worker.schedule(() -> deadline(l, a), RELAY_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
        }
        worker.schedule(() -> {
            if (l.attempt == a) {
                l.attempt = null;
                l.nextUpgrade = clock.millis() + jittered(UPGRADE_INTERVAL);
            }
        }, PUNCH_WINDOW.toMillis() + dialTimeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** After {@link #DIAL_DELAY}, dials every known address of the attempt not dialed yet (punches may not come). */
    private void scheduleDials(Link l, Attempt a) {
        worker.schedule(() -> {
            if (l.attempt == a && (l.direct == null || !l.direct.isOpen())) {
                for (InetSocketAddress t : List.copyOf(a.targets)) dial(l, a, t);
            }
        }, DIAL_DELAY.toMillis(), TimeUnit.MILLISECONDS);
    }

    private long jittered(Duration d) {
        long ms = d.toMillis();
        return ms - ms / 5 + random.nextLong(ms / 5 * 2 + 1);
    }

    private void refreshTargets(Link l, Attempt a) {
        Set<String> mine = new LinkedHashSet<>(signals.localAddresses());
        String obs = signals.observedAddress();
        if (obs != null) mine.add(obs);
        List<String> all = new ArrayList<>();
        if (l.observed != null) all.add(l.observed);
        all.addAll(l.locals);
        for (String s : all) {
            if (mine.contains(s)) continue;
            try {
                a.targets.add(HostPort.parse(s).toSocketAddress());
            } catch (IllegalArgumentException e) {
                // skip an unusable address
            }
        }
    }

    private void sendConnect(Link l, String id, boolean reply) {
        String obs = directAllowed ? signals.observedAddress() : null;
        signals.route(l.device, new Frame.Connect(id, reply, obs == null ? "" : obs,
                directAllowed ? signals.localAddresses() : List.of()));
    }

    private void punchRound(Link l, Attempt a) {
        if (l.attempt != a || clock.millis() - a.started > PUNCH_WINDOW.toMillis()) return;
        if (l.direct != null && l.direct.isOpen()) return;
        ControlDatagram.Punch p = new ControlDatagram.Punch(HexFormat.of().parseHex(a.id), myDeviceBytes);
        for (InetSocketAddress t : a.targets) node.sendControl(t, p);
        worker.schedule(() -> punchRound(l, a), PUNCH_EVERY.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void deadline(Link l, Attempt a) {
        if (l.attempt != a) return;
        if (l.direct != null && l.direct.isOpen()) return;
        if (l.relayed != null && l.relayed.isOpen()) return;
        openRelay(l);
    }

    /** A peer's Connect arrived (sealed, via the supernode). Worker thread. */
    void onConnect(String device, String user, Frame.Connect c) {
        if (!enabled) return;
        Link l = link(device, user);
        if (!c.observedAddress().isBlank()) l.observed = c.observedAddress();
        if (!c.localAddresses().isEmpty()) setLocals(l, c.localAddresses());
        if (!c.reply()) sendConnect(l, c.attemptId(), true);
        boolean peerDirect = !c.observedAddress().isBlank() || !c.localAddresses().isEmpty();
        if (!directAllowed || !peerDirect) {
            // one side keeps its addresses to itself: relay only
            if (dialer(device) && l.active() == null) openRelay(l);
            return;
        }
        if (l.attempt == null) {
            if (!c.attemptId().matches("[0-9a-f]{32}")) return;
            startAttempt(l, c.attemptId(), false);
        } else {
            refreshTargets(l, l.attempt);
            if (dialer(device) && l.direct == null) scheduleDials(l, l.attempt);
        }
    }

    private void onPunch(ControlDatagram.Punch p, InetSocketAddress from) {
        if (!enabled) return;
        String device = p.senderDeviceHex();
        Link l = links.get(device);
        if (l == null || device.equals(myDevice)) return; // nobody we are talking to
        Attempt a = l.attempt;
        if (a == null) return;
        if (a.targets.size() >= MAX_TARGETS && !a.targets.contains(from)) return;
        if (a.targets.add(from)) log.debug("learned peer-reflexive address {} of {}", from, device);
        if (dialer(device) && (l.direct == null || !l.direct.isOpen())) dial(l, a, from);
    }

    private void dial(Link l, Attempt a, InetSocketAddress target) {
        if (!a.dialed.add(target)) return;
        // any role of this network (users and archive nodes): the device id checked below pins the peer
        node.dial(target, null, handler, dialTimeout).whenCompleteAsync((c, t) -> {
            if (t != null) {
                log.debug("direct dial of {} at {} failed: {}", l.device, target, t.getMessage());
                return;
            }
            if (!c.peer().deviceId().equals(l.device)) {
                log.info("peer at {} is {}, not device {}", target, c.peer().label(), l.device);
                c.close();
                return;
            }
            c.send(new Frame.Hello(ClientDaemon.CLIENT_VERSION, "online", List.of()));
            up(c);
        }, worker);
    }

    // ------------------------------------------------------------------ relay

    private void openRelay(Link l) {
        if (!dialer(l.device) || l.relayPending) return;
        l.relayPending = true;
        signals.openRelay(l.device).thenCompose(alloc -> {
            InetSocketAddress relay = signals.relayAddress(alloc.relayAddress());
            return node.dialViaRelay(relay, alloc.token(), null, handler, Duration.ofSeconds(5));
        }).whenCompleteAsync((c, t) -> {
            l.relayPending = false;
            if (t != null) {
                Throwable cause = t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
                log.info("relay to {} failed: {}", l.device, cause.getMessage());
                l.relayRetryAt = clock.millis() + jittered(Duration.ofSeconds(5));
                return;
            }
            if (!c.peer().deviceId().equals(l.device)) {
                c.close();
                return;
            }
            c.send(new Frame.Hello(ClientDaemon.CLIENT_VERSION, "online", List.of()));
            up(c);
        }, worker);
    }

    /** The supernode offers us the other side of a relay session a peer opened. Worker thread. */
    void onRelayOffer(Frame.RelayOffer o) {
        if (!enabled) return;
        InetSocketAddress relay;
        try {
            relay = signals.relayAddress(o.relayAddress());
        } catch (IllegalArgumentException e) {
            log.info("ignoring relay offer with bad address {}", o.relayAddress());
            return;
        }
        node.acceptViaRelay(relay, o.token(), Duration.ofSeconds(10)).whenComplete((v, t) -> {
            if (t != null) log.info("cannot take relay session from {}: {}", o.fromDevice(), t.getMessage());
        });
    }

    // ------------------------------------------------------------------ connection lifecycle

    /** A connection with a peer is up (dialed or accepted, direct or relayed). Worker thread. */
    void up(Connection c) {
        String device = c.peer().deviceId();
        if (device.equals(myDevice) || !enabled) {
            c.close();
            return;
        }
        if (!directAllowed && c.relayAddress() == null) {
            c.close(); // relay only: no direct connections, in or out
            return;
        }
        Link l = link(device, c.peer().user());
        long now = clock.millis();
        lastHeard.put(c, now);
        if (c.relayAddress() != null) {
            Connection old = l.relayed;
            l.relayed = c;
            l.relayVia = signals.supernodeLabel() + " relay " + HostPort.of(c.relayAddress());
            if (old != null && old != c) old.close();
        } else {
            Connection old = l.direct;
            if (old != null && old != c && old.isOpen()) {
                // both ends dialed or a second dial won: keep the newest, close the other
                old.close();
            }
            l.direct = c;
            l.directKind = kind(l, c.remoteAddress());
            if (l.relayed != null) {
                Connection r = l.relayed;
                worker.schedule(() -> {
                    if (l.direct != null && l.direct.isOpen() && l.relayed == r) {
                        l.relayed = null;
                        r.close();
                    }
                }, RELAY_GRACE.toMillis(), TimeUnit.MILLISECONDS);
            }
        }
        pathChanged(l);
        signals.sessionUp(c);
    }

    private String kind(Link l, InetSocketAddress remote) {
        String hp = HostPort.of(remote).toString();
        return l.locals.contains(hp) && !hp.equals(l.observed) ? "direct-lan" : "direct-punched";
    }

    private void pathChanged(Link l) {
        Connection a = l.active();
        String p = a == null ? "none" : a == l.direct ? l.directKind : "relayed";
        if (p.equals(l.path)) return;
        log.info("session with {} ({}): {} -> {}", l.user, l.device, l.path, p);
        if (!"none".equals(p)) {
            // a change is a move between real paths, even with a moment of "none" between them
            if (l.lastRealPath != null && !l.lastRealPath.equals(p)) l.pathChanges++;
            if (l.lastRealPath == null || "none".equals(l.path)) l.since = clock.millis();
            l.lastRealPath = p;
        }
        if ("none".equals(p)) l.downSince = clock.millis();
        l.path = p;
    }

    /** A frame arrived on a peer connection (any thread). */
    void heard(Connection c) {
        lastHeard.put(c, clock.millis());
    }

    /** A peer connection closed. Worker thread. */
    void closed(Connection c) {
        lastHeard.remove(c);
        lastPing.remove(c);
        Link l = links.get(c.peer().deviceId());
        if (l == null) return;
        boolean wasDirect = l.direct == c;
        if (wasDirect) l.direct = null;
        if (l.relayed == c) l.relayed = null;
        pathChanged(l);
        if (wasDirect) {
            // the direct path died: carry on through the relay at once, and try direct again later
            log.info("direct path to {} lost", l.device);
            if (l.relayed == null) {
                if (dialer(l.device)) openRelay(l);
                else sendConnect(l, newAttemptId(), false);
            }
            l.nextUpgrade = clock.millis() + jittered(UPGRADE_INTERVAL);
        }
    }

    /** Liveness and background upgrades; called every few hundred ms on the worker. */
    void tick() {
        if (!enabled) return;
        long now = clock.millis();
        for (Link l : links.values()) {
            for (Connection c : new Connection[] {l.direct, l.relayed}) {
                if (c == null) continue;
                if (!c.isOpen()) {
                    closed(c);
                    continue;
                }
                long heard = lastHeard.getOrDefault(c, now);
                if (now - heard > DEAD_AFTER.toMillis()) {
                    log.info("{} path to {} silent for {} ms; closing it", c.relayAddress() == null ? "direct" : "relayed",
                            l.device, now - heard);
                    c.close();
                    closed(c);
                    continue;
                }
                long pinged = lastPing.getOrDefault(c, 0L);
                if (now - pinged >= PING_EVERY.toMillis()) {
                    lastPing.put(c, now);
                    c.send(new Frame.Ping(System.nanoTime()));
                }
            }
            boolean directUp = l.direct != null && l.direct.isOpen();
            boolean relayUp = l.relayed != null && l.relayed.isOpen();
            if (!directAllowed) continue;
            if (!directUp && relayUp && l.attempt == null && now >= l.nextUpgrade) {
                // background upgrade: try direct again without touching the relayed connection
                startAttempt(l, newAttemptId(), true);
            } else if (!directUp && !relayUp && l.attempt == null && !l.relayPending && now >= l.relayRetryAt
                    && l.path.equals("none") && l.since != 0 && now - l.downSince < 60_000 && dialer(l.device)) {
                // we had a session and lost every path: rebuild it for a minute (queued messages restart it later)
                startAttempt(l, newAttemptId(), true);
            }
        }
    }
}
