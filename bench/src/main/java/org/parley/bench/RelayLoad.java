package org.parley.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
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
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.HdrHistogram.Histogram;

/**
 * The relay benchmark's load generator: UDP endpoints on Netty epoll (recvmmsg reads, writes flushed in
 * batches so that Netty sends them with sendmmsg), closed-loop flows between two endpoints, and a ping-pong
 * for round-trip times. Endpoints speak raw datagrams (a Parley relay side, a plain peer) or TURN ChannelData
 * (a TURN client of coturn, with {@link Turn} for the Allocate/ChannelBind setup).
 *
 * <p>A flow sends from one endpoint to a destination (the relay, or a relayed address) while at most
 * {@code window} of its datagrams are ahead of the highest sequence number the far endpoint has received;
 * each datagram carries its sequence number, so losses do not shrink the window, and if nothing arrives
 * for {@value #STALL_MILLIS} ms the window is reopened. This keeps the relay saturated without flooding
 * socket buffers, and the generator does not spin: flows are kicked by the receiving endpoint's read
 * batches and by a {@value #TICK_MILLIS} ms timer.
 */
final class RelayLoad implements AutoCloseable {
    /** What the endpoint receives and how its data datagrams are framed. */
    enum Kind {
        /** Raw datagrams; ones that start with Parley's control magic go to {@link Endpoint#control}. */
        PARLEY,
        /** TURN client: STUN messages (first two bits 00) go to {@link Endpoint#control}, ChannelData is data. */
        TURN_CLIENT,
        /** Raw datagrams, all data. */
        PLAIN
    }

    static final int SLOT = 2048;
    static final int BATCH = 64;
    static final long STALL_MILLIS = 20;
    static final long TICK_MILLIS = 5;
    /** Offset of the 8-byte sequence number in a payload (byte 0 is 0x41: never a control datagram). */
    static final int SEQ_OFFSET = 1;

    private final EventLoopGroup group;
    private final List<Channel> channels = new ArrayList<>();
    private final Random random = new Random(7);

    RelayLoad(int threads) {
        this.group = new MultiThreadIoEventLoopGroup(threads, EpollIoHandler.newFactory());
    }

    /** A bound UDP endpoint on 127.0.0.1. */
    Endpoint open(Kind kind) throws IOException {
        Endpoint e = new Endpoint(kind);
        try {
            Channel ch = new Bootstrap().group(group)
                    .channelFactory((ChannelFactory<EpollDatagramChannel>) () -> new EpollDatagramChannel(SocketProtocolFamily.INET))
                    .option(ChannelOption.SO_RCVBUF, 4 * 1024 * 1024)
                    .option(ChannelOption.SO_SNDBUF, 4 * 1024 * 1024)
                    .option(EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE, SLOT)
                    .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(SLOT * 32).maxMessagesPerRead(256))
                    .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(1 << 20, 4 << 20))
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel c) {
                            c.pipeline().addLast(e.handler);
                        }
                    }).bind(new InetSocketAddress(Probe.LOOPBACK, 0)).sync().channel();
            e.ch = ch;
            synchronized (channels) {
                channels.add(ch);
            }
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while binding a bench endpoint");
        }
        return e;
    }

    /** A payload of {@code size} bytes after {@code header} (both copied into each datagram). */
    byte[] payload(byte[] header, int size) {
        byte[] b = new byte[header.length + size];
        System.arraycopy(header, 0, b, 0, header.length);
        for (int i = header.length; i < b.length; i++) b[i] = (byte) random.nextInt();
        b[header.length] = 0x41;
        return b;
    }

    @Override
    public void close() {
        List<Channel> l;
        synchronized (channels) {
            l = new ArrayList<>(channels);
            channels.clear();
        }
        for (Channel c : l) c.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    /** One UDP socket of the generator. */
    static final class Endpoint {
        final Kind kind;
        final int rxHeader;
        final BlockingQueue<byte[]> control = new LinkedBlockingQueue<>();
        final Handler handler = new Handler();
        Channel ch;
        /** The flow this endpoint receives (set before traffic starts). */
        volatile Flow inbound;
        /** Ping-pong role: echo data back to its sender, or measure. */
        volatile boolean echo;
        volatile Pinger pinger;

        Endpoint(Kind kind) {
            this.kind = kind;
            this.rxHeader = kind == Kind.TURN_CLIENT ? 4 : 0;
        }

        InetSocketAddress local() {
            return (InetSocketAddress) ch.localAddress();
        }

        void sendNow(byte[] bytes, InetSocketAddress to) {
            ch.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(bytes), to));
        }

        /** The next control datagram within {@code millis}, or null. */
        byte[] pollControl(long millis) throws InterruptedException {
            return control.poll(millis, TimeUnit.MILLISECONDS);
        }

        final class Handler extends ChannelInboundHandlerAdapter {
            private long packets;
            private long bytes;
            private long highest;

            @Override
            public boolean isSharable() {
                return false;
            }

            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                DatagramPacket p = (DatagramPacket) msg;
                boolean kept = false;
                try {
                    ByteBuf c = p.content();
                    int len = c.readableBytes();
                    int r = c.readerIndex();
                    if (isControl(c, r, len)) {
                        byte[] b = new byte[len];
                        c.getBytes(r, b);
                        control.add(b);
                        return;
                    }
                    if (len < rxHeader + SEQ_OFFSET + 8) return;
                    if (echo) {
                        ctx.write(new DatagramPacket(c, p.sender()), ctx.voidPromise());
                        kept = true;
                        return;
                    }
                    long seq = c.getLong(r + rxHeader + SEQ_OFFSET);
                    Pinger pg = pinger;
                    if (pg != null) {
                        pg.reply(seq);
                        return;
                    }
                    packets++;
                    bytes += len - rxHeader;
                    if (seq > highest) highest = seq;
                } finally {
                    if (!kept) p.release();
                }
            }

            private boolean isControl(ByteBuf c, int r, int len) {
                return switch (kind) {
                    case PARLEY -> len >= 5 && c.getByte(r) == 0 && c.getByte(r + 1) == 'P' && c.getByte(r + 2) == 'L'
                            && c.getByte(r + 3) == 'Y';
                    case TURN_CLIENT -> len >= 1 && (c.getByte(r) & 0xc0) == 0;
                    case PLAIN -> false;
                };
            }

            @Override
            public void channelReadComplete(ChannelHandlerContext ctx) {
                ctx.flush();
                Flow f = inbound;
                if (f != null) {
                    f.receivedPackets = packets;
                    f.receivedBytes = bytes;
                    f.highest = highest;
                    f.kick();
                }
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                // one datagram; keep going
            }
        }
    }

    /** A closed-loop stream of datagrams from one endpoint to a destination, received by another endpoint. */
    static final class Flow implements Runnable {
        final Endpoint from;
        final InetSocketAddress dst;
        final byte[] template;
        final int seqAt;
        final int window;
        volatile boolean running = true;
        private final AtomicBoolean queued = new AtomicBoolean();
        private ScheduledFuture<?> tick;

        // from's event loop
        private long sentCount;
        private long floor;
        private long lastHighest;
        private long lastProgressNanos = System.nanoTime();
        volatile long sent;

        // written by the receiving endpoint's event loop
        volatile long receivedPackets;
        volatile long receivedBytes;
        volatile long highest;

        /** {@code template}: header (e.g. ChannelData) plus payload; the sequence number goes at {@code header + 1}. */
        Flow(Endpoint from, Endpoint to, InetSocketAddress dst, byte[] template, int headerBytes, int window) {
            this.from = from;
            this.dst = dst;
            this.template = template;
            this.seqAt = headerBytes + SEQ_OFFSET;
            this.window = window;
            to.inbound = this;
        }

        void start() {
            tick = from.ch.eventLoop().scheduleAtFixedRate(this::kick, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
            kick();
        }

        void stop() {
            running = false;
            if (tick != null) tick.cancel(false);
        }

        void kick() {
            if (running && queued.compareAndSet(false, true)) from.ch.eventLoop().execute(this);
        }

        @Override
        public void run() {
            queued.set(false);
            if (!running) return;
            long h = highest;
            long now = System.nanoTime();
            if (h != lastHighest) {
                lastHighest = h;
                lastProgressNanos = now;
            } else if (sentCount > Math.max(h, floor) && now - lastProgressNanos > TimeUnit.MILLISECONDS.toNanos(STALL_MILLIS)) {
                floor = sentCount; // whatever was in flight is lost: reopen the window
                lastProgressNanos = now;
            }
            long acked = Math.max(h, floor);
            ByteBufAllocator alloc = from.ch.alloc();
            int n = 0;
            while (sentCount - acked < window && n < BATCH && from.ch.isWritable()) {
                ByteBuf b = alloc.directBuffer(template.length);
                b.writeBytes(template);
                b.setLong(seqAt, ++sentCount);
                from.ch.write(new DatagramPacket(b, dst), from.ch.voidPromise());
                n++;
            }
            if (n > 0) {
                from.ch.flush();
                sent = sentCount;
                if (n == BATCH) kick(); // more room: continue after the other tasks of this loop
            }
        }
    }

    /** One ping in flight at a time from {@code from} to {@code dst}; an echoing endpoint answers. */
    static final class Pinger {
        final Endpoint from;
        final InetSocketAddress dst;
        final byte[] template;
        final int seqAt;
        final Histogram histogram = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
        volatile boolean recording;
        volatile boolean running = true;
        long timeouts;
        private long seq;
        private long sentNanos;
        private ScheduledFuture<?> watchdog;

        Pinger(Endpoint from, InetSocketAddress dst, byte[] template, int headerBytes) {
            this.from = from;
            this.dst = dst;
            this.template = template;
            this.seqAt = headerBytes + SEQ_OFFSET;
            from.pinger = this;
        }

        void start() {
            from.ch.eventLoop().execute(this::ping);
            watchdog = from.ch.eventLoop().scheduleAtFixedRate(() -> {
                if (running && System.nanoTime() - sentNanos > TimeUnit.MILLISECONDS.toNanos(200)) {
                    timeouts++;
                    ping();
                }
            }, 50, 50, TimeUnit.MILLISECONDS);
        }

        void stop() {
            running = false;
            if (watchdog != null) watchdog.cancel(false);
        }

        private void ping() {
            if (!running) return;
            ByteBuf b = from.ch.alloc().directBuffer(template.length);
            b.writeBytes(template);
            b.setLong(seqAt, ++seq);
            sentNanos = System.nanoTime();
            from.ch.writeAndFlush(new DatagramPacket(b, dst), from.ch.voidPromise());
        }

        /** On from's event loop. */
        void reply(long s) {
            if (s != seq) return; // late answer to a ping that timed out
            if (recording) histogram.recordValue(Math.min(System.nanoTime() - sentNanos, histogram.getHighestTrackableValue()));
            ping();
        }
    }

    /** A minimal TURN client (RFC 8656, no authentication: coturn with --no-auth) for one endpoint. */
    static final class Turn {
        static final int MAGIC_COOKIE = 0x2112A442;
        private static final Random IDS = new Random(11);

        private Turn() {}

        /** Allocates a UDP relayed address for {@code e} on {@code server}; returns the relayed address. */
        static InetSocketAddress allocate(Endpoint e, InetSocketAddress server) throws Exception {
            byte[] transport = {17, 0, 0, 0};
            byte[] lifetime = {0, 0, 0x0e, 0x10}; // 3600 s
            byte[] resp = request(e, server, 0x0003, attr(0x0019, transport), attr(0x000d, lifetime));
            InetSocketAddress relayed = xorAddress(resp, 0x0016);
            if (relayed == null) throw new IOException("TURN Allocate answer without XOR-RELAYED-ADDRESS");
            return relayed;
        }

        /** Binds {@code channel} (0x4000..0x4FFF) to {@code peer} (this also installs the permission). */
        static void channelBind(Endpoint e, InetSocketAddress server, int channel, InetSocketAddress peer) throws Exception {
            byte[] ch = {(byte) (channel >> 8), (byte) channel, 0, 0};
            request(e, server, 0x0009, attr(0x000c, ch), attr(0x0012, xorEncode(peer)));
        }

        /** Ends the allocation (Refresh with lifetime 0); fire and forget. */
        static void release(Endpoint e, InetSocketAddress server) {
            byte[] tid = new byte[12];
            synchronized (IDS) {
                IDS.nextBytes(tid);
            }
            e.sendNow(message(0x0004, tid, attr(0x000d, new byte[4])), server);
        }

        static byte[] channelHeader(int channel, int length) {
            return new byte[] {(byte) (channel >> 8), (byte) channel, (byte) (length >> 8), (byte) length};
        }

        private static byte[] request(Endpoint e, InetSocketAddress server, int method, byte[]... attrs) throws Exception {
            byte[] tid = new byte[12];
            synchronized (IDS) {
                IDS.nextBytes(tid);
            }
            byte[] m = message(method, tid, attrs);
            for (int attempt = 0; attempt < 5; attempt++) {
                e.sendNow(m, server);
                long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500);
                while (System.nanoTime() < end) {
                    byte[] r = e.pollControl(50);
                    if (r == null || r.length < 20) continue;
                    boolean same = true;
                    for (int i = 0; i < 12; i++) same &= r[8 + i] == tid[i];
                    if (!same) continue;
                    int type = (r[0] & 0xff) << 8 | (r[1] & 0xff);
                    if ((type & 0x0110) == 0x0110) {
                        throw new IOException("TURN request 0x" + Integer.toHexString(method) + " failed: error response");
                    }
                    return r;
                }
            }
            throw new IOException("no answer from the TURN server " + server + " to request 0x" + Integer.toHexString(method));
        }

        private static byte[] message(int method, byte[] tid, byte[]... attrs) {
            int len = 0;
            for (byte[] a : attrs) len += a.length;
            byte[] m = new byte[20 + len];
            m[0] = (byte) (method >> 8);
            m[1] = (byte) method;
            m[2] = (byte) (len >> 8);
            m[3] = (byte) len;
            m[4] = 0x21;
            m[5] = 0x12;
            m[6] = (byte) 0xA4;
            m[7] = 0x42;
            System.arraycopy(tid, 0, m, 8, 12);
            int o = 20;
            for (byte[] a : attrs) {
                System.arraycopy(a, 0, m, o, a.length);
                o += a.length;
            }
            return m;
        }

        private static byte[] attr(int type, byte[] value) {
            int padded = (value.length + 3) & ~3;
            byte[] a = new byte[4 + padded];
            a[0] = (byte) (type >> 8);
            a[1] = (byte) type;
            a[2] = (byte) (value.length >> 8);
            a[3] = (byte) value.length;
            System.arraycopy(value, 0, a, 4, value.length);
            return a;
        }

        private static byte[] xorEncode(InetSocketAddress a) {
            byte[] ip = a.getAddress().getAddress();
            if (ip.length != 4) throw new IllegalArgumentException("IPv4 only");
            int port = a.getPort() ^ (MAGIC_COOKIE >>> 16);
            int addr = ((ip[0] & 0xff) << 24 | (ip[1] & 0xff) << 16 | (ip[2] & 0xff) << 8 | (ip[3] & 0xff)) ^ MAGIC_COOKIE;
            return new byte[] {0, 1, (byte) (port >> 8), (byte) port, (byte) (addr >>> 24), (byte) (addr >>> 16),
                    (byte) (addr >>> 8), (byte) addr};
        }

        private static InetSocketAddress xorAddress(byte[] m, int wanted) throws IOException {
            int o = 20;
            while (o + 4 <= m.length) {
                int type = (m[o] & 0xff) << 8 | (m[o + 1] & 0xff);
                int len = (m[o + 2] & 0xff) << 8 | (m[o + 3] & 0xff);
                if (type == wanted && len >= 8 && m[o + 5] == 1) {
                    int port = ((m[o + 6] & 0xff) << 8 | (m[o + 7] & 0xff)) ^ (MAGIC_COOKIE >>> 16);
                    int addr = ((m[o + 8] & 0xff) << 24 | (m[o + 9] & 0xff) << 16 | (m[o + 10] & 0xff) << 8
                            | (m[o + 11] & 0xff)) ^ MAGIC_COOKIE;
                    byte[] ip = {(byte) (addr >>> 24), (byte) (addr >>> 16), (byte) (addr >>> 8), (byte) addr};
                    return new InetSocketAddress(java.net.InetAddress.getByAddress(ip), port);
                }
                o += 4 + ((len + 3) & ~3);
            }
            return null;
        }
    }
}
