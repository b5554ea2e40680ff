package org.parley.supernode.relay;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.channel.unix.UnixChannelOption;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.net.BindException;
import java.net.DatagramSocket;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.parley.protocol.ControlDatagram;
import org.parley.protocol.WireFormatException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TURN-like UDP relay for clients that cannot hole-punch. The supernode {@link #allocate allocates} a
 * session with two random tokens and hands one to each client over its control connection; each client
 * sends {@code RELAY_BIND(token)} from the UDP socket it will use for the session; the relay records that
 * source address as the token's side and answers {@code RELAY_BOUND} (flag: the other side is bound too).
 * Once both sides are bound, every datagram that is not a control datagram is forwarded, unchanged, from
 * side A's address to side B's and back. A bind from a new source address moves that side (NAT
 * rebinding). When the second side binds for the first time the first side is told with an unsolicited
 * {@code RELAY_BOUND(its token, peer bound)}, so that it need not wait for its next bind.
 *
 * <p>Limits ({@link RelayConfig}): a per-session token bucket on bytes (datagrams over it are dropped), a
 * per-session total after which both sides get {@code RELAY_DENY(reason 2)} and the session is removed, and
 * expiry of sessions not bound by both sides within the bind timeout or idle (nothing forwarded) for the
 * idle timeout (binds are not activity: a session lives on forwarded datagrams; the idle timer starts when
 * both sides are bound). Unknown or expired tokens get {@code RELAY_DENY(reason 1)}. Everything else that is not
 * forwardable — datagrams from unbound sources, malformed control datagrams, control datagrams other than
 * {@code RELAY_BIND}, empty datagrams and datagrams of {@link #MAX_DATAGRAM_BYTES}+1 bytes or more (they may
 * have been truncated) — is dropped and counted; nothing a remote sends can stop a channel.
 *
 * <p>Threads: {@link RelayConfig#threads()} epoll event loops, each with its own unconnected socket bound
 * with SO_REUSEPORT to the relay port, so the kernel spreads the 4-tuples over all cores. Reads use
 * recvmmsg (up to {@value #READ_BATCH} datagrams per call) and forwarding writes are flushed once per read
 * batch, which Netty turns into sendmmsg; a forwarded datagram is the received buffer itself (no copy).
 * Each socket asks for 4 MB receive and send buffers (the kernel caps them at net.core.rmem_max and
 * wmem_max); an IPv4 bind address gets AF_INET sockets (no IPv4-mapped addresses on every datagram).
 * Session state lives in concurrent maps keyed by token and by source address; binds, removals and
 * allocations take one lock, forwarding takes only the session's monitor for its counters.
 *
 * <p>Metrics: gauge {@code parley_relay_sessions}; counters {@code parley_relay_packets} and
 * {@code parley_relay_bytes} (forwarded), {@code parley_relay_binds} (accepted binds, keepalives included),
 * {@code parley_relay_dropped} tagged {@code reason} = {@code unbound}, {@code rate}, {@code limit},
 * {@code garbage} or {@code overflow} (the socket's send queue was over its high-water mark).
 */
public final class UdpRelay implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(UdpRelay.class);

    /** Bytes of each receive slot of recvmmsg. */
    static final int SLOT_BYTES = 2048;
    /** The largest datagram forwarded; a datagram that fills a whole receive slot may have been truncated. */
    public static final int MAX_DATAGRAM_BYTES = SLOT_BYTES - 1;
    /** Datagrams per recvmmsg call. */
    static final int READ_BATCH = 32;
    /** Datagrams handled per wake-up of a channel before its writes are flushed. */
    static final int MAX_MESSAGES_PER_READ = 256;
    static final int SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;
    static final long SWEEP_PERIOD_MILLIS = 1000;

    private static final int TOKEN_BYTES = ControlDatagram.ID_BYTES;

    private final RelayConfig config;
    private final Clock clock;
    private final MeterRegistry registry;
    private final EventLoopGroup group;
    private final List<Channel> channels = new ArrayList<>();
    private final InetSocketAddress address;
    private final SecureRandom random = new SecureRandom();
    private final Object lock = new Object();
    private final Map<Long, RelaySession> byId = new ConcurrentHashMap<>();
    private final Map<RelaySession.Token, RelaySession.Side> byToken = new ConcurrentHashMap<>();
    private final Map<InetSocketAddress, RelaySession.Side> bySource = new ConcurrentHashMap<>();
    private long nextId = 1; // guarded by lock
    private volatile boolean closed;
    private ScheduledFuture<?> sweeper;

    private final Gauge sessionsGauge;
    private final Counter packets;
    private final Counter bytes;
    private final Counter binds;
    private final Counter droppedUnbound;
    private final Counter droppedRate;
    private final Counter droppedLimit;
    private final Counter droppedGarbage;
    private final Counter droppedOverflow;

    private UdpRelay(RelayConfig config, MeterRegistry registry, Clock clock, InetSocketAddress bindTo) throws IOException {
        this.config = config;
        this.clock = clock;
        this.registry = registry;
        this.sessionsGauge = Gauge.builder("parley_relay_sessions", byId, Map::size)
                .description("relay sessions allocated (bound or not)").register(registry);
        this.packets = Counter.builder("parley_relay_packets").description("datagrams forwarded by the relay").register(registry);
        this.bytes = Counter.builder("parley_relay_bytes").description("bytes forwarded by the relay").register(registry);
        this.binds = Counter.builder("parley_relay_binds").description("RELAY_BIND datagrams accepted").register(registry);
        this.droppedUnbound = dropped(registry, "unbound");
        this.droppedRate = dropped(registry, "rate");
        this.droppedLimit = dropped(registry, "limit");
        this.droppedGarbage = dropped(registry, "garbage");
        this.droppedOverflow = dropped(registry, "overflow");
        this.group = new MultiThreadIoEventLoopGroup(config.threads(), EpollIoHandler.newFactory());
        try {
            // an IPv4 address gets an AF_INET socket: no IPv4-mapped IPv6 addresses to convert on every datagram
            SocketProtocolFamily family = bindTo.getAddress() instanceof Inet4Address ? SocketProtocolFamily.INET : null;
            Bootstrap b = new Bootstrap().group(group)
                    .channelFactory((ChannelFactory<EpollDatagramChannel>) () -> new EpollDatagramChannel(family))
                    .option(UnixChannelOption.SO_REUSEPORT, true)
                    .option(ChannelOption.SO_RCVBUF, SOCKET_BUFFER_BYTES)
                    .option(ChannelOption.SO_SNDBUF, SOCKET_BUFFER_BYTES)
                    .option(EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE, SLOT_BYTES)
                    .option(ChannelOption.RCVBUF_ALLOCATOR,
                            new FixedRecvByteBufAllocator(SLOT_BYTES * READ_BATCH).maxMessagesPerRead(MAX_MESSAGES_PER_READ))
                    .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(2 * 1024 * 1024, 8 * 1024 * 1024))
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new Forwarder());
                        }
                    });
            for (int i = 0; i < config.threads(); i++) channels.add(b.bind(bindTo).sync().channel());
            this.address = (InetSocketAddress) channels.get(0).localAddress();
            this.sweeper = group.next().scheduleAtFixedRate(this::sweepQuietly, SWEEP_PERIOD_MILLIS, SWEEP_PERIOD_MILLIS,
                    TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            for (Channel c : channels) c.close();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            registry.remove(sessionsGauge);
            if (e instanceof InterruptedException) Thread.currentThread().interrupt();
            if (e instanceof IOException io) throw io;
            throw new IOException("cannot start the relay on UDP " + bindTo + ": " + e.getMessage(), e);
        }
    }

    private static Counter dropped(MeterRegistry registry, String reason) {
        return Counter.builder("parley_relay_dropped").tag("reason", reason)
                .description("datagrams the relay dropped, by reason").register(registry);
    }

    /**
     * Starts a relay on {@code bind} (port 0: a free port). The port is chosen, or checked to be free, by a
     * plain socket without SO_REUSEPORT first — SO_REUSEPORT would silently share a port another socket of
     * this user holds — and then all {@link RelayConfig#threads()} sockets bind exactly that port. A taken
     * port is a one-line {@link BindException}.
     */
    public static UdpRelay start(InetSocketAddress bind, RelayConfig config, MeterRegistry registry, Clock clock)
            throws IOException {
        if (bind == null || config == null || registry == null || clock == null) {
            throw new IllegalArgumentException("relay start: bind address, config, registry and clock are required");
        }
        InetSocketAddress address = bind;
        try (DatagramSocket probe = new DatagramSocket(null)) {
            probe.setReuseAddress(false);
            probe.bind(bind);
            address = new InetSocketAddress(bind.getAddress(), probe.getLocalPort());
        } catch (IOException e) {
            throw new BindException("cannot listen on UDP " + bind.getHostString() + ":" + bind.getPort()
                    + ": address already in use");
        }
        return new UdpRelay(config, registry, clock, address);
    }

    /** The relay's UDP address (the port clients send binds and session datagrams to). */
    public InetSocketAddress address() {
        return address;
    }

    public RelayConfig config() {
        return config;
    }

    /**
     * Allocates a session between two devices (for status only; the relay does not check who binds, the
     * tokens are the credentials). Throws {@link RelayFullException} when {@link RelayConfig#maxSessions()}
     * sessions exist.
     */
    public Allocation allocate(String deviceA, String deviceB) throws RelayFullException {
        if (deviceA == null || deviceB == null) throw new IllegalArgumentException("relay allocate: both device ids are required");
        synchronized (lock) {
            if (closed) throw new IllegalStateException("relay is closed");
            if (byId.size() >= config.maxSessions()) throw new RelayFullException(config.maxSessions());
            byte[] ta;
            byte[] tb;
            do {
                ta = newToken();
                tb = newToken();
            } while (byToken.containsKey(RelaySession.Token.of(ta)) || byToken.containsKey(RelaySession.Token.of(tb))
                    || RelaySession.Token.of(ta).equals(RelaySession.Token.of(tb)));
            long id = nextId++;
            RelaySession s = new RelaySession(id, deviceA, deviceB, ta, tb, clock.millis(), config.burstBytes());
            byToken.put(s.a.key, s.a);
            byToken.put(s.b.key, s.b);
            byId.put(id, s);
            return new Allocation(id, ta, tb);
        }
    }

    private byte[] newToken() {
        byte[] t = new byte[TOKEN_BYTES];
        random.nextBytes(t);
        return t;
    }

    /** Removes a session (no datagram is sent; later binds with its tokens are denied). Unknown ids are ignored. */
    public void release(long sessionId) {
        RelaySession s = byId.get(sessionId);
        if (s != null) remove(s);
    }

    /** Sessions allocated now, bound or not. */
    public int sessions() {
        return byId.size();
    }

    /** A snapshot of every session, by id. */
    public List<SessionInfo> sessionInfos() {
        List<SessionInfo> l = new ArrayList<>();
        for (RelaySession s : byId.values()) l.add(s.info());
        l.sort(Comparator.comparingLong(SessionInfo::id));
        return l;
    }

    /**
     * Removes the sessions that expired by the injected clock: not bound by both sides within the bind
     * timeout, or bound and idle (nothing forwarded) for the idle timeout. Runs every second on an event
     * loop; callable directly (tests move their clock and call it). Returns how many sessions it removed.
     */
    public int sweep() {
        long now = clock.millis();
        long bindMs = config.bindTimeout().toMillis();
        long idleMs = config.idleTimeout().toMillis();
        int removed = 0;
        for (RelaySession s : byId.values()) {
            boolean expired = s.everBound ? now - s.lastActiveMillis >= idleMs : now - s.createdMillis >= bindMs;
            if (expired && remove(s)) {
                removed++;
                log.debug("relay session {} expired ({})", s.id, s.everBound ? "idle" : "not bound");
            }
        }
        return removed;
    }

    private void sweepQuietly() {
        try {
            sweep();
        } catch (RuntimeException e) {
            log.warn("relay sweep failed: {}", e.toString());
        }
    }

    /** Removes a session from every map; true if this call removed it. */
    private boolean remove(RelaySession s) {
        synchronized (lock) {
            if (s.removed) return false;
            s.removed = true;
            byId.remove(s.id, s);
            for (RelaySession.Side side : new RelaySession.Side[] {s.a, s.b}) {
                byToken.remove(side.key, side);
                InetSocketAddress a = side.address;
                if (a != null) bySource.remove(a, side);
            }
            return true;
        }
    }

    /** Datagrams forwarded so far (for status). */
    public long forwardedPackets() {
        return (long) packets.count();
    }

    /** Bytes forwarded so far (for the relay bandwidth admission). */
    public long forwardedBytes() {
        return (long) bytes.count();
    }

    /** Relay sockets still open (one per thread while running; for tests). */
    int openChannels() {
        int n = 0;
        for (Channel c : channels) if (c.isOpen()) n++;
        return n;
    }

    @Override
    public void close() {
        synchronized (lock) {
            if (closed) return;
            closed = true;
        }
        if (sweeper != null) sweeper.cancel(false);
        for (Channel c : channels) c.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        synchronized (lock) {
            for (RelaySession s : byId.values()) s.removed = true;
            byId.clear();
            byToken.clear();
            bySource.clear();
        }
        registry.remove(sessionsGauge);
    }

    // ------------------------------------------------------------------------------------------ data path

    /** Binds {@code sender} to the side of {@code token} and writes the answer (not flushed). */
    private void bind(byte[] token, InetSocketAddress sender, ChannelHandlerContext ctx) {
        RelaySession.Side side;
        boolean peerBound;
        InetSocketAddress notifyPeer = null;
        synchronized (lock) {
            side = byToken.get(RelaySession.Token.of(token));
            if (side == null || side.session.removed) {
                side = null;
                peerBound = false;
            } else {
                RelaySession s = side.session;
                RelaySession.Side peer = side.peer();
                InetSocketAddress old = side.address;
                boolean wasBoth = old != null && peer.address != null;
                if (!sender.equals(old)) {
                    if (old != null) bySource.remove(old, side);
                    RelaySession.Side prev = bySource.put(sender, side);
                    // the address belonged to another side (a client reusing its socket): it moves here
                    if (prev != null && prev != side && sender.equals(prev.address)) prev.address = null;
                    side.address = sender;
                }
                peerBound = peer.address != null;
                if (peerBound && !wasBoth) {
                    if (!s.everBound) {
                        s.everBound = true;
                        s.lastActiveMillis = Math.max(s.lastActiveMillis, clock.millis());
                    }
                    if (!peer.address.equals(sender)) notifyPeer = peer.address;
                }
            }
        }
        if (side == null) {
            send(ctx, new ControlDatagram.RelayDeny(token, ControlDatagram.DENY_UNKNOWN_TOKEN), sender);
            return;
        }
        binds.increment();
        send(ctx, new ControlDatagram.RelayBound(token, peerBound), sender);
        if (notifyPeer != null) send(ctx, new ControlDatagram.RelayBound(side.peer().token, true), notifyPeer);
    }

    private static void send(ChannelHandlerContext ctx, ControlDatagram d, InetSocketAddress to) {
        ctx.write(new DatagramPacket(Unpooled.wrappedBuffer(ControlDatagram.encode(d)), to), ctx.voidPromise());
    }

    /** Per-channel handler: runs on its channel's event loop only, so its counters need no synchronisation. */
    private final class Forwarder extends ChannelInboundHandlerAdapter {
        private long fwdPackets;
        private long fwdBytes;
        private long dropUnbound;
        private long dropRate;
        private long dropLimit;
        private long dropGarbage;
        private long dropOverflow;
        private boolean pendingWrites;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof DatagramPacket p)) {
                ReferenceCountUtil.release(msg);
                dropGarbage++;
                return;
            }
            boolean forwarded = false;
            try {
                forwarded = handle(ctx, p);
            } catch (RuntimeException e) {
                dropGarbage++;
                log.debug("relay: dropped a datagram from {}: {}", p.sender(), e.toString());
            } finally {
                if (!forwarded) p.release();
            }
        }

        /** Returns true when the packet's buffer was handed to a write. */
        private boolean handle(ChannelHandlerContext ctx, DatagramPacket p) {
            ByteBuf c = p.content();
            int len = c.readableBytes();
            if (len == 0 || len > MAX_DATAGRAM_BYTES) {
                dropGarbage++;
                return false;
            }
            InetSocketAddress sender = p.sender();
            int r = c.readerIndex();
            // the same test as ControlDatagram.isControl, without a ByteBuffer per datagram
            if (len >= ControlDatagram.HEADER && c.getByte(r) == 0 && c.getByte(r + 1) == 'P' && c.getByte(r + 2) == 'L'
                    && c.getByte(r + 3) == 'Y') {
                control(ctx, c, sender);
                return false;
            }
            RelaySession.Side from = bySource.get(sender);
            InetSocketAddress to = from == null ? null : from.peer().address;
            if (to == null || from.session.removed) {
                dropUnbound++;
                return false;
            }
            RelaySession s = from.session;
            switch (s.admit(from.isA, len, clock.millis(), config)) {
                case RelaySession.RATE -> {
                    dropRate++;
                    return false;
                }
                case RelaySession.LIMIT -> {
                    dropLimit++;
                    InetSocketAddress fromAddress = from.address;
                    if (remove(s)) {
                        log.debug("relay session {} reached its byte limit", s.id);
                        if (fromAddress != null) {
                            send(ctx, new ControlDatagram.RelayDeny(from.token, ControlDatagram.DENY_LIMIT), fromAddress);
                        }
                        send(ctx, new ControlDatagram.RelayDeny(from.peer().token, ControlDatagram.DENY_LIMIT), to);
                        pendingWrites = true;
                    }
                    return false;
                }
                default -> {
                    // fall through to forwarding
                }
            }
            if (!ctx.channel().isWritable()) {
                dropOverflow++;
                return false;
            }
            fwdPackets++;
            fwdBytes += len;
            ctx.write(new DatagramPacket(c, to), ctx.voidPromise());
            pendingWrites = true;
            return true;
        }

        private void control(ChannelHandlerContext ctx, ByteBuf c, InetSocketAddress sender) {
            ControlDatagram d;
            try {
                d = ControlDatagram.decode(c.nioBuffer());
            } catch (WireFormatException | RuntimeException e) {
                dropGarbage++;
                return;
            }
            if (d instanceof ControlDatagram.RelayBind bind) {
                bind(bind.token(), sender, ctx);
                pendingWrites = true;
            } else {
                dropGarbage++; // unknown type, or a datagram only clients receive
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (pendingWrites) {
                pendingWrites = false;
                ctx.flush();
            }
            publish();
        }

        private void publish() {
            if (fwdPackets != 0) {
                packets.increment(fwdPackets);
                bytes.increment(fwdBytes);
                fwdPackets = 0;
                fwdBytes = 0;
            }
            if (dropUnbound != 0) {
                droppedUnbound.increment(dropUnbound);
                dropUnbound = 0;
            }
            if (dropRate != 0) {
                droppedRate.increment(dropRate);
                dropRate = 0;
            }
            if (dropLimit != 0) {
                droppedLimit.increment(dropLimit);
                dropLimit = 0;
            }
            if (dropGarbage != 0) {
                droppedGarbage.increment(dropGarbage);
                dropGarbage = 0;
            }
            if (dropOverflow != 0) {
                droppedOverflow.increment(dropOverflow);
                dropOverflow = 0;
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // a failed send or read on an unconnected UDP socket concerns one datagram: keep serving
            log.debug("relay channel {}: {}", ctx.channel().localAddress(), cause.toString());
        }
    }
}
