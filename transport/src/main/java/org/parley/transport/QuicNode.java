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

    private final TlsIdentity identity;
    private final CertificateVerifier verifier;
    private final ConnectionHandler inbound;
    private final Options options;
    private final EventLoopGroup group;
    private final boolean ownGroup;
    private final Channel server;
    private final InetSocketAddress local;
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    private final Counter garbage;
    private final Counter badFrames;
    private final Counter rejectedPeers;

    private QuicNode(TlsIdentity identity, CertificateVerifier verifier, Role inboundRole, ConnectionHandler inbound,
                     Options options, MeterRegistry registry, InetSocketAddress bindTo) throws IOException {
        this.identity = identity;
        this.verifier = verifier;
        this.inbound = inbound;
        this.options = options;
        this.garbage = Counter.builder("parley_garbage_datagrams").description("datagrams dropped before the QUIC codec").register(registry);
        this.badFrames = Counter.builder("parley_bad_frames").description("malformed frames received on streams").register(registry);
        this.rejectedPeers = Counter.builder("parley_rejected_peers").description("peers whose certificate failed verification").register(registry);
        this.ownGroup = options.sharedGroup() == null;
        this.group = ownGroup ? new MultiThreadIoEventLoopGroup(options.threads(), EpollIoHandler.newFactory()) : options.sharedGroup();
        try {
            QuicSslContext ssl = QuicSslContextBuilder.forServer(identity.keyManager(), null)
                    .trustManager(new CaTrustManager(verifier, inboundRole))
                    .clientAuth(ClientAuth.REQUIRE)
                    .applicationProtocols(Limits.ALPN).build();
            ChannelHandler codec = tune(new QuicServerCodecBuilder().sslContext(ssl))
                    .tokenHandler(InsecureQuicTokenHandler.INSTANCE)
                    .handler(connectionInitializer(null))
                    .streamHandler(streamInitializer())
                    .build();
            GarbageFilter filter = new GarbageFilter(garbage);
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

    /** As {@link #dial(InetSocketAddress, Role, ConnectionHandler)} with its own handshake timeout. */
    public CompletableFuture<Connection> dial(InetSocketAddress remote, Role requiredRole, ConnectionHandler handler,
                                              Duration timeout) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return dialBlocking(remote, requiredRole, handler, timeout);
            } catch (IOException e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        }, DIALERS);
    }

    private Connection dialBlocking(InetSocketAddress remote, Role requiredRole, ConnectionHandler handler,
                                    Duration handshakeTimeout) throws IOException {
        Channel dg = null;
        try {
            QuicSslContext ssl = QuicSslContextBuilder.forClient()
                    .keyManager(identity.keyManager(), null)
                    .trustManager(new CaTrustManager(verifier, requiredRole))
                    .applicationProtocols(Limits.ALPN).build();
            ChannelHandler codec = tune(new QuicClientCodecBuilder().sslContext(ssl)).build();
            dg = new Bootstrap().group(group).channel(EpollDatagramChannel.class)
                    .option(UnixChannelOption.SO_REUSEPORT, true)
                    .handler(codec).bind(new InetSocketAddress(local.getAddress(), local.getPort())).sync().channel();
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
        Connection c = new Connection(qc, outbound, peer, remote, dg);
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

    private ChannelInitializer<QuicChannel> connectionInitializer(ConnectionHandler dialHandler) {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(QuicChannel ch) {
                ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
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
                c = connectionOf(qc, dctx != null, remote, dctx == null ? null : dctx.datagram(),
                        dctx == null ? inbound : dctx.handler());
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
        server.close().awaitUninterruptibly(2000);
        if (ownGroup) group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5000);
    }
}
