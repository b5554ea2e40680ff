package org.parley.transport;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.UnixChannelOption;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.socket.DatagramPacket;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.quic.InsecureQuicTokenHandler;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicClientCodecBuilder;
import io.netty.handler.codec.quic.QuicServerCodecBuilder;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicStreamType;
import io.netty.handler.ssl.ClientAuth;
import io.netty.util.AttributeKey;
import java.io.IOException;
import java.net.BindException;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.parley.identity.CertificateRejectedException;
import org.parley.identity.CertificateVerifier;
import org.parley.identity.DeviceCertificate;
import org.parley.identity.Role;
import org.parley.protocol.ControlDatagram;
import org.parley.protocol.ErrorCode;
import org.parley.protocol.Frame;
import org.parley.protocol.Limits;
import org.parley.protocol.WireFormatException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A QUIC endpoint on one UDP port that accepts and dials. Inbound connections are served by the QUIC
 * server codec on an unconnected SO_REUSEPORT socket; each dial gets its own SO_REUSEPORT socket bound to
 * the same port and connect()ed to the remote, so Linux hands that remote's packets to it and the remote
 * sees this node at the port its supernode observed.
 */
public final class QuicNode implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(QuicNode.class);
    private static final AttributeKey<Connection> CONN = AttributeKey.valueOf("parley.connection");
    private static final AttributeKey<DialContext> DIAL = AttributeKey.valueOf("parley.dial");
    private static final Executor DIALERS = Executors.newVirtualThreadPerTaskExecutor();

    /** Transport tuning with defaults suitable for clients and supernodes. */
    public record Options(Duration idleTimeout, Duration handshakeTimeout, EventLoopGroup sharedGroup, int threads) {
        public static final Options DEFAULT = new Options(Duration.ofSeconds(30), Duration.ofSeconds(5), null, 2);

        public Options {
            if (idleTimeout.toMillis() < 1000) throw new IllegalArgumentException("idle timeout under 1 s");
            if (handshakeTimeout.toMillis() < 100) throw new IllegalArgumentException("handshake timeout under 100 ms");
            if (threads < 1) throw new IllegalArgumentException("threads < 1");
        }

        public Options withGroup(EventLoopGroup g) {
            return new Options(idleTimeout, handshakeTimeout, g, threads);
        }
    }

    private record DialContext(ConnectionHandler handler, Channel datagram) {}

    /** Receives hole-punching probes that arrive at this node's port. Called on an event loop: never block. */
    public interface PunchListener {
        void punched(ControlDatagram.Punch punch, InetSocketAddress from);
    }

    /** Marks a datagram channel that talks to a relay, with the relay's address. */
    private static final AttributeKey<InetSocketAddress> RELAY = AttributeKey.valueOf("parley.relay");

    private final TlsIdentity identity;
    private final CertificateVerifier verifier;
    private final ConnectionHandler inbound;
    private final Options options;
    private final EventLoopGroup group;
    private final boolean ownGroup;
    private final Channel server;
    private final InetSocketAddress local;
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    private final Set<Channel> relayChannels = ConcurrentHashMap.newKeySet();
    private final java.util.Map<String, QuicSslContext> clientSsl = new ConcurrentHashMap<>();
    private final Counter garbage;
    private final Counter badFrames;
    private final Counter rejectedPeers;
    private final Role inboundRole;
    private final QuicSslContext serverSsl;
    private final GarbageFilter filter;
    private volatile PunchListener punchListener;

    private QuicNode(TlsIdentity identity, CertificateVerifier verifier, Role inboundRole, ConnectionHandler inbound,
                     Options options, MeterRegistry registry, InetSocketAddress bindTo) throws IOException {
        this.identity = identity;
        this.verifier = verifier;
        this.inbound = inbound;
        this.options = options;
        this.garbage = Counter.builder("parley_garbage_datagrams").description("datagrams dropped before the QUIC codec").register(registry);
        this.badFrames = Counter.builder("parley_bad_frames").description("malformed frames received on streams").register(registry);
        this.rejectedPeers = Counter.builder("parley_rejected_peers").description("peers whose certificate failed verification").register(registry);
        this.inboundRole = inboundRole;
        this.filter = new GarbageFilter(garbage, (d, from, ctx) -> {
            if (d instanceof ControlDatagram.Punch p) {
                PunchListener l = punchListener;
                if (l != null) l.punched(p, from);
            }
        });
        this.ownGroup = options.sharedGroup() == null;
        this.group = ownGroup ? new MultiThreadIoEventLoopGroup(options.threads(), EpollIoHandler.newFactory()) : options.sharedGroup();
        try {
            this.serverSsl = QuicSslContextBuilder.forServer(identity.keyManager(), null)
                    .trustManager(new CaTrustManager(verifier, inboundRole))
                    .clientAuth(ClientAuth.REQUIRE)
                    .applicationProtocols(Limits.ALPN).build();
            ChannelHandler codec = serverCodec();
            this.server = new Bootstrap().group(group).channel(EpollDatagramChannel.class)
                    .option(UnixChannelOption.SO_REUSEPORT, true)
                    .option(io.netty.channel.ChannelOption.SO_RCVBUF, 4 * 1024 * 1024)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(filter, codec);
                        }
                    }).bind(bindTo).sync().channel();
        } catch (Exception e) {
            if (ownGroup) group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            if (e instanceof IOException io) throw io;
            throw new IOException("cannot listen on " + bindTo + ": " + e.getMessage(), e);
        }
        this.local = (InetSocketAddress) server.localAddress();
    }

    private ChannelHandler serverCodec() {
        return tune(new QuicServerCodecBuilder().sslContext(serverSsl))
                .tokenHandler(InsecureQuicTokenHandler.INSTANCE)
                .handler(connectionInitializer(null))
                .streamHandler(streamInitializer())
                .build();
    }

    /**
     * Binds a node. {@code inboundRole}, when not null, is the only role allowed to connect (e.g. a
     * supernode's peers must be supernodes on its overlay port). Fails with a one-line
     * {@link BindException} when the port is taken.
     */
    public static QuicNode bind(InetSocketAddress address, TlsIdentity identity, CertificateVerifier verifier,
                                Role inboundRole, ConnectionHandler inbound, Options options, MeterRegistry registry)
            throws IOException {
        // SO_REUSEPORT would silently share a port already used by another socket of this user, and for
        // port 0 the kernel may even pick such a port. So the port is chosen (or checked) by a plain socket
        // without SO_REUSEPORT first, and the node then binds that exact port.
        if (address.getPort() != 0) {
            try (DatagramSocket probe = new DatagramSocket(null)) {
                probe.setReuseAddress(false);
                probe.bind(address);
            } catch (IOException e) {
                throw new BindException("cannot listen on UDP " + address.getHostString() + ":" + address.getPort()
                        + ": address already in use");
            }
        } else {
            try (DatagramSocket probe = new DatagramSocket(null)) {
                probe.setReuseAddress(false);
                probe.bind(address);
                address = new InetSocketAddress(address.getAddress(), probe.getLocalPort());
            }
        }
        return new QuicNode(identity, verifier, inboundRole, inbound, options, registry, address);
    }

    public InetSocketAddress localAddress() {
        return local;
    }

    public Set<Connection> connections() {
        return Set.copyOf(connections);
    }

    public TlsIdentity identity() {
        return identity;
    }

    public double garbageDatagrams() {
        return garbage.count();
    }

    public double badFrames() {
        return badFrames.count();
    }

    private <B extends io.netty.handler.codec.quic.QuicCodecBuilder<B>> B tune(B b) {
        return b.maxIdleTimeout(options.idleTimeout().toMillis(), TimeUnit.MILLISECONDS)
                .initialMaxData(16 * 1024 * 1024)
                .initialMaxStreamDataBidirectionalLocal(4 * 1024 * 1024)
                .initialMaxStreamDataBidirectionalRemote(4 * 1024 * 1024)
                .initialMaxStreamsBidirectional(16)
                .initialMaxStreamsUnidirectional(16)
                // QUIC DATAGRAM frames (RFC 9221) carry call media: unreliable, unordered, sent ahead of stream data
                .datagram(DATAGRAM_QUEUE, DATAGRAM_QUEUE)
                .activeMigration(false);
    }

    /**
     * Dials {@code remote} from this node's port. The peer must present a certificate of the network CA
     * (and of {@code requiredRole} when not null). Completes with the connection once its control stream
     * is open, or exceptionally with a one-line IOException.
     */
    public CompletableFuture<Connection> dial(InetSocketAddress remote, Role requiredRole, ConnectionHandler handler) {
        return dial(remote, requiredRole, handler, options.handshakeTimeout());
    }

    /**
     * Dials from a fresh ephemeral UDP port instead of this node's port. For links where the observed address
     * does not matter (supernode to supernode): two nodes may then dial each other at the same moment without
     * their connected sockets on the shared port capturing each other's handshakes.
     */
    public CompletableFuture<Connection> dialEphemeral(InetSocketAddress remote, Role requiredRole, ConnectionHandler handler) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return dialBlocking(remote, requiredRole, handler, options.handshakeTimeout(), false);
            } catch (IOException e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        }, DIALERS);
    }

    /** As {@link #dial(InetSocketAddress, Role, ConnectionHandler)} with its own handshake timeout. */
    public CompletableFuture<Connection> dial(InetSocketAddress remote, Role requiredRole, ConnectionHandler handler,
                                              Duration timeout) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return dialBlocking(remote, requiredRole, handler, timeout, true);
            } catch (IOException e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        }, DIALERS);
    }

    /**
     * A client codec for one dial. The TLS context is built once per required role and reused: building it
     * costs milliseconds, and the identity's key manager already follows certificate renewals.
     */
    private ChannelHandler clientCodec(Role requiredRole) {
        QuicSslContext ssl = clientSsl.computeIfAbsent(requiredRole == null ? "any" : requiredRole.name(),
                k -> QuicSslContextBuilder.forClient()
                        .keyManager(identity.keyManager(), null)
                        .trustManager(new CaTrustManager(verifier, requiredRole))
                        .applicationProtocols(Limits.ALPN).build());
        return tune(new QuicClientCodecBuilder().sslContext(ssl)).build();
    }

    /** Sends a control datagram (e.g. a hole punch) from this node's port. */
    public void sendControl(InetSocketAddress to, ControlDatagram d) {
        server.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(ControlDatagram.encode(d)), to));
    }

    /** Sets the listener of hole punches arriving at this node's port. */
    public void onPunch(PunchListener l) {
        punchListener = l;
    }

    /**
     * Dials a peer through a relay session: binds {@code token} at {@code relay} from a socket of its own,
     * waits until the other side is bound too, then runs the QUIC handshake with the peer through it.
     * The relay sees only QUIC packets encrypted end to end.
     */
    public CompletableFuture<Connection> dialViaRelay(InetSocketAddress relay, byte[] token, Role requiredRole,
                                                      ConnectionHandler handler, Duration timeout) {
        return CompletableFuture.supplyAsync(() -> {
            Channel dg = null;
            try {
                long deadline = System.nanoTime() + timeout.toNanos();
                RelayBinding binding = new RelayBinding(token, true);
                dg = relaySocket(relay, binding, clientCodec(requiredRole));
                long left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
                binding.ready.get(left, TimeUnit.MILLISECONDS);
                left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
                QuicChannel qc = QuicChannel.newBootstrap(dg)
                        .attr(DIAL, new DialContext(handler, dg))
                        .handler(connectionInitializer(handler))
                        .streamHandler(streamInitializer())
                        .remoteAddress(relay)
                        .connect().get(left, TimeUnit.MILLISECONDS);
                Connection c = connectionOf(qc, true, relay, dg, handler);
                if (c == null) throw new IOException("peer behind relay " + hp(relay) + " presented an invalid certificate");
                left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
                c.control = qc.createStream(QuicStreamType.BIDIRECTIONAL, streamInitializer()).get(left, TimeUnit.MILLISECONDS);
                handler.connected(c);
                return c;
            } catch (Exception e) {
                if (dg != null) dg.close();
                if (e instanceof InterruptedException) Thread.currentThread().interrupt();
                String why = e instanceof TimeoutException ? "no answer within " + timeout.toMillis() + " ms" : rootMessage(e);
                throw new java.util.concurrent.CompletionException(new IOException("relayed dial via " + hp(relay) + " failed: " + why));
            }
        }, DIALERS);
    }

    /**
     * Accepts a peer's connection through a relay session: binds {@code token} at {@code relay} from a
     * socket of its own that carries a QUIC server codec; the connection then arrives at this node's
     * inbound handler like any other. Completes when the relay confirmed the binding. The socket closes
     * with its connection, or after {@code timeout} if no connection came.
     */
    public CompletableFuture<Void> acceptViaRelay(InetSocketAddress relay, byte[] token, Duration timeout) {
        return CompletableFuture.supplyAsync(() -> {
            Channel dg = null;
            try {
                RelayBinding binding = new RelayBinding(token, false);
                dg = relaySocket(relay, binding, serverCodec());
                Channel ch = dg;
                binding.ready.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                ch.eventLoop().schedule(() -> {
                    for (Connection c : connections) if (c.datagramChannel() == ch) return;
                    ch.close();
                }, timeout.toMillis(), TimeUnit.MILLISECONDS);
                return null;
            } catch (Exception e) {
                if (dg != null) dg.close();
                if (e instanceof InterruptedException) Thread.currentThread().interrupt();
                String why = e instanceof TimeoutException ? "no answer within " + timeout.toMillis() + " ms" : rootMessage(e);
                throw new java.util.concurrent.CompletionException(new IOException("relay binding at " + hp(relay) + " failed: " + why));
            }
        }, DIALERS);
    }

    /**
     * A socket of its own for one relay session: an ephemeral port connect()ed to the relay, carrying the
     * binding handshake and a QUIC codec. Closed with the node.
     */
    private Channel relaySocket(InetSocketAddress relay, RelayBinding binding, ChannelHandler codec) throws InterruptedException {
        GarbageFilter relayFilter = new GarbageFilter(garbage, binding);
        Channel dg = new Bootstrap().group(group).channel(EpollDatagramChannel.class)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(relayFilter, codec);
                    }
                }).bind(new InetSocketAddress(local.getAddress(), 0)).sync().channel();
        dg.attr(RELAY).set(relay);
        relayChannels.add(dg);
        dg.closeFuture().addListener(f -> relayChannels.remove(dg));
        dg.connect(relay).sync();
        binding.start(dg, relay);
        return dg;
    }

    /**
     * The client side of a relay binding: repeats RELAY_BIND every 50 ms until the relay confirms (and,
     * for the dialing side, until the other side is bound too), then every 10 s to keep NAT mappings and
     * the relay session alive. A RELAY_DENY closes the socket and with it the connection through it.
     */
    private final class RelayBinding implements GarbageFilter.ControlSink {
        final CompletableFuture<Void> ready = new CompletableFuture<>();
        private final byte[] token;
        private final boolean needPeer;
        private volatile boolean confirmed;

        RelayBinding(byte[] token, boolean needPeer) {
            this.token = token.clone();
            this.needPeer = needPeer;
        }

        void start(Channel ch, InetSocketAddress relay) {
            ch.eventLoop().execute(() -> tick(ch, relay));
        }

        private void tick(Channel ch, InetSocketAddress relay) {
            if (!ch.isActive()) {
                ready.completeExceptionally(new IOException("relay socket closed"));
                return;
            }
            ch.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(ControlDatagram.encode(new ControlDatagram.RelayBind(token))), relay));
            ch.eventLoop().schedule(() -> tick(ch, relay), confirmed && ready.isDone() ? 10_000 : 50, TimeUnit.MILLISECONDS);
        }

        @Override
        public void control(ControlDatagram d, InetSocketAddress from, ChannelHandlerContext ctx) {
            switch (d) {
                case ControlDatagram.RelayBound b when java.util.Arrays.equals(b.token(), token) -> {
                    confirmed = true;
                    if (!needPeer || b.peerBound()) ready.complete(null);
                }
                case ControlDatagram.RelayDeny deny when java.util.Arrays.equals(deny.token(), token) -> {
                    ready.completeExceptionally(new IOException("relay refused the session (reason " + deny.reason() + ")"));
                    log.info("relay {} ended session: reason {}", from, deny.reason());
                    ctx.channel().close();
                }
                default -> { }
            }
        }
    }

    private Connection dialBlocking(InetSocketAddress remote, Role requiredRole, ConnectionHandler handler,
                                    Duration handshakeTimeout, boolean sharedPort) throws IOException {
        Channel dg = null;
        try {
            ChannelHandler codec = clientCodec(requiredRole);
            dg = new Bootstrap().group(group).channel(EpollDatagramChannel.class)
                    .option(UnixChannelOption.SO_REUSEPORT, true)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(filter, codec, new ChannelInboundHandlerAdapter() {
                                @Override
                                public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                    // e.g. ICMP port unreachable on the connected socket while the peer is
                                    // down or a NAT is not yet open: QUIC's own timeouts decide
                                    log.debug("datagram error towards {}: {}", remote, cause.toString());
                                }
                            });
                        }
                    }).bind(new InetSocketAddress(local.getAddress(), sharedPort ? local.getPort() : 0)).sync().channel();
            dg.connect(remote).sync();
            long timeout = handshakeTimeout.toMillis();
            QuicChannel qc = QuicChannel.newBootstrap(dg)
                    .attr(DIAL, new DialContext(handler, dg))
                    .handler(connectionInitializer(handler))
                    .streamHandler(streamInitializer())
                    .remoteAddress(remote)
                    .connect().get(timeout, TimeUnit.MILLISECONDS);
            Connection c = connectionOf(qc, true, remote, dg, handler);
            if (c == null) throw new IOException("peer at " + remote + " presented an invalid certificate");
            QuicStreamChannel s = qc.createStream(QuicStreamType.BIDIRECTIONAL, streamInitializer())
                    .get(timeout, TimeUnit.MILLISECONDS);
            c.control = s;
            handler.connected(c);
            return c;
        } catch (TimeoutException e) {
            if (dg != null) dg.close();
            throw new IOException("no QUIC answer from " + hp(remote) + " within " + handshakeTimeout.toMillis() + " ms");
        } catch (InterruptedException e) {
            if (dg != null) dg.close();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while dialing " + hp(remote));
        } catch (Exception e) {
            if (dg != null) dg.close();
            if (e instanceof IOException io && io.getMessage() != null && io.getMessage().startsWith("peer at")) throw io;
            String why = rootMessage(e);
            throw new IOException("cannot connect to " + hp(remote) + ": " + why);
        }
    }

    private static String hp(InetSocketAddress a) {
        return a.getHostString() + ":" + a.getPort();
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) t = t.getCause();
        String m = t.getMessage();
        return (m == null ? t.getClass().getSimpleName() : m).replace('\n', ' ');
    }

    private Connection connectionOf(QuicChannel qc, boolean outbound, InetSocketAddress remote, Channel dg,
                                    ConnectionHandler handler) {
        Connection existing = qc.attr(CONN).get();
        if (existing != null) return existing;
        DeviceCertificate peer;
        try {
            Certificate[] chain = qc.sslEngine().getSession().getPeerCertificates();
            peer = verifier.verify((X509Certificate) chain[0]);
        } catch (CertificateRejectedException | javax.net.ssl.SSLPeerUnverifiedException | RuntimeException e) {
            rejectedPeers.increment();
            log.info("rejecting connection from {}: {}", remote, e.getMessage());
            qc.close();
            return null;
        }
        Connection c = new Connection(qc, outbound, peer, remote, dg, dg == null ? null : dg.attr(RELAY).get());
        c.handler = handler;
        if (!qc.attr(CONN).compareAndSet(null, c)) return qc.attr(CONN).get();
        connections.add(c);
        qc.closeFuture().addListener(f -> {
            connections.remove(c);
            c.markClosed();
        });
        if (!qc.isActive()) {
            connections.remove(c);
            c.markClosed();
        }
        return c;
    }

    /** Queue lengths (datagrams) of the QUIC DATAGRAM extension, each way: 256 x 20 ms = 5 s of voice. */
    static final int DATAGRAM_QUEUE = 256;

    private ChannelInitializer<QuicChannel> connectionInitializer(ConnectionHandler dialHandler) {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(QuicChannel ch) {
                ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        // on the connection (not a stream) channel, reads are QUIC DATAGRAM frames
                        if (msg instanceof io.netty.buffer.ByteBuf buf) {
                            try {
                                Connection c = ((QuicChannel) ctx.channel()).attr(CONN).get();
                                if (c == null || c.handler == null) return;
                                byte[] data = new byte[buf.readableBytes()];
                                buf.readBytes(data);
                                try {
                                    c.handler.datagram(c, data);
                                } catch (RuntimeException e) {
                                    log.warn("datagram handler failed on {}: {}", c, e.toString());
                                }
                            } finally {
                                buf.release();
                            }
                            return;
                        }
                        ctx.fireChannelRead(msg);
                    }

                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        log.debug("connection error: {}", cause.toString());
                        ctx.close();
                    }
                });
            }
        };
    }

    private ChannelInitializer<QuicStreamChannel> streamInitializer() {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(QuicStreamChannel ch) {
                ch.pipeline().addLast(new FrameDecoder(), new StreamHandler());
            }
        };
    }

    private final class StreamHandler extends SimpleChannelInboundHandler<Frame> {
        private Connection conn;

        @Override
        public void channelActive(ChannelHandlerContext ctx) throws Exception {
            QuicStreamChannel s = (QuicStreamChannel) ctx.channel();
            QuicChannel qc = s.parent();
            Connection c = qc.attr(CONN).get();
            if (c == null && !s.isLocalCreated()) {
                InetSocketAddress remote = (InetSocketAddress) qc.remoteSocketAddress();
                DialContext dctx = qc.attr(DIAL).get();
                Channel parentDg = dctx != null ? dctx.datagram()
                        : (qc.parent() != null && qc.parent().hasAttr(RELAY) ? qc.parent() : null);
                c = connectionOf(qc, dctx != null, remote, parentDg, dctx == null ? inbound : dctx.handler());
                if (c == null) {
                    ctx.close();
                    return;
                }
            }
            conn = c;
            if (c != null && !s.isLocalCreated() && c.control == null) {
                c.control = s;
                c.handler.connected(c);
            }
            super.channelActive(ctx);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Frame f) {
            if (conn == null) conn = ((QuicStreamChannel) ctx.channel()).parent().attr(CONN).get();
            if (conn == null || f instanceof Frame.Unknown) return;
            try {
                conn.handler.frame(conn, f);
            } catch (RuntimeException e) {
                log.warn("handler failed on {} from {}: {}", f.getClass().getSimpleName(), conn, e.toString(), e);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            Connection c = conn;
            if (c != null && c.control == ctx.channel()) c.close();
            super.channelInactive(ctx);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof DecoderException && cause.getCause() instanceof WireFormatException wfe) {
                badFrames.increment();
                log.info("malformed frame from {}: {}", conn, wfe.getMessage());
                Connection c = conn;
                if (c != null) {
                    c.send(new Frame.Error(0, ErrorCode.BAD_FRAME.code, wfe.getMessage()))
                            .whenComplete((v, t) -> c.close());
                } else {
                    ctx.close();
                }
                return;
            }
            log.debug("stream error on {}: {}", conn, cause.toString());
            ctx.close();
        }
    }

    @Override
    public void close() {
        for (Connection c : connections) c.close();
        for (Channel ch : relayChannels) ch.close();
        server.close().awaitUninterruptibly(2000);
        if (ownGroup) group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5000);
    }
}
