package org.parley.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateEncodingException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;
import org.parley.chat.CertificateBook;
import org.parley.chat.Conversation;
import org.parley.identity.CertificateRejectedException;
import org.parley.identity.CertificateVerifier;
import org.parley.identity.DeviceCertificate;
import org.parley.identity.Keys;
import org.parley.protocol.ChatEvent;
import org.parley.protocol.ErrorCode;
import org.parley.protocol.Frame;
import org.parley.protocol.FrameCodec;
import org.parley.protocol.HybridClock;
import org.parley.protocol.Sealing;
import org.parley.protocol.WireFormatException;

/**
 * Scenario "route": pairs of attached bench clients exchange round trips through the supernode, carrying what
 * the daemon routes when its user sends a message (ClientDaemon.routeTo of a ChatSync push). A signs one
 * {@link ChatEvent} of kind MESSAGE (64 bytes of text, one parent: a fixed 32-byte stand-in for the
 * conversation's head) in the pair's 1:1 conversation, puts it in a live {@link Frame.EventPush} (syncId 0) with
 * its own certificate DER (ChatSync sends the author certificates with every routed push; only pushes on a
 * session send each certificate once), seals the encoded push for B with {@link Sealing#seal} and sends Route.
 * B gets Deliver, verifies the sender certificate, opens the payload, decodes the event and verifies its
 * signature with the certificate that came with it (as ClientDaemon and ChatReplica do, without the store),
 * then answers with its own signed MESSAGE event, whose one parent is A's event, pushed and sealed the same
 * way; A measures from before signing to after verifying the reply. Each message is signed when it is sent,
 * as a client does. The EventAck a daemon also routes back for each push is not part of the loop.
 * Closed loop: each of the k in-flight slots starts its next round trip when the previous one ends.
 * Slots rotate over disjoint sets of pairs so that no client approaches the supernode's per-client route
 * rate limit (500 routed frames/s by default).
 */
final class RouteScenario implements BenchClient.Listener {
    /** 64 bytes of message text, also used by the XMPP baseline. */
    static final String TEXT = "benchmark message text, 64 bytes long: 0123456789abcdefghijklmno";
    static final long ROUND_TRIP_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(5);

    /** A pair and its 1:1 conversation id. */
    private record Pair(BenchClient a, BenchClient b, byte[] conversation) {
        Pair(BenchClient a, BenchClient b) {
            this(a, b, Conversation.dmId(a.id.user(), b.id.user()));
        }
    }

    /** The one parent of every request event: a fixed stand-in for the head of the conversation its author saw. */
    static final byte[] HEAD = ChatEvent.sha256("parley-bench route head".getBytes(java.nio.charset.StandardCharsets.US_ASCII));

    /** What a client signs with: its device id as bytes and its certificate DER (cached per client, as the daemon does). */
    private record Author(byte[] device, byte[] certificate) {}

    /** An event as sent: its id and the encoded EventPush that carries it. */
    private record Built(byte[] id, byte[] push) {}

    private static final class Slot {
        final Pair[] pairs;
        int next;

        Slot(Pair[] pairs) {
            this.pairs = pairs;
        }
    }

    private static final class Level {
        final int k;
        final boolean sealed;
        volatile boolean running = true;
        volatile long measureFrom;
        volatile long measureTo;
        final Histogram micros = new ConcurrentHistogram(3);
        final AtomicLong errors = new AtomicLong();
        final AtomicLong timeouts = new AtomicLong();
        final Map<String, AtomicLong> errorCodes = new ConcurrentHashMap<>();
        // breakdown of measured round trips: [0] A sign+seal, [1] A->SN->B, [2] B cert check+open+verify+sign+seal,
        // [3] B->SN->A, [4] A cert check+open+verify
        final Histogram[] hops = new Histogram[5];

        {
            for (int i = 0; i < hops.length; i++) hops[i] = new ConcurrentHistogram(3);
        }

        Level(int k, boolean sealed) {
            this.k = k;
            this.sealed = sealed;
        }
    }

    /** One round trip in flight; the hop timestamps are set by A and B (same JVM) for the breakdown. */
    private static final class Inflight {
        final Level level;
        final Slot slot;
        final long t0;
        volatile long sentA;
        volatile long arrivedB;
        volatile long sentB;
        volatile long arrivedA;

        Inflight(Level level, Slot slot, long t0) {
            this.level = level;
            this.slot = slot;
            this.t0 = t0;
        }

        Level level() {
            return level;
        }

        Slot slot() {
            return slot;
        }

        long t0() {
            return t0;
        }
    }

    /** Result of one concurrency level. */
    record LevelResult(String mode, int pairs, Results.Summary summary, long errors, long timeouts, Map<String, Long> errorCodes,
                       double supernodeCpuMsPerRoundTrip, double supernodeCores, double[] hopP50Ms) {}

    static final String[] HOPS = {"A sign+seal", "A->SN->B transit", "B check+verify+sign+seal", "B->SN->A transit",
            "A check+verify"};
    static final String SEALED = "sealed";
    static final String OPAQUE = "relay-only";

    private final Map<String, Inflight> inflight = new ConcurrentHashMap<>();
    private final Map<Long, String> requests = new ConcurrentHashMap<>();
    private final AtomicLong seq = new AtomicLong();
    private final AtomicLong badDeliveries = new AtomicLong();
    private final Map<BenchClient, Author> authors = new ConcurrentHashMap<>();
    /** The hybrid logical clock of the event times (one for all bench clients: they share a wall clock). */
    private final HybridClock hlc = new HybridClock(Clock.systemUTC());
    /** Mode of the level being run; deliveries are interpreted accordingly (levels do not overlap). */
    private volatile boolean sealedMode = true;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "route-timer");
        t.setDaemon(true);
        return t;
    });

    private RouteScenario() {
    }

    /** Runs every concurrency level on the attached clients; prints and records the results. */
    static List<LevelResult> run(Bench.Context ctx, BenchNetwork net, List<BenchClient> clients) throws Exception {
        RouteScenario r = new RouteScenario();
        try {
            return r.runLevels(ctx, net, clients);
        } finally {
            r.timer.shutdownNow();
            for (BenchClient c : clients) c.listener = null;
        }
    }

    private List<LevelResult> runLevels(Bench.Context ctx, BenchNetwork net, List<BenchClient> clients) throws Exception {
        int p = clients.size() / 2;
        if (p < 1) throw new IllegalStateException("route needs at least 2 attached clients");
        List<Pair> pairs = new ArrayList<>(p);
        for (int i = 0; i < p; i++) pairs.add(new Pair(clients.get(i), clients.get(i + p)));
        for (BenchClient c : clients) c.listener = this;
        timer.scheduleWithFixedDelay(this::sweep, 250, 250, TimeUnit.MILLISECONDS);

        double[] crypto = cryptoCost(net, pairs.get(0));
        double cryptoMicros = crypto[0];
        int seconds = ctx.options().seconds();
        int warmup = ctx.options().warmupSeconds();
        System.out.printf(Locale.ROOT, "%nroute: %d attached clients as %d pairs; levels %s pairs in flight, %d s each after %d s warm-up%n",
                clients.size(), p, ctx.options().pairsList(), seconds, warmup);
        System.out.printf(Locale.ROOT, "  sealed payload: an EventPush of one signed MESSAGE event (%d B) and the author certificate (%d B),"
                + " %d B sealed%n", EVENT_BYTES, CERTIFICATE_BYTES, OPAQUE_BYTES);
        System.out.printf(Locale.ROOT, "  client-side cost per one-way message (sign event, seal, cached sender certificate, open, verify event):"
                + " %.0f us, of which event signature %.0f us and its check %.0f us;"
                + " first message from a peer adds: certificate signature (Ed25519) %.0f us, ECDH %.0f us%n",
                crypto[0], crypto[3], crypto[4], crypto[1], crypto[2]);

        List<LevelResult> out = new ArrayList<>();
        List<Integer> levels = ctx.options().pairs();
        for (int run = 0; run < 2 * levels.size(); run++) {
            boolean sealedMode = run < levels.size(); // sealed levels first, then relay-only
            int k = levels.get(run % levels.size());
            Level level = new Level(k, sealedMode);
            this.sealedMode = sealedMode;
            Slot[] slots = new Slot[k];
            for (int j = 0; j < k; j++) {
                List<Pair> mine = new ArrayList<>();
                if (p >= k) {
                    for (int i = j; i < p; i += k) mine.add(pairs.get(i));
                } else {
                    mine.add(pairs.get(j % p)); // fewer pairs than slots: pairs carry several round trips at once
                }
                slots[j] = new Slot(mine.toArray(Pair[]::new));
            }
            long start = System.nanoTime();
            level.measureFrom = start + TimeUnit.SECONDS.toNanos(warmup);
            level.measureTo = level.measureFrom + TimeUnit.SECONDS.toNanos(seconds);
            for (Slot s : slots) fire(level, s);
            sleepUntil(level.measureFrom);
            long cpu0 = Probe.cpuMillis(net.supernodePid());
            sleepUntil(level.measureTo);
            long cpu1 = Probe.cpuMillis(net.supernodePid());
            level.running = false;
            long drainEnd = System.nanoTime() + ROUND_TRIP_TIMEOUT_NANOS + TimeUnit.SECONDS.toNanos(1);
            while (inflight.values().stream().anyMatch(f -> f.level() == level) && System.nanoTime() < drainEnd) {
                Thread.sleep(20);
            }
            inflight.values().removeIf(f -> f.level() == level);
            Results.Summary s = Results.Summary.of(level.micros, seconds);
            Map<String, Long> codes = new LinkedHashMap<>();
            level.errorCodes.forEach((c, n) -> codes.put(c, n.get()));
            double cpuPer = cpu0 < 0 || s.count() == 0 ? Double.NaN : (cpu1 - cpu0) / (double) s.count();
            double cores = cpu0 < 0 ? Double.NaN : (cpu1 - cpu0) / 1000.0 / seconds;
            double[] hops = new double[5];
            for (int i = 0; i < 5; i++) {
                hops[i] = level.hops[i].getTotalCount() == 0 ? Double.NaN : level.hops[i].getValueAtPercentile(50) / 1000.0;
            }
            LevelResult lr = new LevelResult(sealedMode ? SEALED : OPAQUE, k, s, level.errors.get(), level.timeouts.get(), codes, cpuPer, cores, hops);
            out.add(lr);

            ObjectNode j = ctx.results().line("route", lr.mode() + ",pairs=" + k);
            j.put("mode", lr.mode());
            j.put("pairs_in_flight", k);
            j.put("attached_clients", clients.size());
            s.into(j);
            j.put("errors", lr.errors());
            j.put("timeouts", lr.timeouts());
            j.set("error_codes", com.fasterxml.jackson.databind.json.JsonMapper.builder().build().valueToTree(codes));
            j.put("supernode_cpu_ms_per_round_trip", Results.round(cpuPer, 4));
            j.put("supernode_cpu_cores", Results.round(cores, 3));
            ObjectNode hj = j.putObject("hop_p50_ms");
            for (int i = 0; i < 5; i++) hj.put(HOPS[i], Results.round(hops[i], 3));
            if (sealedMode) {
                j.put("client_crypto_us_per_message", Results.round(crypto[0], 1));
                j.put("certificate_verify_us", Results.round(crypto[1], 1));
                j.put("ecdh_us", Results.round(crypto[2], 1));
                j.put("event_sign_us", Results.round(crypto[3], 1));
                j.put("event_verify_us", Results.round(crypto[4], 1));
                j.put("event_bytes", EVENT_BYTES);
                j.put("certificate_bytes", CERTIFICATE_BYTES);
            }
            j.put("payload_bytes", OPAQUE_BYTES);
            j.put("warmup_s", warmup);
            ctx.results().write(j);
            System.out.printf(Locale.ROOT, "  %s, %d pair(s) in flight: %s round trips/s, p50 %s ms, p99 %s ms%n", lr.mode(), k,
                    Results.num(s.perSecond()), Results.ms(s.p50Ms()), Results.ms(s.p99Ms()));
        }

        Results.Table t = new Results.Table("route: sealed round trips A -> supernode -> B -> supernode -> A (" + clients.size()
                + " attached)", "mode", "pairs in flight", "round trips/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors",
                "timeouts", "SN CPU cores", "SN CPU ms/rt");
        for (LevelResult lr : out) {
            Results.Summary s = lr.summary();
            t.row(lr.mode(), lr.pairs(), Results.num(s.perSecond()), Results.ms(s.p50Ms()), Results.ms(s.p90Ms()), Results.ms(s.p99Ms()),
                    Results.ms(s.maxMs()), lr.errors() + (lr.errorCodes().isEmpty() ? "" : " " + lr.errorCodes()),
                    lr.timeouts(), Double.isNaN(lr.supernodeCores()) ? "-" : String.format(Locale.ROOT, "%.2f", lr.supernodeCores()),
                    Double.isNaN(lr.supernodeCpuMsPerRoundTrip()) ? "-"
                            : String.format(Locale.ROOT, "%.3f", lr.supernodeCpuMsPerRoundTrip()));
        }
        t.note("each round trip = 2 Route frames + 2 Deliver frames + 2 Routed acks through the supernode (a separate JVM)");
        t.note(String.format(Locale.ROOT, "sealed: payload is a sealed EventPush (%d B) of one signed MESSAGE ChatEvent with 64 bytes "
                + "of text and 1 parent (%d B) plus the author certificate (%d B), as ChatSync routes a new message; the reply is B's "
                + "own event with A's as parent, pushed the same way (no EventAck in the loop)", OPAQUE_BYTES, EVENT_BYTES,
                CERTIFICATE_BYTES));
        t.note(String.format(Locale.ROOT, "sealed: the bench clients do the real client work per message, signing each event when "
                + "it is sent (sign, seal, sender certificate check, open, event signature check: %.0f us measured alone, with "
                + "the ECDH key and the verified certificate cached per peer as in Sealing/CertificateVerifier)", cryptoMicros));
        t.note("relay-only: an opaque payload of the same size, no client crypto: isolates the supernode and the transport");
        t.note("SN CPU: supernode process CPU time during the measured seconds (cores busy, and per round trip)");
        if (badDeliveries.get() > 0) t.note("deliveries that failed verification or opening: " + badDeliveries.get());
        t.print();
        Results.Table b = new Results.Table("route: where the time goes (p50 of each step of the measured round trips, ms)",
                "mode", "pairs in flight", HOPS[0], HOPS[1], HOPS[2], HOPS[3], HOPS[4]);
        for (LevelResult lr : out) {
            double[] h = lr.hopP50Ms();
            b.row(lr.mode(), lr.pairs(), Results.ms(h[0]), Results.ms(h[1]), Results.ms(h[2]), Results.ms(h[3]), Results.ms(h[4]));
        }
        b.note("transit = from handing the Route frame to the connection until the Deliver frame is decoded at the peer,");
        b.note("including queueing on the bench clients' event loops, which also run the client crypto");
        b.print();
        return out;
    }

    private static void sleepUntil(long nanos) throws InterruptedException {
        long d;
        while ((d = nanos - System.nanoTime()) > 0) Thread.sleep(Math.max(1, d / 1_000_000));
    }

    /**
     * Client-side costs in microseconds: {steady-state one-way message, uncached certificate verify, uncached ECDH,
     * event signature, event signature check}.
     */
    private double[] cryptoCost(BenchNetwork net, Pair p) throws Exception {
        Built sample = build(p.a(), p.conversation(), HEAD);
        byte[] der = author(p.a()).certificate();
        OPAQUE_BYTES = Sealing.seal(p.a().id.key(), p.a().id.deviceId(), p.b().id.publicKey(), p.b().id.deviceId(), sample.push()).length;
        Frame.EventPush samplePush = (Frame.EventPush) FrameCodec.decode(sample.push());
        EVENT_BYTES = samplePush.events().get(0).length;
        CERTIFICATE_BYTES = der.length;
        CertificateVerifier receiver = net.newVerifier();
        double perMessage = timeMicros(() -> {
            Built m = build(p.a(), p.conversation(), HEAD);
            byte[] sealed = Sealing.seal(p.a().id.key(), p.a().id.deviceId(), p.b().id.publicKey(), p.b().id.deviceId(), m.push());
            DeviceCertificate from = receiver.verify(der);
            Frame inner = FrameCodec.decode(Sealing.open(p.b().id.key(), p.b().id.deviceId(), from.publicKey(), from.deviceId(), sealed));
            if (accept(receiver, inner, from) == null) throw new IllegalStateException("the bench's own event does not verify");
        }, 1000);
        ChatEvent unsigned = ChatEvent.unsigned(ChatEvent.Kind.MESSAGE, p.conversation(), p.a().id.user(), author(p.a()).device(),
                hlc.now(), List.of(HEAD), null, List.of(), TEXT);
        double sign = timeMicros(() -> CertificateBook.sign(unsigned, p.a().id.key()), 500);
        ChatEvent signed = CertificateBook.sign(unsigned, p.a().id.key());
        byte[] canonical = signed.canonicalBytes();
        double check = timeMicros(() -> {
            if (!signatureValid(p.a().id.publicKey(), canonical, signed.signature())) {
                throw new IllegalStateException("event signature does not verify");
            }
        }, 500);
        // the JDK caches parsed certificates and their verification, so time the CA signature check itself
        java.security.cert.X509Certificate x = p.a().id.certificate();
        byte[] tbs = x.getTBSCertificate();
        byte[] sig = x.getSignature();
        java.security.PublicKey ca = net.caPublicKey();
        double verify = timeMicros(() -> {
            java.security.Signature v = java.security.Signature.getInstance("Ed25519");
            v.initVerify(ca);
            v.update(tbs);
            if (!v.verify(sig)) throw new IllegalStateException("certificate signature does not verify");
        }, 1000);
        double ecdh = timeMicros(() -> {
            javax.crypto.KeyAgreement ka = javax.crypto.KeyAgreement.getInstance("ECDH");
            ka.init(p.a().id.key());
            ka.doPhase(p.b().id.publicKey(), true);
            ka.generateSecret();
        }, 1000);
        return new double[] {perMessage, verify, ecdh, sign, check};
    }

    private interface Work {
        void run() throws Exception;
    }

    /** Average time of {@code w} over about {@code millis} ms, after 100 unmeasured runs. */
    private static double timeMicros(Work w, long millis) throws Exception {
        for (int i = 0; i < 100; i++) w.run();
        long t0 = System.nanoTime();
        long end = t0 + TimeUnit.MILLISECONDS.toNanos(millis);
        long n = 0;
        do {
            w.run();
            n++;
        } while (System.nanoTime() < end);
        return (System.nanoTime() - t0) / 1000.0 / n;
    }

    /** Size of a sealed EventPush (one 64-byte-text event and its author certificate) between bench users (computed once). */
    private static volatile int OPAQUE_BYTES = -1;
    /** Sizes of one encoded 64-byte-text event and of a bench client's certificate DER (computed once, for the notes). */
    private static volatile int EVENT_BYTES = -1;
    private static volatile int CERTIFICATE_BYTES = -1;

    private Author author(BenchClient c) {
        return authors.computeIfAbsent(c, k -> {
            try {
                return new Author(HexFormat.of().parseHex(k.id.deviceId()), k.id.certificate().getEncoded());
            } catch (CertificateEncodingException e) {
                throw new IllegalStateException("cannot encode the certificate of " + k.id.user(), e);
            }
        });
    }

    /**
     * What the daemon routes for a new message: one MESSAGE event with {@link #TEXT}, signed now with the client's
     * device key, in a live EventPush with the author's certificate.
     */
    private Built build(BenchClient me, byte[] conversation, byte[] parent) {
        Author au = author(me);
        ChatEvent e = CertificateBook.sign(ChatEvent.unsigned(ChatEvent.Kind.MESSAGE, conversation, me.id.user(), au.device(),
                hlc.now(), List.of(parent), null, List.of(), TEXT), me.id.key());
        byte[] push = FrameCodec.encode(new Frame.EventPush(0, List.of(e.encode()), List.of(au.certificate())));
        return new Built(e.id(), push);
    }

    /**
     * The receiving side of an opened push, as ChatReplica checks it (without the store): exactly one MESSAGE event
     * with one parent, whose author certificate (from the push, else the sealing device's) is this network's, names
     * the event's author, and verifies its signature. Returns the decoded event, or null if anything does not hold.
     */
    private static ChatEvent.Decoded accept(CertificateVerifier verifier, Frame inner, DeviceCertificate from)
            throws CertificateRejectedException, WireFormatException {
        if (!(inner instanceof Frame.EventPush p) || p.events().size() != 1) return null;
        ChatEvent.Decoded d = ChatEvent.decode(p.events().get(0));
        ChatEvent e = d.event();
        if (e.kind() != ChatEvent.Kind.MESSAGE || e.parents().size() != 1) return null;
        String device = e.deviceHex();
        DeviceCertificate cert = from.deviceId().equals(device) ? from : null;
        for (byte[] der : p.certificates()) {
            DeviceCertificate c = verifier.verify(der); // cached after the first time, as in a daemon
            if (c.deviceId().equals(device)) cert = c;
        }
        if (cert == null || !cert.user().equals(e.author())) return null;
        byte[] canonical = Arrays.copyOf(d.encoded(), d.encoded().length - 1 - e.signature().length);
        return signatureValid(cert.publicKey(), canonical, e.signature()) ? d : null;
    }

    private static boolean signatureValid(PublicKey key, byte[] canonical, byte[] signature) {
        try {
            Signature s = Signature.getInstance(Keys.signatureAlgorithm(key.getAlgorithm()));
            s.initVerify(key);
            s.update(canonical);
            return s.verify(signature);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false;
        }
    }

    /** Opaque payload: 'O', kind (0 request, 1 reply), the 32-character id, random filler to the sealed size. */
    private static byte[] opaque(String id, byte kind) {
        byte[] b = new byte[OPAQUE_BYTES];
        java.util.concurrent.ThreadLocalRandom.current().nextBytes(b);
        b[0] = 'O';
        b[1] = kind;
        System.arraycopy(id.getBytes(java.nio.charset.StandardCharsets.US_ASCII), 0, b, 2, 32);
        return b;
    }

    private static String hexId(long n) {
        String h = Long.toHexString(n);
        return "0".repeat(32 - h.length()) + h;
    }

    private void fire(Level level, Slot s) {
        if (!level.running) return;
        Pair p = s.pairs[s.next++ % s.pairs.length];
        long t0 = System.nanoTime();
        String id;
        byte[] sealed;
        if (level.sealed) {
            Built m = build(p.a(), p.conversation(), HEAD);
            id = HexFormat.of().formatHex(m.id());
            sealed = Sealing.seal(p.a().id.key(), p.a().id.deviceId(), p.b().id.publicKey(), p.b().id.deviceId(), m.push());
        } else {
            id = hexId(seq.incrementAndGet());
            sealed = opaque(id, (byte) 0);
        }
        long req = p.a().nextRequestId();
        Inflight f = new Inflight(level, s, t0);
        inflight.put(id, f);
        requests.put(req, id);
        f.sentA = System.nanoTime();
        p.a().send(new Frame.Route(req, p.b().id.deviceId(), sealed));
    }

    @Override
    public void deliver(BenchClient me, Frame.Deliver d) {
        long arrived = System.nanoTime();
        byte[] pl = d.payload();
        if (!sealedMode) {
            if (pl.length != OPAQUE_BYTES || pl[0] != 'O') {
                badDeliveries.incrementAndGet();
                return;
            }
            String id = new String(pl, 2, 32, java.nio.charset.StandardCharsets.US_ASCII);
            if (pl[1] == 0) {
                long req = me.nextRequestId();
                requests.put(req, id);
                Inflight f = inflight.get(id);
                if (f != null) {
                    f.arrivedB = arrived;
                    f.sentB = System.nanoTime();
                }
                me.send(new Frame.Route(req, d.fromDevice(), opaque(id, (byte) 1)));
            } else {
                complete(id, arrived);
            }
            return;
        }
        DeviceCertificate from;
        ChatEvent.Decoded ev;
        try {
            from = me.verifier.verify(d.fromCertificate());
            Frame inner = FrameCodec.decode(Sealing.open(me.id.key(), me.id.deviceId(), from.publicKey(), from.deviceId(), d.payload()));
            ev = accept(me.verifier, inner, from);
        } catch (CertificateRejectedException | WireFormatException | IllegalArgumentException e) {
            badDeliveries.incrementAndGet();
            return;
        }
        if (ev == null) {
            badDeliveries.incrementAndGet();
            return;
        }
        byte[] parent = ev.event().parents().get(0);
        if (Arrays.equals(parent, HEAD)) {
            // B: answer with its own signed event (parent: A's event), pushed and sealed the same way
            String id = HexFormat.of().formatHex(ev.id());
            Built reply = build(me, ev.event().conversation(), ev.id());
            byte[] sealed = Sealing.seal(me.id.key(), me.id.deviceId(), from.publicKey(), from.deviceId(), reply.push());
            long req = me.nextRequestId();
            requests.put(req, id);
            Inflight f = inflight.get(id);
            if (f != null) {
                f.arrivedB = arrived;
                f.sentB = System.nanoTime();
            }
            me.send(new Frame.Route(req, from.deviceId(), sealed));
            return;
        }
        // A: the reply names the request's event as its parent
        complete(HexFormat.of().formatHex(parent), arrived);
    }

    /** A's side: the reply arrived (and was opened and verified); record and start the slot's next round trip. */
    private void complete(String id, long arrived) {
        Inflight f = inflight.remove(id);
        if (f == null) return; // timed out meanwhile
        long now = System.nanoTime();
        Level level = f.level();
        if (f.t0() >= level.measureFrom && now <= level.measureTo) {
            level.micros.recordValue(Math.max(1, (now - f.t0()) / 1000));
            if (f.arrivedB != 0) {
                long[] at = {f.t0, f.sentA, f.arrivedB, f.sentB, arrived, now};
                for (int i = 0; i < 5; i++) level.hops[i].recordValue(Math.max(0, (at[i + 1] - at[i]) / 1000));
            }
        }
        fire(level, f.slot());
    }

    @Override
    public void routed(BenchClient c, Frame.Routed r) {
        requests.remove(r.requestId());
    }

    @Override
    public void error(BenchClient c, Frame.Error e) {
        String id = requests.remove(e.requestId());
        if (id == null) return;
        Inflight f = inflight.remove(id);
        if (f == null) return;
        f.level().errors.incrementAndGet();
        f.level().errorCodes.computeIfAbsent(ErrorCode.of(e.code()).name(), x -> new AtomicLong()).incrementAndGet();
        // back off a little before the slot's next round trip
        timer.schedule(() -> fire(f.level(), f.slot()), 10, TimeUnit.MILLISECONDS);
    }

    /** Round trips without an answer after 5 s are counted as timeouts and their slot moves on. */
    private void sweep() {
        long now = System.nanoTime();
        for (Map.Entry<String, Inflight> e : inflight.entrySet()) {
            Inflight f = e.getValue();
            if (now - f.t0() > ROUND_TRIP_TIMEOUT_NANOS && inflight.remove(e.getKey(), f)) {
                f.level().timeouts.incrementAndGet();
                fire(f.level(), f.slot());
            }
        }
        if (requests.size() > 100_000) requests.clear(); // answers lost with their connection
    }
}
