package org.parley.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.parley.chat.CertificateBook;
import org.parley.chat.Conversation;
import org.parley.identity.CertificateAuthority;
import org.parley.identity.CertificateVerifier;
import org.parley.identity.Keys;
import org.parley.identity.Policy;
import org.parley.identity.Role;
import org.parley.protocol.ChatEvent;
import org.parley.protocol.Frame;
import org.parley.protocol.FrameCodec;
import org.parley.protocol.HybridClock;
import org.parley.protocol.Limits;
import org.parley.protocol.WireFormatException;
import org.parley.transport.Connection;
import org.parley.transport.ConnectionHandler;
import org.parley.transport.QuicNode;
import org.parley.transport.TlsIdentity;

/**
 * Scenario "direct": throughput of one direct Parley peer session on 127.0.0.1, next to iperf3 TCP and UDP in the
 * same run.
 *
 * <p>Two {@link QuicNode}s with device certificates of a throw-away network CA: the receiving node runs in a JVM
 * of its own ({@link Receiver}, same classpath) so that sender and receiver share neither heap nor GC. The sender
 * dials it and sends what a daemon sends on a peer session for each new message: a live {@link Frame.EventPush}
 * (syncId 0) of one signed {@link ChatEvent} of kind MESSAGE (one parent, a fixed 32-byte value) whose text is
 * {@code --frame-bytes} ASCII bytes (at most {@link Limits#MAX_TEXT_BYTES}); the first push of the session also
 * carries the sender's certificate DER, the later ones none (ChatSync sends each certificate once per session).
 * The pushes go on the connection's control stream as fast as QUIC flow and congestion control let them, with at
 * most {@code --in-flight} {@link Connection#send} futures outstanding. Signing a 16 KB event takes a sizeable part
 * of the CPU the sender spends per push, so the sender signs a pool of {@value #EVENT_POOL} events (distinct times)
 * before it starts and sends them in turn: the measurement stays one of the session, not of ECDSA (the table's
 * notes give the cost of signing and of checking one event). The receiver
 * decodes each event (which computes its id) on a worker thread, as the daemon hands pushes to its worker, and
 * answers every push with an {@link Frame.EventAck} of the event's id; it does not check the signatures or store
 * the events. After {@code --warmup} unmeasured seconds the receiver's counters are read ("MARK" on its standard
 * input) at the start and at the end of {@code --seconds} measured seconds: goodput is event text bytes received
 * per second by the receiver, by the receiver's clock. CPU time of both processes over the same window comes from
 * /proc (receiver) and the OperatingSystemMXBean (sender).
 *
 * <p>Then iperf3 (installed with apt-get when missing and possible; skipped with a message otherwise) on
 * 127.0.0.1 for the same measured seconds: one TCP stream, and UDP with 1,200-byte datagrams (the size of Parley's
 * QUIC packets) at unlimited rate ({@code -b 0}), whose received rate is what the receiving iperf3 could take.
 *
 * <p>Run alone (from the repository root, after {@code mvn -q install -DskipTests}):
 * {@code java --enable-native-access=ALL-UNNAMED -cp 'bench/target/classes:bench/target/lib/*'
 * org.parley.bench.DirectScenario [--seconds N] [--warmup W] [--frame-bytes B] [--in-flight K] [--no-iperf]}.
 * Environment: {@code BENCH_RECEIVER_JAVA_OPTS}, extra JVM options of the receiver JVM.
 */
public final class DirectScenario {
    private DirectScenario() {}

    static final String NETWORK = "bench-direct";
    static final int DEFAULT_FRAME_BYTES = 16_000;
    static final int DEFAULT_IN_FLIGHT = 64;
    /** Events signed up front and sent in turn. */
    static final int EVENT_POOL = 256;
    /** The one parent of every event: a fixed stand-in for the conversation's head. */
    static final byte[] HEAD = ChatEvent.sha256("parley-bench direct head".getBytes(StandardCharsets.US_ASCII));
    /** Prefix of the receiver's protocol lines on its standard output (anything else there is ignored). */
    static final String TAG = "DIRECT ";

    /** What to run. */
    record Plan(int seconds, int warmupSeconds, int frameBytes, int inFlight, boolean iperf) {
        static final String USAGE = """
                usage: DirectScenario [--seconds N] [--warmup W] [--frame-bytes B] [--in-flight K] [--no-iperf]
                  --seconds N      measured seconds of each measurement (default 10, 1-300)
                  --warmup W       unmeasured seconds before each measurement (default 5: the JIT needs them; 0-60)
                  --frame-bytes B  text bytes of the one signed event in each EventPush (default 16000, 1-16384)
                  --in-flight K    Connection.send futures outstanding at most (default 64, 1-4096)
                  --no-iperf       skip the iperf3 TCP and UDP comparison
                results: a table on standard output, JSON lines appended to bench/target/results.jsonl
                """;

        static Plan parse(String[] args) {
            int seconds = 10;
            int warmup = 5;
            int frame = DEFAULT_FRAME_BYTES;
            int inFlight = DEFAULT_IN_FLIGHT;
            boolean iperf = true;
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--seconds" -> seconds = Bench.Options.intArg(args, ++i, a, 1, 300);
                    case "--warmup" -> warmup = Bench.Options.intArg(args, ++i, a, 0, 60);
                    case "--frame-bytes" -> frame = Bench.Options.intArg(args, ++i, a, 1, Limits.MAX_TEXT_BYTES);
                    case "--in-flight" -> inFlight = Bench.Options.intArg(args, ++i, a, 1, 4096);
                    case "--no-iperf" -> iperf = false;
                    case "-h", "--help" -> throw new Bench.HelpRequested();
                    default -> throw new IllegalArgumentException("unknown argument '" + a + "'");
                }
            }
            return new Plan(seconds, warmup, frame, inFlight, iperf);
        }

        /**
         * The plan of {@code bench/run.sh direct}: the bench's seconds, its warm-up but at least 5 s (the JIT needs
         * them: with 2 s the goodput measured was a tenth of the steady state), default frames.
         */
        static Plan of(Bench.Options o) {
            return new Plan(Math.min(300, o.seconds()), Math.min(60, Math.max(5, o.warmupSeconds())), DEFAULT_FRAME_BYTES,
                    DEFAULT_IN_FLIGHT, true);
        }
    }

    /** The Parley measurement, over the measured window only. */
    record ParleyResult(double seconds, long payloadBytes, long frames, long sentFrames, long quicSentBytes,
                        double senderCpuSeconds, double receiverCpuSeconds, long senderGcCount, long senderGcMillis,
                        long receiverGcCount, long receiverGcMillis, long rttMillis, int frameWireBytes, long ackedEvents,
                        double signMicros, double verifyMicros) {
        double bytesPerSecond() {
            return payloadBytes / seconds;
        }

        double mbPerSecond() {
            return bytesPerSecond() / 1e6;
        }

        double mbitPerSecond() {
            return bytesPerSecond() * 8 / 1e6;
        }

        double framesPerSecond() {
            return frames / seconds;
        }
    }

    // ------------------------------------------------------------------------------------------------ entry points

    public static void main(String[] args) {
        int rc;
        try {
            Plan plan = Plan.parse(args);
            rc = standalone(plan);
        } catch (Bench.HelpRequested h) {
            System.out.print(Plan.USAGE);
            rc = 0;
        } catch (IllegalArgumentException e) {
            System.err.println("bench: " + e.getMessage());
            System.err.print(Plan.USAGE);
            rc = 2;
        }
        System.out.flush();
        System.exit(rc);
    }

    private static int standalone(Plan plan) {
        return Bench.session("bench", (results, cleanup, tmp) -> {
            System.out.printf(Locale.ROOT, "Parley direct-path benchmark run %s: %d cores, %s %s, load average (1 min) %.2f%n",
                    results.runId(), Runtime.getRuntime().availableProcessors(), System.getProperty("java.vm.name"),
                    System.getProperty("java.runtime.version"), Probe.loadAverage());
            run(plan, results, cleanup, tmp);
        });
    }

    /** Scenario "direct" of {@link Bench}. */
    static void run(Bench.Context ctx) throws Exception {
        Path dir = Files.createDirectories(ctx.tmp().resolve("direct"));
        run(Plan.of(ctx.options()), ctx.results(), ctx.cleanup(), dir);
    }

    static void run(Plan plan, Results results, Cleanup cleanup, Path dir) throws Exception {
        System.out.printf(Locale.ROOT, "%ndirect: %d s measured after %d s warm-up, EventPush of 1 signed event with %,d bytes of text, %d sends in flight%n",
                plan.seconds(), plan.warmupSeconds(), plan.frameBytes(), plan.inFlight());
        ParleyResult parley = measureParley(plan, cleanup, dir);
        ObjectNode pj = results.line("direct", "parley-quic");
        plan(pj, plan);
        pj.put("payload_bytes", parley.payloadBytes());
        pj.put("frames", parley.frames());
        pj.put("measured_s", Results.round(parley.seconds(), 3));
        pj.put("mb_per_s", Results.round(parley.mbPerSecond(), 2));
        pj.put("mbit_per_s", Results.round(parley.mbitPerSecond(), 1));
        pj.put("frames_per_s", Results.round(parley.framesPerSecond(), 1));
        pj.put("frame_wire_bytes", parley.frameWireBytes());
        pj.put("quic_sent_bytes", parley.quicSentBytes());
        pj.put("sender_cpu_s", Results.round(parley.senderCpuSeconds(), 2));
        pj.put("receiver_cpu_s", Results.round(parley.receiverCpuSeconds(), 2));
        pj.put("sender_gc_count", parley.senderGcCount());
        pj.put("sender_gc_ms", parley.senderGcMillis());
        pj.put("receiver_gc_count", parley.receiverGcCount());
        pj.put("receiver_gc_ms", parley.receiverGcMillis());
        pj.put("rtt_ms_end", parley.rttMillis());
        pj.put("acked_events", parley.ackedEvents());
        pj.put("event_pool", EVENT_POOL);
        pj.put("event_sign_us", Results.round(parley.signMicros(), 1));
        pj.put("event_verify_us", Results.round(parley.verifyMicros(), 1));
        results.write(pj);

        IperfBaseline.Result tcp = null;
        IperfBaseline.Result udp = null;
        String skipped = null;
        if (plan.iperf()) {
            skipped = IperfBaseline.unavailableReason();
            if (skipped == null) {
                try {
                    tcp = IperfBaseline.run(false, plan.seconds(), plan.warmupSeconds(), cleanup, dir);
                    ObjectNode tj = results.line("direct", "iperf3-tcp");
                    plan(tj, plan);
                    tcp.into(tj);
                    tj.put("parley_ratio", Results.round(parley.mbitPerSecond() / tcp.receivedMbitPerSecond(), 4));
                    results.write(tj);
                    udp = IperfBaseline.run(true, plan.seconds(), plan.warmupSeconds(), cleanup, dir);
                    ObjectNode uj = results.line("direct", "iperf3-udp");
                    plan(uj, plan);
                    udp.into(uj);
                    uj.put("parley_ratio", Results.round(parley.mbitPerSecond() / udp.receivedMbitPerSecond(), 4));
                    results.write(uj);
                } catch (IOException e) {
                    skipped = "iperf3 failed: " + e.getMessage();
                    System.out.println("direct: " + skipped);
                    ObjectNode sj = results.line("direct", "iperf3-failed");
                    sj.put("reason", skipped);
                    results.write(sj);
                }
            } else {
                System.out.println("direct: iperf3 comparison skipped: " + skipped);
                ObjectNode sj = results.line("direct", "iperf3-skipped");
                sj.put("reason", skipped);
                results.write(sj);
            }
        }
        table(plan, parley, tcp, udp, skipped);
    }

    private static void plan(ObjectNode n, Plan p) {
        n.put("seconds", p.seconds());
        n.put("warmup_s", p.warmupSeconds());
        n.put("frame_bytes", p.frameBytes());
        n.put("in_flight", p.inFlight());
        n.put("cores", Runtime.getRuntime().availableProcessors());
        n.put("jdk", System.getProperty("java.runtime.version"));
    }

    private static void table(Plan plan, ParleyResult p, IperfBaseline.Result tcp, IperfBaseline.Result udp, String skipped) {
        Results.Table t = new Results.Table(String.format(Locale.ROOT, "direct path on 127.0.0.1, %d s measured", plan.seconds()),
                "path", "MB/s", "Mbit/s", "frames or packets/s", "loss", "sender CPU s", "receiver CPU s", "Parley / this");
        t.row("Parley QUIC direct (EventPush, event text " + plan.frameBytes() + " B, " + plan.inFlight() + " in flight)",
                f2(p.mbPerSecond()), Results.num(p.mbitPerSecond()), Results.num(p.framesPerSecond()), "-",
                f2(p.senderCpuSeconds()), f2(p.receiverCpuSeconds()), "1.00x");
        if (tcp != null) {
            t.row("iperf3 TCP, 1 stream", f2(tcp.receivedMbitPerSecond() / 8), Results.num(tcp.receivedMbitPerSecond()), "-", "-",
                    f2(tcp.clientCpuSeconds()), f2(tcp.serverCpuSeconds()), ratio(p.mbitPerSecond(), tcp.receivedMbitPerSecond()));
        }
        if (udp != null) {
            t.row("iperf3 UDP 1200 B -b 0, received", f2(udp.receivedMbitPerSecond() / 8), Results.num(udp.receivedMbitPerSecond()),
                    Results.num(udp.receivedPacketsPerSecond()), String.format(Locale.ROOT, "%.1f%%", udp.lostPercent()),
                    f2(udp.clientCpuSeconds()), f2(udp.serverCpuSeconds()), ratio(p.mbitPerSecond(), udp.receivedMbitPerSecond()));
            t.row("iperf3 UDP 1200 B -b 0, sent", f2(udp.sentMbitPerSecond() / 8), Results.num(udp.sentMbitPerSecond()),
                    Results.num(udp.sentPacketsPerSecond()), "", "", "", ratio(p.mbitPerSecond(), udp.sentMbitPerSecond()));
        }
        t.note("MB = 10^6 bytes. Parley: event text bytes received per second by the receiver JVM (goodput); "
                + String.format(Locale.ROOT, "%,d B per EventPush frame on the stream, QUIC sent %.1f MB (%.2fx the payload)",
                p.frameWireBytes(), p.quicSentBytes() / 1e6, p.payloadBytes() == 0 ? Double.NaN : (double) p.quicSentBytes() / p.payloadBytes()));
        t.note(String.format(Locale.ROOT, "Parley: each push carries 1 MESSAGE ChatEvent (1 parent, ECDSA P-256 signature; the "
                + "sender's certificate only in the first push); %d events were signed up front and are sent in turn, because "
                + "signing each when it is sent (%.0f us of CPU per event here) would add ECDSA to what is measured; the "
                + "receiver decodes each event on a worker thread and answers an EventAck (%,d events acked in the measured "
                + "window) but does not check signatures (%.0f us per event here) or store events", EVENT_POOL, p.signMicros(), p.ackedEvents(),
                p.verifyMicros()));
        t.note(String.format(Locale.ROOT, "Parley CPU per GB of payload: sender %.2f s, receiver %.2f s; GC: sender %d (%d ms), receiver %d (%d ms); RTT at end %d ms",
                p.senderCpuSeconds() / (p.payloadBytes() / 1e9), p.receiverCpuSeconds() / (p.payloadBytes() / 1e9),
                p.senderGcCount(), p.senderGcMillis(), p.receiverGcCount(), p.receiverGcMillis(), p.rttMillis()));
        if (tcp != null) t.note("iperf3: bits received per second (TCP: end.sum_received; UDP: end.sum_received, sent rate from end.sum); "
                + "CPU from iperf3's own cpu_utilization_percent (client = sender, server = receiver)");
        if (skipped != null) t.note("iperf3 skipped: " + skipped);
        t.print();
    }

    private static String f2(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.2f", v);
    }

    private static String ratio(double a, double b) {
        if (Double.isNaN(a) || Double.isNaN(b) || b == 0) return "-";
        double r = a / b;
        return String.format(Locale.ROOT, r < 0.1 ? "%.3fx" : "%.2fx", r);
    }

    // ------------------------------------------------------------------------------------------------ Parley

    private static ParleyResult measureParley(Plan plan, Cleanup cleanup, Path dir) throws Exception {
        CertificateAuthority ca = new CertificateAuthority(NETWORK, Keys.newCaKeyPair());
        Instant now = Instant.now();
        Instant notAfter = now.plus(Duration.ofHours(2));
        KeyPair rk = Keys.newDeviceKeyPair();
        Keys.writePrivateKey(dir.resolve("receiver.key"), rk.getPrivate());
        Keys.writeCertificate(dir.resolve("receiver.crt"), ca.issueDevice("receiver", Role.USER, rk.getPublic(),
                Policy.DEFAULT, now.minus(Duration.ofMinutes(5)), notAfter));
        Files.write(dir.resolve("ca.pub"), ca.publicKey().getEncoded());
        KeyPair sk = Keys.newDeviceKeyPair();
        TlsIdentity senderId = new TlsIdentity(sk.getPrivate(), ca.issueDevice("sender", Role.USER, sk.getPublic(),
                Policy.DEFAULT, now.minus(Duration.ofMinutes(5)), notAfter));
        CertificateVerifier verifier = new CertificateVerifier(NETWORK, ca.publicKey(), Clock.systemUTC());

        int maxSeconds = plan.warmupSeconds() + plan.seconds() + 60;
        try (ReceiverProcess rx = ReceiverProcess.start(dir, maxSeconds, cleanup);
             QuicNode node = QuicNode.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), senderId, verifier,
                     null, NOOP, QuicNode.Options.DEFAULT, new SimpleMeterRegistry())) {
            Connection conn;
            try {
                conn = node.dial(new InetSocketAddress(InetAddress.getLoopbackAddress(), rx.port()), Role.USER, ACKS,
                        Duration.ofSeconds(20)).get(30, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IOException("cannot dial the receiver: " + e.getCause().getMessage() + "\n" + rx.logTail(), e);
            }
            String text = text(plan.frameBytes());
            List<byte[]> events = signedEvents(sk, text);
            byte[] der = senderId.certificate().getEncoded();
            int wire = FrameCodec.encode(new Frame.EventPush(0, List.of(events.get(0)), List.of())).length;
            double[] crypto = signCost(sk, text);
            Sender sender = new Sender(conn, events, der, plan.inFlight());
            acks.reset();
            Thread st = Thread.ofPlatform().name("direct-sender").daemon().start(sender);
            try {
                sleepWatching(plan.warmupSeconds() * 1000L, sender, rx);
                Mark m0 = mark(rx, conn, sender);
                sleepWatching(plan.seconds() * 1000L, sender, rx);
                Mark m1 = mark(rx, conn, sender);
                long rtt = conn.rttMillis().get(5, TimeUnit.SECONDS);
                double secs = (m1.rx.nanos() - m0.rx.nanos()) / 1e9;
                return new ParleyResult(secs, m1.rx.bytes() - m0.rx.bytes(), m1.rx.frames() - m0.rx.frames(),
                        m1.sent - m0.sent, m1.quicSent - m0.quicSent,
                        (m1.selfCpuNanos - m0.selfCpuNanos) / 1e9, (m1.childCpuMillis - m0.childCpuMillis) / 1e3,
                        m1.gcCount - m0.gcCount, m1.gcMillis - m0.gcMillis,
                        m1.rx.gcCount() - m0.rx.gcCount(), m1.rx.gcMillis() - m0.rx.gcMillis(), rtt, wire,
                        m1.acked - m0.acked, crypto[0], crypto[1]);
            } finally {
                sender.stop();
                st.join(10_000);
                conn.close();
            }
        }
    }

    private static final ConnectionHandler NOOP = new ConnectionHandler() {
        @Override public void connected(Connection c) { }
        @Override public void frame(Connection c, Frame f) { }
        @Override public void closed(Connection c) { }
    };

    /** Event ids acknowledged by the receiver (EventAck) on the sender's connection. */
    private static final LongAdder acks = new LongAdder();

    /** The sender's session handler: counts the receiver's EventAcks. */
    private static final ConnectionHandler ACKS = new ConnectionHandler() {
        @Override public void connected(Connection c) { }

        @Override
        public void frame(Connection c, Frame f) {
            if (f instanceof Frame.EventAck a) acks.add(a.ids().size());
        }

        @Override public void closed(Connection c) { }
    };

    /**
     * {@value #EVENT_POOL} encoded MESSAGE events of the sender in its 1:1 conversation with the receiver, each with
     * {@code text}, one parent and its own hybrid-logical-clock time, signed with the sender's device key.
     */
    private static List<byte[]> signedEvents(KeyPair key, String text) {
        byte[] conversation = Conversation.dmId("sender", "receiver");
        byte[] device = HexFormat.of().parseHex(Keys.deviceId(key.getPublic()));
        HybridClock hlc = new HybridClock(Clock.systemUTC());
        List<byte[]> out = new ArrayList<>(EVENT_POOL);
        for (int i = 0; i < EVENT_POOL; i++) {
            out.add(CertificateBook.sign(ChatEvent.unsigned(ChatEvent.Kind.MESSAGE, conversation, "sender", device, hlc.now(),
                    List.of(HEAD), null, List.of(), text), key.getPrivate()).encode());
        }
        return out;
    }

    /** Microseconds to sign one event with {@code text} and to check its signature (0.5 s each, after 0.5 s unmeasured). */
    private static double[] signCost(KeyPair key, String text) throws Exception {
        ChatEvent unsigned = ChatEvent.unsigned(ChatEvent.Kind.MESSAGE, Conversation.dmId("sender", "receiver"), "sender",
                HexFormat.of().parseHex(Keys.deviceId(key.getPublic())), 1L << 16, List.of(HEAD), null, List.of(), text);
        ChatEvent signed = CertificateBook.sign(unsigned, key.getPrivate());
        byte[] canonical = signed.canonicalBytes();
        String alg = Keys.signatureAlgorithm(key.getPublic().getAlgorithm());
        interface Work {
            void run() throws Exception;
        }
        Work[] works = {
            () -> CertificateBook.sign(unsigned, key.getPrivate()),
            () -> {
                java.security.Signature v = java.security.Signature.getInstance(alg);
                v.initVerify(key.getPublic());
                v.update(canonical);
                if (!v.verify(signed.signature())) throw new IllegalStateException("event signature does not verify");
            }
        };
        double[] out = new double[works.length];
        for (int i = 0; i < works.length; i++) {
            Work w = works[i];
            long warmEnd = System.nanoTime() + 500_000_000L;
            do w.run(); while (System.nanoTime() < warmEnd);
            long n = 0;
            long t0 = System.nanoTime();
            do {
                w.run();
                n++;
            } while (System.nanoTime() - t0 < 500_000_000L);
            out[i] = (System.nanoTime() - t0) / 1000.0 / n;
        }
        return out;
    }

    /** Printable ASCII text of exactly {@code n} bytes (a fixed pseudo-random pattern, not compressible to QUIC anyway). */
    static String text(int n) {
        java.util.Random r = new java.util.Random(42);
        char[] c = new char[n];
        for (int i = 0; i < n; i++) c[i] = (char) ('a' + r.nextInt(26));
        return new String(c);
    }

    private static void sleepWatching(long millis, Sender sender, ReceiverProcess rx) throws Exception {
        long end = System.nanoTime() + millis * 1_000_000L;
        while (true) {
            Throwable t = sender.failure.get();
            if (t != null) throw new IOException("sending failed: " + t + "\n" + rx.logTail(), t);
            if (!rx.alive()) throw new IOException("the receiver process exited\n" + rx.logTail());
            long left = end - System.nanoTime();
            if (left <= 0) return;
            Thread.sleep(Math.min(200, Math.max(1, left / 1_000_000L)));
        }
    }

    private record Mark(Receiver.Snapshot rx, long sent, long quicSent, long selfCpuNanos, long childCpuMillis,
                        long gcCount, long gcMillis, long acked) {}

    private static Mark mark(ReceiverProcess rx, Connection conn, Sender sender) throws Exception {
        Receiver.Snapshot s = rx.mark();
        long child = Probe.cpuMillis(rx.pid());
        long self = selfCpuNanos();
        long sent = sender.sent.sum();
        long[] bytes = conn.byteCounts().get(5, TimeUnit.SECONDS);
        long gcCount = 0;
        long gcMillis = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            gcCount += Math.max(0, gc.getCollectionCount());
            gcMillis += Math.max(0, gc.getCollectionTime());
        }
        return new Mark(s, sent, bytes[0], self, child, gcCount, gcMillis, acks.sum());
    }

    static long selfCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            long v = os.getProcessCpuTime();
            if (v >= 0) return v;
        }
        return ProcessHandle.current().info().totalCpuDuration().map(Duration::toNanos).orElse(-1L);
    }

    /**
     * Sends EventPushes of one pre-signed event each (the pool in turn; the sender's certificate in the first push
     * only) as fast as the connection takes them, with a bounded number of sends outstanding.
     */
    private static final class Sender implements Runnable {
        final LongAdder sent = new LongAdder();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        private final Connection conn;
        private final List<byte[]> events;
        private final byte[] certificate;
        private final int inFlight;
        private final Semaphore window;
        private volatile boolean running = true;

        Sender(Connection conn, List<byte[]> events, byte[] certificate, int inFlight) {
            this.conn = conn;
            this.events = List.copyOf(events);
            this.certificate = certificate;
            this.inFlight = inFlight;
            this.window = new Semaphore(inFlight);
        }

        void stop() {
            running = false;
        }

        @Override
        public void run() {
            long seq = 0;
            try {
                while (running) {
                    if (!window.tryAcquire(100, TimeUnit.MILLISECONDS)) {
                        if (!conn.isOpen()) throw new IOException("the connection closed");
                        continue;
                    }
                    Frame.EventPush m = new Frame.EventPush(0, List.of(events.get((int) (seq % events.size()))),
                            seq == 0 ? List.of(certificate) : List.of());
                    seq++;
                    conn.send(m).whenComplete((v, t) -> {
                        window.release();
                        if (t == null) sent.increment();
                        else if (running) failure.compareAndSet(null, t);
                    });
                }
                // let what is in flight be written before the connection closes
                window.tryAcquire(inFlight, 5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ receiver JVM

    /** The receiver JVM as seen from the sender: spawn, port, marks, stop. */
    private static final class ReceiverProcess implements AutoCloseable {
        private final Process process;
        private final Path log;
        private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        private final OutputStream stdin;
        private final Cleanup.Handle handle;
        private int port;

        private ReceiverProcess(Process process, Path log, Cleanup.Handle handle) {
            this.process = process;
            this.log = log;
            this.handle = handle;
            this.stdin = process.getOutputStream();
            Thread.ofPlatform().name("direct-receiver-stdout").daemon().start(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    String l;
                    while ((l = r.readLine()) != null) {
                        if (l.startsWith(TAG)) lines.add(l.substring(TAG.length()));
                    }
                } catch (IOException ignored) {
                    // the process ended
                }
                lines.add("EOF");
            });
        }

        static ReceiverProcess start(Path dir, int maxSeconds, Cleanup cleanup) throws Exception {
            List<String> cmd = new ArrayList<>();
            cmd.add(Probe.jdkTool("java").toString());
            cmd.add("--enable-native-access=ALL-UNNAMED");
            String extra = System.getenv("BENCH_RECEIVER_JAVA_OPTS");
            if (extra != null && !extra.isBlank()) cmd.addAll(List.of(extra.trim().split("\\s+")));
            cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Receiver.class.getName(),
                    "--dir", dir.toString(), "--max-seconds", Integer.toString(maxSeconds)));
            Path log = dir.resolve("receiver.log");
            Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
            cleanup.notePid(p.pid());
            Cleanup.Handle h = cleanup.add("receiver process " + p.pid(), () -> stop(p));
            ReceiverProcess rp = new ReceiverProcess(p, log, h);
            String l = rp.expect("PORT", 60);
            rp.port = Integer.parseInt(l.substring(5).trim());
            rp.expect("READY", 10);
            return rp;
        }

        private static void stop(Process p) throws InterruptedException {
            if (!p.isAlive()) return;
            try {
                p.getOutputStream().write("STOP\n".getBytes(StandardCharsets.US_ASCII));
                p.getOutputStream().flush();
            } catch (IOException ignored) {
                // already closing
            }
            if (p.waitFor(5, TimeUnit.SECONDS)) return;
            p.destroy();
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
        }

        int port() {
            return port;
        }

        long pid() {
            return process.pid();
        }

        boolean alive() {
            return process.isAlive();
        }

        String logTail() {
            return "receiver log (" + log + "):\n" + Probe.lastLines(log, 20);
        }

        private String expect(String prefix, int seconds) throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            while (true) {
                long left = deadline - System.nanoTime();
                String l = left <= 0 ? null : lines.poll(left, TimeUnit.NANOSECONDS);
                if (l == null) throw new IOException("the receiver did not answer " + prefix + " within " + seconds + " s\n" + logTail());
                if (l.equals("EOF")) throw new IOException("the receiver process exited before " + prefix + "\n" + logTail());
                if (l.startsWith(prefix)) return l;
            }
        }

        Receiver.Snapshot mark() throws Exception {
            stdin.write("MARK\n".getBytes(StandardCharsets.US_ASCII));
            stdin.flush();
            return Receiver.Snapshot.parse(expect("MARK", 10));
        }

        @Override
        public void close() {
            handle.close();
        }
    }

    /**
     * The receiving node, run as {@code java -cp ... org.parley.bench.DirectScenario$Receiver --dir DIR
     * --max-seconds S}. DIR holds ca.pub (X.509 SubjectPublicKeyInfo DER of the network CA), receiver.key and
     * receiver.crt (PEM). Standard output: "DIRECT PORT n", "DIRECT READY", then one "DIRECT MARK ..." line for
     * every "MARK" line on standard input; "STOP" or the end of standard input or S seconds end it (it prints
     * "DIRECT TOTAL ..." first). Each EventPush is handed to a worker thread (as ClientDaemon does), which learns
     * its certificates, decodes its events (computing their ids), counts their text bytes and answers an EventAck
     * of their ids; signatures are not checked and nothing is stored.
     */
    public static final class Receiver {
        private Receiver() {}

        /** The receiver's counters at one moment. */
        record Snapshot(long nanos, long bytes, long frames, long gcCount, long gcMillis, long cpuNanos) {
            String format() {
                return nanos + " " + bytes + " " + frames + " " + gcCount + " " + gcMillis + " " + cpuNanos;
            }

            static Snapshot parse(String line) {
                String[] f = line.trim().split("\\s+");
                return new Snapshot(Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3]),
                        Long.parseLong(f[4]), Long.parseLong(f[5]), Long.parseLong(f[6]));
            }
        }

        private static final LongAdder BYTES = new LongAdder();
        private static final LongAdder FRAMES = new LongAdder();
        private static final LongAdder OTHER = new LongAdder();
        private static final LongAdder BAD = new LongAdder();
        private static final LongAdder CERTIFICATES = new LongAdder();

        public static void main(String[] args) throws Exception {
            Path dir = null;
            int maxSeconds = 600;
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--dir" -> dir = Path.of(args[++i]);
                    case "--max-seconds" -> maxSeconds = Math.max(1, Math.min(3600, Integer.parseInt(args[++i])));
                    default -> {
                        System.err.println("receiver: unknown argument " + args[i]);
                        System.exit(2);
                    }
                }
            }
            if (dir == null) {
                System.err.println("receiver: --dir is required");
                System.exit(2);
            }
            var caKey = Keys.publicKey(Files.readAllBytes(dir.resolve("ca.pub")));
            TlsIdentity id = new TlsIdentity(Keys.readPrivateKey(dir.resolve("receiver.key")),
                    Keys.readCertificate(dir.resolve("receiver.crt")));
            CertificateVerifier verifier = new CertificateVerifier(NETWORK, caKey, Clock.systemUTC());
            ExecutorService worker = Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().daemon().name("receiver-worker").unstarted(r));
            ConnectionHandler counting = new ConnectionHandler() {
                @Override public void connected(Connection c) { }

                @Override
                public void frame(Connection c, Frame f) {
                    if (f instanceof Frame.EventPush p) {
                        worker.execute(() -> received(c, p, verifier));
                    } else {
                        OTHER.increment();
                    }
                }

                @Override public void closed(Connection c) { }
            };
            QuicNode node = QuicNode.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), id, verifier, null,
                    counting, QuicNode.Options.DEFAULT, new SimpleMeterRegistry());
            long started = System.nanoTime();
            final int limit = maxSeconds;
            Thread.ofPlatform().daemon().name("receiver-limit").start(() -> {
                try {
                    Thread.sleep(limit * 1000L);
                    System.err.println("receiver: " + limit + " s limit reached, stopping");
                    finish(node, started);
                } catch (InterruptedException ignored) {
                    // stopped normally
                }
            });
            out("PORT " + node.localAddress().getPort());
            out("READY");
            try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII))) {
                String l;
                while ((l = in.readLine()) != null) {
                    switch (l.trim()) {
                        case "MARK" -> out("MARK " + snapshot().format());
                        case "STOP" -> finish(node, started);
                        default -> { }
                    }
                }
            }
            System.err.println("receiver: standard input closed, stopping");
            finish(node, started);
        }

        /** One push, on the worker: certificates learned, events decoded and counted, an EventAck of their ids. */
        private static void received(Connection c, Frame.EventPush p, CertificateVerifier verifier) {
            for (byte[] der : p.certificates()) {
                try {
                    verifier.verify(der);
                    CERTIFICATES.increment();
                } catch (org.parley.identity.CertificateRejectedException e) {
                    BAD.increment();
                }
            }
            List<byte[]> ids = new ArrayList<>(p.events().size());
            for (byte[] encoded : p.events()) {
                try {
                    ChatEvent.Decoded d = ChatEvent.decode(encoded);
                    // the sender's text is ASCII: one byte per char
                    BYTES.add(d.event().text().length());
                    FRAMES.increment();
                    ids.add(d.id());
                } catch (WireFormatException e) {
                    BAD.increment();
                }
            }
            if (!ids.isEmpty() && c.isOpen()) c.send(new Frame.EventAck(ids));
        }

        static Snapshot snapshot() {
            long gcCount = 0;
            long gcMillis = 0;
            for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
                gcCount += Math.max(0, gc.getCollectionCount());
                gcMillis += Math.max(0, gc.getCollectionTime());
            }
            return new Snapshot(System.nanoTime(), BYTES.sum(), FRAMES.sum(), gcCount, gcMillis, selfCpuNanos());
        }

        private static synchronized void finish(QuicNode node, long started) {
            out(String.format(Locale.ROOT, "TOTAL bytes %d events %d certificates %d bad %d other %d seconds %.3f", BYTES.sum(),
                    FRAMES.sum(), CERTIFICATES.sum(), BAD.sum(), OTHER.sum(), (System.nanoTime() - started) / 1e9));
            try {
                node.close();
            } finally {
                System.out.flush();
                System.exit(0);
            }
        }

        private static synchronized void out(String s) {
            System.out.println(TAG + s);
            System.out.flush();
        }
    }
}
