package org.parley.client;

import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.random.RandomGenerator;
import org.parley.chat.CertificateBook;
import org.parley.chat.ChatReplica;
import org.parley.chat.Conversation;
import org.parley.chat.SqliteEventStore;
import org.parley.chat.StoredEvent;
import org.parley.identity.DirectoryRecords;
import org.parley.identity.Keys;
import org.parley.overlay.AdmissionConfig;
import org.parley.overlay.AttachPlanner;
import org.parley.overlay.Promotion;
import org.parley.supernode.Supernode;
import org.parley.supernode.SupernodeConfig;
import org.parley.overlay.HostCache;
import org.parley.identity.CertificateRejectedException;
import org.parley.identity.CertificateVerifier;
import org.parley.identity.DeviceCertificate;
import org.parley.identity.DeviceCredentials;
import org.parley.identity.HostPort;
import org.parley.identity.LoginClient;
import org.parley.identity.LoginException;
import org.parley.identity.NetworkFile;
import org.parley.identity.Role;
import org.parley.identity.UserNames;
import org.parley.protocol.ChatEvent;
import org.parley.protocol.DeviceRecord;
import org.parley.protocol.ErrorCode;
import org.parley.protocol.Frame;
import org.parley.protocol.FrameCodec;
import org.parley.protocol.HybridClock;
import org.parley.protocol.Limits;
import org.parley.protocol.Sealing;
import org.parley.protocol.WireFormatException;
import org.parley.transport.Connection;
import org.parley.transport.ConnectionHandler;
import org.parley.transport.QuicNode;
import org.parley.transport.TlsIdentity;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client daemon of one device. All state changes run on one worker thread; network callbacks and
 * API calls hand work to it. Blocking dials run on virtual threads.
 */
public final class ClientDaemon implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ClientDaemon.class);
    public static final int CLIENT_VERSION = DeviceCredentials.CLIENT_VERSION;

    /** A supernode refused admission because of load. */
    static final class RedirectedException extends Exception {
        final Frame.Redirect redirect;

        RedirectedException(Frame.Redirect r) {
            super("redirected: " + r.reason(), null, false, false);
            this.redirect = r;
        }
    }

    /** A supernode answered a request with an error frame. */
    static final class ErrorFrameException extends Exception {
        final ErrorCode code;

        ErrorFrameException(Frame.Error e) {
            super(e.message(), null, false, false);
            this.code = ErrorCode.of(e.code());
        }
    }

    /** What the daemon tells local listeners (the API's event stream, bots, tests). */
    public sealed interface Event {
        /** An event was stored in a conversation: written here ({@code own}) or received from another device. */
        record Stored(String conversation, String id, String kind, String author, boolean own) implements Event {}

        /** A device of another user confirmed holding these of this device's events (hex ids). */
        record Delivered(String user, List<String> ids) implements Event {}

        /** A watched user's presence changed: online, away, busy or offline (over all their devices). */
        record Presence(String user, String presence) implements Event {}

        /** A call changed state (ringing, connected, ended with its report). */
        record CallChanged(Calls.View call) implements Event {}
    }

    private final Path home;
    private final ClientConfig config;
    private final Clock clock;
    private final RandomGenerator random;
    private final DeviceCredentials credentials;
    private final NetworkFile network;
    private final CertificateVerifier verifier;
    private final TlsIdentity identity;
    private final QuicNode node;
    private final ChatReplica chat;
    private final ChatSync chatSync;
    private final HybridClock hlc;
    private final ScheduledExecutorService worker;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final String me;
    private final String myDevice;
    private final List<Consumer<Event>> listeners = new CopyOnWriteArrayList<>();

    // supernode link
    private volatile Connection supernode;
    private volatile String supernodeId;
    private volatile String observedAddress;
    private volatile long supernodeRttMillis = -1;
    private volatile long attachedSince;
    private volatile String linkState = "connecting";
    private volatile String lastLinkError;
    /** Host cache of supernodes (persisted in hosts.txt) and the attach order built on it; attach thread only. */
    private final HostCache hostCache;
    private final AttachPlanner planner;
    private final DirectoryRecords recordChecker;
    /** The supernode we are attached to, as host:port: our directory record names it. */
    private volatile String supernodeAddress;
    private volatile long lastPongNanos;
    private long recordSequence;
    private volatile long lastPublishedAt;
    // supernode duty (promotion): worker thread, the running supernode is volatile for status and close
    private final Promotion promotion;
    private final long startedAt;
    private final MeterRegistry registry;
    private volatile Supernode duty;
    private volatile String dutyState = "off (not opted in)";
    private volatile int dialBackConfirmations;
    private volatile long dialBackAt;
    private boolean dutyStarting;
    private long bytesSentMark = -1, bytesSentAt;
    /** Device id -> the supernode its directory record names (for routing to devices attached elsewhere). */
    private final Map<String, String> supernodeOf = new ConcurrentHashMap<>();
    private volatile CompletableFuture<Frame> pendingWelcome;
    private final Map<Long, CompletableFuture<Frame>> requests = new ConcurrentHashMap<>();
    private final AtomicLong nextRequest = new AtomicLong(1);
    private final Object linkSignal = new Object();
    private volatile boolean running = true;
    private volatile String presence = "online";
    /** False while the user works offline (no supernode link, no peer sessions). */
    private volatile boolean online = true;
    /** Watched users' presence per online device, as the supernode reports it. Worker thread writes. */
    private final Map<String, Map<String, String>> presenceOf = new ConcurrentHashMap<>();
    private final Contacts contacts;
    private final Calls calls;
    private volatile String renewalProblem;
    private volatile long nextRenewalAttempt;

    // peers (worker thread only unless concurrent)
    private final PeerSessions peers;
    private final Map<String, DeviceCertificate> knownDevices = new ConcurrentHashMap<>();
    private final Map<String, List<DeviceRecord>> devicesByUser = new ConcurrentHashMap<>();
    private final Map<String, Long> devicesFetched = new ConcurrentHashMap<>();
    private final Set<String> watched = Collections.synchronizedSet(new LinkedHashSet<>());
    private final Thread attachThread;

    private ClientDaemon(Path home, ClientConfig config, MeterRegistry registry, Clock clock, RandomGenerator random,
                         QuicNode.Options options) throws IOException {
        this.home = home;
        this.config = config;
        this.clock = clock;
        this.random = random;
        this.lockChannel = FileChannel.open(home.resolve("daemon.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock l;
        try {
            l = lockChannel.tryLock();
        } catch (java.nio.channels.OverlappingFileLockException e) {
            l = null;
        }
        if (l == null) {
            lockChannel.close();
            throw new IOException("a client daemon is already running for " + home);
        }
        this.lock = l;
        try {
            this.credentials = DeviceCredentials.load(home);
            this.network = credentials.networkFile();
            this.verifier = CertificateVerifier.of(network, clock);
            this.me = credentials.user();
            this.myDevice = credentials.deviceId();
            ensureValidCertificate();
            this.identity = new TlsIdentity(credentials.privateKey(), credentials.certificate());
            // bind first: a taken port must not leave the store open
            this.node = QuicNode.bind(config.listen().toSocketAddress(), identity, verifier, null, peerHandler, options, registry);
            this.hlc = new HybridClock(clock);
            try {
                SqliteEventStore events = new SqliteEventStore(home.resolve("chat.db"));
                try {
                    this.chat = new ChatReplica(events, new CertificateBook(verifier, events), me,
                            HexFormat.of().parseHex(myDevice), credentials.privateKey(), encodedCertificate(), hlc, clock);
                } catch (RuntimeException e) {
                    events.close();
                    throw e;
                }
            } catch (RuntimeException e) {
                node.close();
                throw e;
            }
            // network callbacks may still hand work over while the daemon shuts down: drop it quietly then
            java.util.concurrent.ScheduledThreadPoolExecutor w = new java.util.concurrent.ScheduledThreadPoolExecutor(1, r -> {
                Thread t = new Thread(r, "client-worker-" + me);
                t.setDaemon(true);
                return t;
            }, new java.util.concurrent.ThreadPoolExecutor.DiscardPolicy());
            w.setRemoveOnCancelPolicy(true);
            this.worker = w;
        } catch (IOException | RuntimeException e) {
            lock.release();
            lockChannel.close();
            throw e;
        }
        this.recordChecker = new DirectoryRecords(verifier);
        this.registry = registry;
        this.startedAt = clock.millis();
        SupernodeDuty d = config.duty();
        this.promotion = new Promotion(new Promotion.PromotionPolicy(true, d.optIn(), d.minUptime().toMillis(),
                d.minConfirmations(), 1000, 0.25, 120_000));
        this.hostCache = loadHostCache(home.resolve("hosts.txt"));
        this.contacts = new Contacts(home.resolve(Contacts.FILE));
        this.planner = new AttachPlanner(hostCache, network.seeds().stream().map(HostPort::toString).toList(), random,
                config.backoffBase(), config.backoffMax());
        this.peers = new PeerSessions(node, worker, clock, random, myDevice, config.peerDialTimeout(), config.directSessions(), peerHandler, signals);
        this.chatSync = new ChatSync(chat, me, myDevice, clock, worker, chatNet, config.resendAfter().toMillis());
        this.calls = new Calls(me, myDevice, clock, random, home, worker, callNet, v -> emit(new Event.CallChanged(v)),
                config.mediaDropPercent() / 100.0);
        registry.gauge("parley.chat.events.accepted", chat, ChatReplica::acceptedCount);
        registry.gauge("parley.chat.events.rejected", chat, ChatReplica::rejectedCount);
        registry.gauge("parley.chat.events.pending", chat, ChatReplica::pendingCount);
        worker.scheduleWithFixedDelay(this::tick, 1, 1, TimeUnit.SECONDS);
        worker.scheduleWithFixedDelay(this::sessionTick, 250, 250, TimeUnit.MILLISECONDS);
        attachThread = Thread.ofVirtual().name("attach-" + me).start(this::attachLoop);
        if (config.duty().optIn()) {
            dutyState = "client (checking eligibility for supernode duty)";
            long every = config.duty().checkEvery().toMillis();
            worker.scheduleWithFixedDelay(this::promotionTick, every, every, TimeUnit.MILLISECONDS);
        }
    }

    /** The supernode this device runs while promoted, or null. */
    public Supernode supernodeDuty() {
        return duty;
    }

    /**
     * Supernode duty, re-evaluated every {@link SupernodeDuty#checkEvery()}: dial-back confirmation through the
     * supernodes, uptime, spare upstream; promotion asks the login server for a supernode certificate (refused
     * unless the network's policy allows it) and starts a supernode capped to a share of the uplink; demotion
     * stops it. Worker thread.
     */
    private void promotionTick() {
        try {
            if (!running) return;
            long now = clock.millis();
            Connection sn = supernode;
            String observed = observedAddress;
            boolean confirmedRecently = dialBackConfirmations >= config.duty().minConfirmations() && now - dialBackAt < 600_000;
            if (sn != null && observed != null && !confirmedRecently) {
                long id = nextRequest.getAndIncrement();
                request(sn, id, new Frame.DialBack(id, observed)).orTimeout(15, TimeUnit.SECONDS).whenComplete((f, t) -> {
                    if (f instanceof Frame.DialBackResult r) {
                        dialBackConfirmations = r.confirmations();
                        dialBackAt = clock.millis();
                    }
                });
            }
            long sent = 0;
            for (PeerSessions.Info i : peers.infos()) {
                try {
                    sent += i.connection().byteCounts().get(1, TimeUnit.SECONDS)[0];
                } catch (Exception ignored) {
                    // unknown
                }
            }
            int usedKbps = bytesSentMark < 0 || now <= bytesSentAt ? 0
                    : (int) Math.max(0, (sent - bytesSentMark) * 8 / Math.max(1, now - bytesSentAt));
            bytesSentMark = sent;
            bytesSentAt = now;
            int spare = Math.max(0, config.duty().uplinkKbps() - usedKbps);
            Promotion.Role role = promotion.evaluate(new Promotion.Observation(now - startedAt, dialBackConfirmations, spare, false), now);
            if (role == Promotion.Role.SUPERNODE && duty == null && !dutyStarting && observed != null) {
                dutyStarting = true;
                Thread.ofVirtual().name("promote-" + me).start(() -> startDuty(observed));
            } else if (role == Promotion.Role.CLIENT && duty != null) {
                stopDuty();
            }
            if (!dutyStarting) dutyState = (duty != null ? "supernode at " + duty.advertised() + " (" : "client (") + promotion.reason() + ")";
        } catch (RuntimeException e) {
            log.warn("supernode duty check failed: {}", e.toString());
        }
    }

    private void startDuty(String observed) {
        try {
            DeviceCredentials sc = credentials.promote(home.resolve("supernode"), new LoginClient(network));
            SupernodeDuty d = config.duty();
            AdmissionConfig cap = promotion.dutyCapacity(d.uplinkKbps(), false);
            HostPort listen = d.listen() != null ? d.listen() : new HostPort(config.listen().host(), 0);
            if (listen.port() == 0) listen = new HostPort(listen.host(), freeUdpPort(listen.host()));
            String host = HostPort.parse(observed).host();
            SupernodeConfig sc2 = SupernodeConfig.defaults(listen).withCapacity(cap.maxClients())
                    .withRates(cap.attachesPerSecond(), cap.lookupsPerSecond(), cap.relayBytesPerSecond())
                    .withAdvertise(new HostPort(host, listen.port()))
                    .withRelay(new HostPort(listen.host(), 0), org.parley.supernode.relay.RelayConfig.defaults(), true);
            Supernode s = Supernode.start(sc, sc2, registry);
            if (!running || promotion.role() != Promotion.Role.SUPERNODE) {
                s.close();
            } else {
                duty = s;
                dutyState = "supernode at " + s.advertised() + " (" + promotion.reason() + ")";
                log.info("{}: promoted to supernode duty at {} (capacity {} clients)", me, s.advertised(), cap.maxClients());
            }
        } catch (LoginException e) {
            if ("promotion_not_allowed".equals(e.code())) {
                Promotion.PromotionPolicy p = promotion.policy();
                promotion.updatePolicy(new Promotion.PromotionPolicy(false, p.optedIn(), p.minUptimeMillis(),
                        p.minConfirmations(), p.minSpareKbps(), p.dutyShare(), p.demoteAfterMillis()));
            }
            dutyState = "client (promotion refused: " + e.getMessage() + ")";
            log.info("{}: promotion refused: {}", me, e.getMessage());
        } catch (IOException | RuntimeException e) {
            dutyState = "client (cannot start supernode duty: " + e.getMessage() + ")";
            log.warn("{}: cannot start supernode duty: {}", me, e.getMessage());
        } finally {
            worker.execute(() -> dutyStarting = false);
        }
    }

    private static int freeUdpPort(String host) throws IOException {
        try (java.net.DatagramSocket s = new java.net.DatagramSocket(new InetSocketAddress(host, 0))) {
            return s.getLocalPort();
        }
    }

    private void stopDuty() {
        Supernode s = duty;
        duty = null;
        if (s != null) {
            s.close();
            log.info("{}: supernode duty ended: {}", me, promotion.reason());
        }
    }

    /** Opts in or out of supernode duty at run time; opting out ends duty at once. */
    public void setSupernodeOptIn(boolean optIn) {
        worker.execute(() -> {
            Promotion.PromotionPolicy p = promotion.policy();
            promotion.updatePolicy(new Promotion.PromotionPolicy(p.networkAllows(), optIn, p.minUptimeMillis(),
                    p.minConfirmations(), p.minSpareKbps(), p.dutyShare(), p.demoteAfterMillis()));
            promotionTick();
        });
    }

    public static ClientDaemon start(Path home, ClientConfig config, MeterRegistry registry) throws IOException {
        return start(home, config, registry, Clock.systemUTC(), RandomGenerator.getDefault(), QuicNode.Options.DEFAULT);
    }

    public static ClientDaemon start(Path home, ClientConfig config, MeterRegistry registry, Clock clock,
                                     RandomGenerator random, QuicNode.Options options) throws IOException {
        return new ClientDaemon(home, config, registry, clock, random, options);
    }

    private void ensureValidCertificate() throws IOException {
        try {
            verifier.verify(credentials.certificate());
        } catch (CertificateRejectedException e) {
            if (e.reason() == CertificateRejectedException.Reason.EXPIRED) {
                try {
                    credentials.renew(new LoginClient(network));
                    return;
                } catch (LoginException le) {
                    throw new IOException("the device certificate expired and renewal failed (" + le.getMessage()
                            + "); log in again");
                }
            }
            throw new IOException("the device certificate is unusable: " + e.getMessage() + "; log in again");
        }
    }

    public String user() {
        return me;
    }

    public String deviceId() {
        return myDevice;
    }

    public Path home() {
        return home;
    }

    public InetSocketAddress address() {
        return node.localAddress();
    }

    /** This device's replica of its user's conversations. */
    public ChatReplica chat() {
        return chat;
    }

    public void addListener(Consumer<Event> l) {
        listeners.add(l);
    }

    public void removeListener(Consumer<Event> l) {
        listeners.remove(l);
    }

    /** The connection state in brief (cheap: for polling). */
    public record LinkSummary(boolean online, String linkState, int queued) {}

    public LinkSummary linkSummary() {
        return new LinkSummary(online, linkState, chatSync.outboxSize());
    }

    private void emit(Event e) {
        for (Consumer<Event> l : listeners) {
            try {
                l.accept(e);
            } catch (RuntimeException ex) {
                log.debug("listener failed: {}", ex.toString());
            }
        }
    }

    // ------------------------------------------------------------------ public operations

    /** Thrown for requests the user must correct; the message is one line. */
    public static final class BadRequest extends RuntimeException {
        public BadRequest(String message) {
            super(message);
        }
    }

    /**
     * Stores a new 1:1 message durably (an event of the conversation with {@code to}) and pushes it. Returns once it
     * is committed to the local store (the acknowledgement to the user); delivery continues in the background.
     */
    public StoredMessage send(String to, String text) {
        if (!UserNames.isValid(to)) throw new BadRequest("'" + to + "' is not a valid user name");
        if (to.equals(me)) throw new BadRequest("cannot send a message to yourself");
        if (text == null || text.isEmpty()) throw new BadRequest("message text is empty");
        int bytes = text.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > Limits.MAX_TEXT_BYTES) {
            throw new BadRequest("message is " + bytes + " bytes; the limit is " + Limits.MAX_TEXT_BYTES + " bytes (UTF-8)");
        }
        StoredEvent e = chatCall(() -> {
            byte[] conv = chat.dm(to);
            return chat.post(conv, ChatEvent.Kind.MESSAGE, null, List.of(), text);
        });
        published(e);
        return new StoredMessage(HexFormat.of().formatHex(e.id()), to, me, to, e.event().hlc(),
                HybridClock.millis(e.event().hlc()), text, StoredMessage.QUEUED, null, e.storedAtMillis());
    }

    private void published(StoredEvent e) {
        emit(stored(e, true));
        worker.execute(() -> {
            if (watched.addAll(chat.members(e.conversation()))) resubscribe();
            chatSync.published(e);
        });
    }

    private <T> T chatCall(java.util.function.Supplier<T> f) {
        try {
            return f.get();
        } catch (ChatReplica.ChatException e) {
            throw new BadRequest(e.getMessage());
        }
    }

    /** The 1:1 conversation with {@code with}: its messages in display order, with each one's state. */
    public List<StoredMessage> history(String with, int limit) {
        if (!UserNames.isValid(with)) throw new BadRequest("'" + with + "' is not a valid user name");
        byte[] conv = Conversation.dmId(me, with);
        if (!chat.knows(conv)) return List.of();
        List<StoredMessage> out = new ArrayList<>();
        for (ChatReplica.Line l : chat.history(conv, Math.min(Math.max(limit, 1), 10_000))) {
            if (!l.kind().equals("message")) continue;
            byte[] id = HexFormat.of().parseHex(l.id());
            boolean mine = l.author().equals(me);
            String state = !mine ? StoredMessage.RECEIVED : l.heldBy().contains(with) ? StoredMessage.DELIVERED : StoredMessage.QUEUED;
            String path = !mine ? chat.store().via(id) : state.equals(StoredMessage.DELIVERED) ? chat.store().receiptPath(id) : null;
            out.add(new StoredMessage(l.id(), with, l.author(), mine ? with : me, l.hlc(), l.sentAtMillis(),
                    l.deleted() ? "" : l.text(), state, path, l.sentAtMillis()));
        }
        return out;
    }

    // ------------------------------------------------------------------ group and 1:1 conversations

    /** Creates a group conversation; the creator is a member and its owner. */
    public ChatReplica.Summary chatCreate(String name, List<String> members) {
        for (String m : members) if (!UserNames.isValid(m)) throw new BadRequest("'" + m + "' is not a valid user name");
        StoredEvent e = chatCall(() -> chat.create(name, members));
        published(e);
        return summary(e.conversation());
    }

    private ChatReplica.Summary summary(byte[] conv) {
        String hex = HexFormat.of().formatHex(conv);
        return chat.list().stream().filter(x -> x.id().equals(hex)).findFirst()
                .orElseThrow(() -> new BadRequest("no conversation " + hex));
    }

    public List<ChatReplica.Summary> chatList() {
        return chat.list();
    }

    /** One conversation's summary. */
    public ChatReplica.Summary chatSummary(String idOrPrefix) {
        return summary(chatResolve(idOrPrefix));
    }

    /** The 1:1 conversation with {@code user}, created (one signed event, pushed) if this device has none yet. */
    public ChatReplica.Summary chatDirect(String user) {
        if (!UserNames.isValid(user)) throw new BadRequest("'" + user + "' is not a valid user name");
        byte[] id = Conversation.dmId(me, user);
        boolean known = chat.knows(id);
        chatCall(() -> chat.dm(user));
        byte[] newest = known ? null : chat.newest(id);
        if (newest != null) for (StoredEvent created : chat.store().get(List.of(newest))) published(created);
        return summary(id);
    }

    // ------------------------------------------------------------------ contacts and presence

    /** A contact: presence over all their devices (online, away, busy or offline) and whether the user added them. */
    public record Contact(String user, String presence, int devices, boolean added) {}

    /** Added contacts plus everyone this user shares a conversation with, by name. */
    public List<Contact> contacts() {
        java.util.TreeSet<String> users = new java.util.TreeSet<>(contacts.list());
        for (ChatReplica.Summary s : chat.list()) if (s.member()) users.addAll(s.members());
        users.remove(me);
        List<Contact> out = new ArrayList<>();
        Set<String> added = Set.copyOf(contacts.list());
        for (String u : users) {
            Map<String, String> devs = presenceOf.getOrDefault(u, Map.of());
            out.add(new Contact(u, aggregatePresence(devs), devs.size(), added.contains(u)));
        }
        return out;
    }

    public Contact addContact(String user) {
        if (!UserNames.isValid(user)) throw new BadRequest("'" + user + "' is not a valid user name");
        if (user.equals(me)) throw new BadRequest("you cannot add yourself as a contact");
        contacts.add(user);
        worker.execute(() -> {
            if (watched.add(user)) resubscribe();
        });
        return contacts().stream().filter(c -> c.user().equals(user)).findFirst().orElseThrow();
    }

    public void removeContact(String user) {
        if (!UserNames.isValid(user)) throw new BadRequest("'" + user + "' is not a valid user name");
        contacts.remove(user);
    }

    private static String aggregatePresence(Map<String, String> devices) {
        String best = "offline";
        for (String p : devices.values()) {
            if (p.equals("online")) return "online";
            if (p.equals("busy") || (p.equals("away") && best.equals("offline"))) best = p;
        }
        return best;
    }

    // ------------------------------------------------------------------ working offline

    /**
     * The "work offline" switch. Offline closes the supernode link and every peer session and keeps them closed:
     * reads and writes go on against the local store, and everything written is pushed when back online.
     */
    public void setOnline(boolean on) {
        if (online == on) return;
        online = on;
        log.info("{} is now working {}", me, on ? "online" : "offline");
        if (!on) {
            linkState = "offline";
            Connection sn = supernode;
            if (sn != null) sn.close();
            worker.execute(() -> peers.setEnabled(false));
        } else {
            linkState = "connecting";
            worker.execute(() -> peers.setEnabled(true));
        }
        synchronized (linkSignal) {
            linkSignal.notifyAll();
        }
    }

    public boolean online() {
        return online;
    }

    public byte[] chatResolve(String idOrPrefix) {
        return chatCall(() -> chat.resolve(idOrPrefix));
    }

    /** Appends an event of the given kind to a conversation and pushes it. */
    public StoredEvent chatPost(String conversation, ChatEvent.Kind kind, String targetEvent, List<String> users, String text) {
        StoredEvent e = chatCall(() -> {
            byte[] conv = chat.resolve(conversation);
            byte[] target = targetEvent == null ? null : chat.resolveEvent(conv, targetEvent);
            if (kind == ChatEvent.Kind.READ) {
                target = chat.newest(conv);
                if (target == null) throw new ChatReplica.ChatException("nothing to mark as read");
            }
            return chat.post(conv, kind, target, users, text);
        });
        published(e);
        return e;
    }

    public List<ChatReplica.Line> chatHistory(String conversation, int limit) {
        return chatCall(() -> chat.history(chat.resolve(conversation), Math.min(Math.max(limit, 1), 100_000)));
    }

    public void setPresence(String p) {
        if (!List.of("online", "away", "busy", "invisible").contains(p)) {
            throw new BadRequest("presence must be online, away, busy or invisible");
        }
        presence = p;
        Connection sn = supernode;
        if (sn != null) {
            sn.send(new Frame.SetPresence(p));
            worker.execute(this::publishRecord);
        }
    }

    /**
     * Session info for status output. {@code path} is direct-lan, direct-punched or relayed; {@code via}
     * names the supernode relay of a relayed session.
     */
    public record SessionInfo(String user, String deviceId, String path, String via, String remote, long rttMillis,
                              long bytesSent, long bytesReceived, long sinceMillis, int pathChanges) {}

    public record Status(String user, String deviceId, String presence, boolean online, String linkState, String supernode,
                         String supernodeAddress, String observedAddress, long supernodeRttMillis, long attachedSince,
                         String lastLinkError, String localAddress, long certificateExpiresAt, long certificateRenewAt,
                         String renewalProblem, int queued, List<SessionInfo> sessions, String supernodeDuty,
                         ChatStatus chat) {}

    /**
     * Conversations on this device: how many, stored events, events accepted / rejected / waiting for parents since
     * start, and reconciliation traffic (bytes of SyncHello, SyncRange and sync EventPush frames each way, and
     * SyncRange messages sent).
     */
    public record ChatStatus(int conversations, long events, long accepted, long rejected, int pending, long syncBytesOut,
                             long syncBytesIn, long syncMessagesOut) {}

    /** Starts a sync (SyncHello) with every open peer session now. */
    public void syncNow() {
        worker.execute(chatSync::syncAll);
    }

    public Status status() {
        List<PeerSessions.Info> raw;
        try {
            raw = worker.submit(peers::infos).get(2, TimeUnit.SECONDS);
        } catch (Exception e) {
            raw = List.of();
        }
        List<SessionInfo> infos = new ArrayList<>();
        for (PeerSessions.Info i : raw) {
            Connection c = i.connection();
            long rtt = -1;
            long[] bytes = {-1, -1};
            try {
                rtt = c.rttMillis().get(1, TimeUnit.SECONDS);
                bytes = c.byteCounts().get(1, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // report unknown
            }
            infos.add(new SessionInfo(i.user(), i.deviceId(), i.path(), i.via(), i.remote(), rtt, bytes[0], bytes[1],
                    i.sinceMillis(), i.pathChanges()));
        }
        Connection sn = supernode;
        return new Status(me, myDevice, presence, online, linkState, supernodeId,
                sn == null ? null : HostPort.of(sn.remoteAddress()).toString(), observedAddress, supernodeRttMillis,
                attachedSince, lastLinkError, HostPort.of(node.localAddress()).toString(),
                credentials.expiresAt().toEpochMilli(), credentials.renewAt().toEpochMilli(), renewalProblem,
                chatSync.outboxSize(), infos, dutyState,
                new ChatStatus(chat.conversationIds().size(), chat.store().count(), chat.acceptedCount(), chat.rejectedCount(),
                        chat.pendingCount(), chatSync.syncBytesOut.get(), chatSync.syncBytesIn.get(), chatSync.syncRounds.get()));
    }

    public boolean attached() {
        Connection sn = supernode;
        return sn != null && sn.isOpen();
    }

    // ------------------------------------------------------------------ supernode attachment

    private static HostCache loadHostCache(Path file) {
        try {
            return Files.exists(file) ? HostCache.decode(Files.readString(file, StandardCharsets.UTF_8)) : new HostCache();
        } catch (IOException | RuntimeException e) {
            return new HostCache(); // a damaged cache only costs hints
        }
    }

    private void saveHostCache() {
        try {
            Keys.writeAtomically(home.resolve("hosts.txt"), hostCache.encode().getBytes(StandardCharsets.UTF_8), false);
        } catch (RuntimeException e) {
            log.debug("cannot save the host cache: {}", e.getMessage());
        }
    }

    /**
     * Attaches and stays attached: rounds of candidates from the {@link AttachPlanner} (redirect hints, host
     * cache, seeds), following redirects at once, backing off with jitter between failed rounds, and re-attaching
     * right after a link loss (the peer-to-peer sessions do not depend on the supernode link and stay up).
     */
    private void attachLoop() {
        while (running) {
            if (!online) {
                linkState = "offline";
                synchronized (linkSignal) {
                    try {
                        if (!online && running) linkSignal.wait(1000);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                continue;
            }
            long now = clock.millis();
            List<String> round = new ArrayList<>(planner.round(now));
            if (round.isEmpty()) lastLinkError = "the network file lists no supernodes and the host cache is empty";
            Set<String> tried = new LinkedHashSet<>();
            boolean wasAttached = false;
            while (!round.isEmpty() && running && online && tried.size() < 3 * AttachPlanner.ROUND_SIZE) {
                String address = round.remove(0);
                if (!tried.add(address)) continue;
                HostPort hp;
                try {
                    hp = HostPort.parse(address);
                } catch (IllegalArgumentException e) {
                    planner.failed(address, clock.millis());
                    continue;
                }
                try {
                    Frame.Welcome w = attachTo(hp);
                    planner.attached(address, w.supernodes(), clock.millis());
                    saveHostCache();
                    wasAttached = true;
                    waitWhileAttached();
                    planner.failed(address, clock.millis());
                    saveHostCache();
                    break;
                } catch (RedirectedException r) {
                    linkState = "redirected";
                    lastLinkError = "supernode " + hp + " is full: " + r.redirect.reason();
                    planner.redirected(address, r.redirect.retryAfterMillis(), r.redirect.alternatives(), clock.millis());
                    // follow the alternatives at once, before the rest of the round
                    List<String> next = new ArrayList<>(planner.takeHints(clock.millis()));
                    next.removeAll(tried);
                    round.removeAll(next);
                    next.addAll(round);
                    round = next;
                } catch (InterruptedException e) {
                    return;
                } catch (Exception e) {
                    planner.failed(address, clock.millis());
                    linkState = "connecting";
                    lastLinkError = "supernode " + hp + ": " + e.getMessage();
                    log.info("cannot attach to supernode {}: {}", hp, e.getMessage());
                }
            }
            if (!running) return;
            // after a link loss: straight back (a little jitter spreads a crowd); otherwise the planner's wait
            long delay = wasAttached ? random.nextLong(500) : planner.delayMillis();
            if (!wasAttached && supernode == null && !"redirected".equals(linkState)) linkState = online ? "connecting" : "offline";
            synchronized (linkSignal) {
                try {
                    linkSignal.wait(Math.max(1, delay));
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    /** How long a supernode may leave a Ping unanswered before the link counts as dead. */
    static final long PONG_TIMEOUT_MILLIS = 3000;
    /** Handshake timeout when dialing a supernode to attach. */
    static final java.time.Duration ATTACH_HANDSHAKE = java.time.Duration.ofMillis(2500);

    private Frame.Welcome attachTo(HostPort hp) throws Exception {
        linkState = "connecting";
        CompletableFuture<Frame> welcome = new CompletableFuture<>();
        pendingWelcome = welcome;
        Connection c;
        try {
            // a short handshake timeout: a dead supernode in the host cache must not hold up re-attaching
            c = node.dial(hp.toSocketAddress(), Role.SUPERNODE, supernodeHandler, ATTACH_HANDSHAKE).get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IOException(e.getCause().getMessage());
        }
        c.send(new Frame.Hello(CLIENT_VERSION, presence, localAddresses()));
        Frame f;
        try {
            f = welcome.get(5, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            c.close();
            throw new IOException("no Welcome within 5 s");
        } catch (ExecutionException e) {
            c.close();
            if (e.getCause() instanceof RedirectedException r) throw r;
            throw new IOException(e.getCause().getMessage());
        }
        Frame.Welcome w = (Frame.Welcome) f;
        supernodeAddress = hp.toString();
        supernodeId = w.supernodeId();
        observedAddress = w.observedAddress();
        attachedSince = clock.millis();
        if (!online) {
            c.close();
            throw new IOException("working offline");
        }
        supernode = c;
        linkState = "attached";
        lastLinkError = null;
        log.info("{} attached to supernode {} at {} (observed {})", me, w.supernodeId(), hp, w.observedAddress());
        long keepalive = Math.max(1000, w.keepaliveMillis());
        worker.execute(this::onAttached);
        Thread.ofVirtual().start(() -> {
            while (running && c.isOpen()) {
                try {
                    // one ping per (jittered) keepalive interval, its pong awaited within the same interval, so that
                    // a killed supernode (which sends nothing) is noticed within one interval, not at the QUIC
                    // idle timeout; jitter keeps clients attached at the same moment from pinging at once
                    long interval = keepalive - keepalive / 10 + random.nextLong(keepalive / 5 + 1);
                    long wait = Math.min(Math.max(PONG_TIMEOUT_MILLIS, 4 * Math.max(0, supernodeRttMillis)), interval * 3 / 4);
                    Thread.sleep(interval - wait);
                    long sent = System.nanoTime();
                    c.send(new Frame.Ping(sent));
                    Thread.sleep(wait);
                    if (running && c.isOpen() && lastPongNanos - sent < 0) {
                        log.info("{}: supernode {} stopped answering; re-attaching", me, hp);
                        lastLinkError = "supernode " + hp + " stopped answering";
                        c.close();
                        return;
                    }
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        return w;
    }

    private void waitWhileAttached() {
        Connection c = supernode;
        if (c == null) return;
        try {
            c.closeFuture().get();
        } catch (Exception ignored) {
            // closed either way
        }
        if (supernode == c) supernode = null;
        linkState = online ? "connecting" : "offline";
        worker.execute(this::presenceLost);
        for (CompletableFuture<Frame> r : requests.values()) r.completeExceptionally(new IOException("supernode link lost"));
        requests.clear();
        log.info("{} lost its supernode link; reconnecting", me);
    }

    private List<String> localAddresses() {
        int port = node.localAddress().getPort();
        Set<String> out = new LinkedHashSet<>();
        InetAddress bound = node.localAddress().getAddress();
        if (bound != null && !bound.isAnyLocalAddress()) {
            out.add(HostPort.of(new InetSocketAddress(bound, port)).toString());
        } else {
            try {
                for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                    if (!ni.isUp()) continue;
                    for (InetAddress a : Collections.list(ni.getInetAddresses())) {
                        if (a instanceof Inet4Address && !a.isLoopbackAddress()) {
                            out.add(a.getHostAddress() + ":" + port);
                        }
                    }
                }
            } catch (IOException ignored) {
                // no interfaces listed
            }
        }
        return new ArrayList<>(out).subList(0, Math.min(out.size(), 8));
    }

    private final ConnectionHandler supernodeHandler = new ConnectionHandler() {
        @Override
        public void connected(Connection c) {
        }

        @Override
        public void frame(Connection c, Frame f) {
            switch (f) {
                case Frame.Welcome w -> {
                    CompletableFuture<Frame> p = pendingWelcome;
                    if (p != null) p.complete(w);
                }
                case Frame.Redirect r -> {
                    CompletableFuture<Frame> p = pendingWelcome;
                    if (p != null) p.completeExceptionally(new RedirectedException(r));
                }
                case Frame.Error e -> {
                    CompletableFuture<Frame> r = requests.remove(e.requestId());
                    if (r != null) {
                        r.completeExceptionally(new ErrorFrameException(e));
                    } else {
                        CompletableFuture<Frame> p = pendingWelcome;
                        if (p != null && !p.isDone()) p.completeExceptionally(new IOException(e.message()));
                        log.warn("supernode says: {}", e.message());
                        lastLinkError = e.message();
                    }
                }
                case Frame.Resolved r -> complete(r.requestId(), r);
                case Frame.Routed r -> complete(r.requestId(), r);
                case Frame.RelayAllocated r -> complete(r.requestId(), r);
                case Frame.RelayOffer o -> {
                    worker.execute(() -> peers.onRelayOffer(o));
                }
                case Frame.Pong p -> {
                    lastPongNanos = p.nonce();
                    supernodeRttMillis = (System.nanoTime() - p.nonce()) / 1_000_000;
                }
                case Frame.Published p -> complete(p.requestId(), p);
                case Frame.DialBackResult r -> complete(r.requestId(), r);
                case Frame.Busy b -> {
                    CompletableFuture<Frame> r = requests.remove(b.requestId());
                    if (r != null) r.completeExceptionally(new IOException("supernode busy: " + b.reason()));
                }
                case Frame.Ping p -> c.send(new Frame.Pong(p.nonce()));
                case Frame.Deliver d -> worker.execute(() -> onDeliver(d));
                case Frame.PresenceEvent p -> worker.execute(() -> onPresence(p));
                default -> log.debug("ignoring {} from supernode", f.getClass().getSimpleName());
            }
        }

        @Override
        public void closed(Connection c) {
            synchronized (linkSignal) {
                linkSignal.notifyAll();
            }
        }
    };

    private void complete(long id, Frame f) {
        CompletableFuture<Frame> r = requests.remove(id);
        if (r != null) r.complete(f);
    }

    private CompletableFuture<Frame> request(Connection sn, long id, Frame f) {
        CompletableFuture<Frame> r = new CompletableFuture<>();
        requests.put(id, r);
        sn.send(f).whenComplete((v, t) -> {
            if (t != null) {
                requests.remove(id);
                r.completeExceptionally(t);
            }
        });
        return r.orTimeout(5, TimeUnit.SECONDS).whenComplete((v, t) -> requests.remove(id));
    }

    /**
     * Publishes this device's signed directory record through the supernode into the overlay: after attaching,
     * on a presence change, and every third of the record's lifetime (soft state). Worker thread.
     */
    private void publishRecord() {
        Connection sn = supernode;
        String via = supernodeAddress;
        if (sn == null || via == null) return;
        long now = clock.millis();
        recordSequence = Math.max(recordSequence + 1, now);
        boolean direct = config.directSessions();
        DeviceRecord unsigned = new DeviceRecord(myDevice, me, presence, direct && observedAddress != null ? observedAddress : "",
                direct ? localAddresses() : List.of(), encodedCertificate(), attachedSince, List.of(via),
                List.of("chat", "relay"), recordSequence, now + Limits.RECORD_TTL_MILLIS, null);
        DeviceRecord signed = DirectoryRecords.sign(unsigned, credentials.privateKey());
        lastPublishedAt = now;
        long id = nextRequest.getAndIncrement();
        request(sn, id, new Frame.Publish(id, signed)).whenComplete((f, t) -> {
            if (t != null) {
                log.info("{}: publishing the directory record failed ({}); retrying", me, t.getMessage());
                lastPublishedAt = clock.millis() - Limits.RECORD_TTL_MILLIS / 3 + 5000; // tick() retries in 5 s
            } else if (f instanceof Frame.Published p) {
                log.debug("{}: directory record {} stored at {} supernodes", me, signed.sequence(), p.replicas());
                if (p.replicas() < 2 && hostCache.size() >= 2) {
                    // the overlay was still forming or a store got lost: do not wait 5 minutes to try again
                    lastPublishedAt = clock.millis() - Limits.RECORD_TTL_MILLIS / 3 + 10_000;
                }
            }
        });
    }

    private byte[] encodedCertificate() {
        try {
            return credentials.certificate().getEncoded();
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
    }

    private void onAttached() {
        publishRecord();
        for (ChatReplica.Summary s : chat.list()) watched.addAll(s.members());
        watched.addAll(contacts.list());
        watched.remove(me);
        watched.add(me); // our own other devices
        resubscribe();
        devicesByUser.clear();
        devicesFetched.clear();
        chatSync.reconnected();
        chatSync.tick();
    }

    private void resubscribe() {
        Connection sn = supernode;
        if (sn == null) return;
        List<String> l;
        synchronized (watched) {
            l = new ArrayList<>(watched);
        }
        if (l.size() > Limits.MAX_LIST) l = l.subList(l.size() - Limits.MAX_LIST, l.size());
        sn.send(new Frame.Subscribe(l));
    }

    private void onPresence(Frame.PresenceEvent p) {
        devicesFetched.remove(p.user());
        if (p.online()) {
            chatSync.reconnected();
            devicesOf(p.user());
        } else {
            List<DeviceRecord> l = devicesByUser.get(p.user());
            if (l != null) devicesByUser.put(p.user(), l.stream().filter(d -> !d.deviceId().equals(p.deviceId())).toList());
        }
        String before = aggregatePresence(presenceOf.getOrDefault(p.user(), Map.of()));
        Map<String, String> devs = presenceOf.computeIfAbsent(p.user(), k -> new ConcurrentHashMap<>());
        if (p.online() && !p.presence().equals("invisible")) devs.put(p.deviceId(), p.presence());
        else devs.remove(p.deviceId());
        String after = aggregatePresence(devs);
        if (!after.equals(before)) emit(new Event.Presence(p.user(), after));
    }

    /** The supernode link is gone, and with it presence news: watched users count as offline until re-attached. */
    private void presenceLost() {
        for (Map.Entry<String, Map<String, String>> e : presenceOf.entrySet()) {
            String before = aggregatePresence(e.getValue());
            e.getValue().clear();
            if (!before.equals("offline")) emit(new Event.Presence(e.getKey(), "offline"));
        }
    }

    private Event.Stored stored(StoredEvent e, boolean own) {
        return new Event.Stored(HexFormat.of().formatHex(e.conversation()), HexFormat.of().formatHex(e.id()),
                e.event().kind().wireName(), e.event().author(), own);
    }

    // ------------------------------------------------------------------ delivery

    private void tick() {
        try {
            if (!running) return;
            chatSync.tick();
            if (supernode != null && clock.millis() - lastPublishedAt > Limits.RECORD_TTL_MILLIS / 3) publishRecord();
            renewIfDue();
        } catch (RuntimeException e) {
            log.warn("periodic work failed: {}", e.toString());
        }
    }

    private void sessionTick() {
        try {
            if (running) peers.tick();
        } catch (RuntimeException e) {
            log.warn("session upkeep failed: {}", e.toString(), e);
        }
    }

    private final PeerSessions.Signals signals = new PeerSessions.Signals() {
        @Override
        public boolean route(String deviceId, Frame f) {
            DeviceCertificate cert = knownDevices.get(deviceId);
            return cert != null && routeTo(cert, f);
        }

        @Override
        public CompletableFuture<Frame.RelayAllocated> openRelay(String deviceId) {
            Connection sn = supernode;
            if (sn == null) return CompletableFuture.failedFuture(new IOException("no supernode link"));
            long id = nextRequest.getAndIncrement();
            return request(sn, id, new Frame.RelayOpen(id, deviceId, viaFor(deviceId))).thenApply(f -> (Frame.RelayAllocated) f);
        }

        @Override
        public String observedAddress() {
            return observedAddress;
        }

        @Override
        public List<String> localAddresses() {
            return ClientDaemon.this.localAddresses();
        }

        @Override
        public InetSocketAddress relayAddress(String given) {
            HostPort hp = HostPort.parse(given);
            InetSocketAddress a = hp.toSocketAddress();
            Connection sn = supernode;
            if ((a.getAddress() == null || a.getAddress().isAnyLocalAddress()) && sn != null) {
                return new InetSocketAddress(sn.remoteAddress().getAddress(), hp.port());
            }
            return a;
        }

        @Override
        public String supernodeLabel() {
            Connection sn = supernode;
            return sn == null ? String.valueOf(supernodeId) : supernodeId + "@" + HostPort.of(sn.remoteAddress());
        }

        @Override
        public void sessionUp(Connection c) {
            chatSync.sessionUp(c);
        }
    };

    private final ChatSync.Net chatNet = new ChatSync.Net() {
        @Override
        public List<Connection> sessions(String user) {
            return peers.active(user);
        }

        @Override
        public List<DeviceRecord> devices(String user) {
            return devicesOf(user);
        }

        @Override
        public DeviceCertificate certificate(String deviceId) {
            return knownDevices.get(deviceId);
        }

        @Override
        public boolean route(DeviceCertificate device, Frame f) {
            return routeTo(device, f);
        }

        @Override
        public void ensure(DeviceRecord d) {
            peers.ensure(d);
        }

        @Override
        public void accepted(StoredEvent e) {
            emit(stored(e, false));
        }

        @Override
        public void delivered(String user, List<byte[]> ids) {
            emit(new Event.Delivered(user, ids.stream().map(HexFormat.of()::formatHex).toList()));
        }
    };

    private final Calls.Net callNet = new Calls.Net() {
        @Override
        public boolean send(String device, Frame f) {
            Connection c = peers.activeFor(device);
            if (c != null && c.isOpen()) {
                c.send(f);
                return true;
            }
            DeviceCertificate cert = knownDevices.get(device);
            return cert != null && routeTo(cert, f);
        }

        @Override
        public void ensureSession(String device) {
            for (List<DeviceRecord> l : devicesByUser.values()) {
                for (DeviceRecord d : l) if (d.deviceId().equals(device)) peers.ensure(d);
            }
        }

        @Override
        public Connection session(String device) {
            return peers.activeFor(device);
        }

        private final Map<String, Long> asked = new ConcurrentHashMap<>();

        @Override
        public void ensureSessionAsync(String device) {
            long now = clock.millis();
            Long last = asked.get(device);
            if (last != null && now - last < 2000) return;
            asked.put(device, now);
            worker.execute(() -> ensureSession(device));
        }
    };

    private static boolean isCallFrame(Frame f) {
        return f instanceof Frame.CallInvite || f instanceof Frame.CallRinging || f instanceof Frame.CallAnswer
                || f instanceof Frame.CallSelect || f instanceof Frame.CallReject || f instanceof Frame.CallCancel
                || f instanceof Frame.CallHangup;
    }

    // ------------------------------------------------------------------ calls (API threads)

    private <T> T onWorker(java.util.concurrent.Callable<T> task) {
        try {
            return worker.submit(task).get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof org.parley.media.call.CallAgent.CallException ce) throw new BadRequest(ce.getMessage());
            if (e.getCause() instanceof BadRequest b) throw b;
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException | TimeoutException e) {
            throw new IllegalStateException("the daemon is busy: " + e.getClass().getSimpleName());
        }
    }

    /** The user's online devices now, asked of the supernode (at most 3 s); cached ones without a supernode link. */
    private List<DeviceRecord> resolveNow(String user) {
        Connection sn = supernode;
        if (sn != null) {
            long id = nextRequest.getAndIncrement();
            try {
                Frame f = request(sn, id, new Frame.Resolve(id, user)).get(3, TimeUnit.SECONDS);
                if (f instanceof Frame.Resolved r) {
                    List<DeviceRecord> fresh = onWorker(() -> verified(user, r.devices()));
                    devicesByUser.put(user, fresh);
                    devicesFetched.put(user, clock.millis());
                    return fresh;
                }
            } catch (Exception e) {
                log.info("cannot resolve {} for a call: {}", user, e.getMessage());
            }
        }
        return devicesByUser.getOrDefault(user, List.of());
    }

    /** The ids of a user's online devices, asked of the supernode now (what a call to the user would ring). */
    public List<String> onlineDevices(String user) {
        if (!UserNames.isValid(user)) throw new BadRequest("'" + user + "' is not a valid user name");
        return resolveNow(user).stream().map(DeviceRecord::deviceId).toList();
    }

    /** Calls a user: rings every online device of theirs. Returns at once with the call (dialing, or ended offline). */
    public Calls.View callDial(String user, Calls.MediaOptions o) {
        if (!UserNames.isValid(user)) throw new BadRequest("'" + user + "' is not a valid user name");
        if (user.equals(me)) throw new BadRequest("you cannot call yourself");
        if (!online) throw new BadRequest("working offline: go online to call");
        List<String> devices = resolveNow(user).stream().map(DeviceRecord::deviceId).toList();
        return onWorker(() -> calls.view(calls.dial(user, devices, o)).orElseThrow());
    }

    /** Answers the incoming call {@code id} (null: the one ringing now). */
    public Calls.View callAnswer(String id, Calls.MediaOptions o) {
        return onWorker(() -> {
            String which = id != null ? id : calls.active().filter(c -> c.state() == org.parley.media.call.CallAgent.State.RINGING
                    && c.direction() == org.parley.media.call.CallAgent.Direction.INCOMING).map(org.parley.media.call.CallAgent.Call::id)
                    .orElseThrow(() -> new BadRequest("no incoming call is ringing"));
            calls.answer(which, o);
            return calls.view(which).orElseThrow();
        });
    }

    public Calls.View callReject(String id) {
        return onWorker(() -> {
            calls.reject(id);
            return calls.view(id).orElseThrow();
        });
    }

    /** Ends the call {@code id} (null: the current one), whatever its state. */
    public Calls.View callHangup(String id) {
        return onWorker(() -> {
            String which = id != null ? id : calls.active().map(org.parley.media.call.CallAgent.Call::id)
                    .orElseThrow(() -> new BadRequest("there is no call to hang up"));
            calls.hangup(which);
            return calls.view(which).orElseThrow();
        });
    }

    /** This run's calls, then none of the earlier ones twice: earlier runs' reports come from calls.jsonl. */
    public List<Calls.View> callList() {
        List<Calls.View> now = onWorker(calls::views);
        java.util.LinkedHashMap<String, Calls.View> all = new java.util.LinkedHashMap<>();
        for (Calls.View v : calls.history()) all.put(v.id(), v);
        for (Calls.View v : now) all.put(v.id(), v);
        return List.copyOf(all.values());
    }

    public Calls.View callGet(String id) {
        return onWorker(() -> calls.view(id)).orElseGet(() -> callList().stream().filter(v -> v.id().equals(id)).findFirst()
                .orElseThrow(() -> new BadRequest("no call " + id)));
    }

    /** A user's verified online device records, refreshed through the supernode when older than 15 s. Worker thread. */
    private List<DeviceRecord> devicesOf(String user) {
        Connection sn = supernode;
        long now = clock.millis();
        Long fetched = devicesFetched.get(user);
        if ((fetched == null || now - fetched > 15_000) && sn != null) {
            long id = nextRequest.getAndIncrement();
            devicesFetched.put(user, now);
            request(sn, id, new Frame.Resolve(id, user)).whenCompleteAsync((f, t) -> {
                if (t == null && f instanceof Frame.Resolved r) {
                    List<DeviceRecord> fresh = verified(user, r.devices());
                    List<DeviceRecord> old = devicesByUser.put(user, fresh);
                    Set<String> before = new java.util.HashSet<>();
                    if (old != null) for (DeviceRecord d : old) before.add(d.deviceId());
                    if (fresh.stream().anyMatch(d -> !before.contains(d.deviceId()))) chatSync.devicesAppeared();
                } else {
                    devicesFetched.remove(user);
                }
            }, worker);
        }
        return devicesByUser.getOrDefault(user, List.of());
    }

    private List<DeviceRecord> verified(String user, List<DeviceRecord> records) {
        List<DeviceRecord> out = new ArrayList<>();
        for (DeviceRecord r : records) {
            // verified on every read: certificate chain, user and device, signature, expiry
            String why = r.user().equals(user) ? recordChecker.check(r) : "record of " + r.user() + " answered for " + user;
            if (why != null) {
                log.info("ignoring a directory record: {}", why);
                continue;
            }
            try {
                DeviceCertificate c = verifier.verify(r.certificate());
                knownDevices.put(c.deviceId(), c);
                if (!r.supernodes().isEmpty()) supernodeOf.put(c.deviceId(), r.supernodes().get(0));
                locatedAt.put(c.deviceId(), clock.millis());
                out.add(r);
            } catch (CertificateRejectedException e) {
                log.info("ignoring directory record of {} with bad certificate: {}", user, e.getMessage());
            }
        }
        return out;
    }

    /**
     * The supernode a device's record names when it is not ours ("" when it is ours or unknown). Unknown (a
     * device we only heard from) starts a lookup of its user, so that the next attempt knows where it is.
     */
    private String viaFor(String deviceId) {
        String via = supernodeOf.get(deviceId);
        Long at = locatedAt.get(deviceId);
        if (via == null || at == null || clock.millis() - at > 30_000) {
            // unknown, or possibly stale (a forwarded frame to a supernode the device left is dropped there)
            DeviceCertificate cert = knownDevices.get(deviceId);
            if (cert != null) locate(cert.user());
        }
        return via == null || via.equals(supernodeAddress) ? "" : via;
    }

    private final Map<String, Long> locating = new ConcurrentHashMap<>();
    private final Map<String, Long> locatedAt = new ConcurrentHashMap<>();

    /** Looks up a user's devices (at most every 2 s per user) to learn which supernodes they are attached to. */
    private void locate(String user) {
        long now = clock.millis();
        Long last = locating.get(user);
        Connection sn = supernode;
        if (sn == null || (last != null && now - last < 2000)) return;
        locating.put(user, now);
        long id = nextRequest.getAndIncrement();
        request(sn, id, new Frame.Resolve(id, user)).whenCompleteAsync((f, t) -> {
            if (f instanceof Frame.Resolved r) devicesByUser.put(user, verified(user, r.devices()));
        }, worker);
    }

    private boolean routeTo(DeviceCertificate cert, Frame inner) {
        Connection sn = supernode;
        if (sn == null) return false;
        byte[] sealed = Sealing.seal(credentials.privateKey(), myDevice, cert.publicKey(), cert.deviceId(),
                FrameCodec.encode(inner));
        long id = nextRequest.getAndIncrement();
        request(sn, id, new Frame.Route(id, cert.deviceId(), sealed, viaFor(cert.deviceId()))).whenComplete((f, t) -> {
            if (t != null) {
                log.debug("route to {} failed: {}", cert.label(), t.getMessage());
                if (t instanceof ErrorFrameException e && e.code == ErrorCode.OFFLINE) {
                    worker.execute(() -> devicesFetched.remove(cert.user()));
                    locate(cert.user()); // it may have moved to another supernode
                }
            }
        });
        return true;
    }

    private final ConnectionHandler peerHandler = new ConnectionHandler() {
        @Override
        public void connected(Connection c) {
            if (c.peer().role() == Role.SUPERNODE || !online) {
                c.close();
                return;
            }
            if (!c.outbound()) worker.execute(() -> peers.up(c));
        }

        @Override
        public void frame(Connection c, Frame f) {
            peers.heard(c);
            if (isCallFrame(f)) {
                worker.execute(() -> calls.onFrame(c.peer().deviceId(), c.peer().user(), f));
                return;
            }
            switch (f) {
                case Frame.EventPush p -> worker.execute(() -> chatSync.onPush(p, c.peer(), c, c.relayAddress() == null ? "direct" : "relayed"));
                case Frame.EventAck a -> worker.execute(() -> chatSync.onAck(a, c.peer(), c.relayAddress() == null ? "direct" : "relayed"));
                case Frame.SyncHello h -> worker.execute(() -> chatSync.onHello(h, c));
                case Frame.SyncRange r -> worker.execute(() -> chatSync.onRange(r, c));
                case Frame.Ping p -> c.send(new Frame.Pong(p.nonce()));
                case Frame.Hello h -> { }
                case Frame.Pong p -> { }
                default -> log.debug("ignoring {} on peer session", f.getClass().getSimpleName());
            }
        }

        @Override
        public void closed(Connection c) {
            worker.execute(() -> peers.closed(c));
        }

        @Override
        public void datagram(Connection c, byte[] data) {
            peers.heard(c);
            calls.onDatagram(c, data);
        }
    };

    private void onDeliver(Frame.Deliver d) {
        DeviceCertificate from;
        try {
            from = verifier.verify(d.fromCertificate());
        } catch (CertificateRejectedException e) {
            log.info("dropping routed payload with bad sender certificate: {}", e.getMessage());
            return;
        }
        if (!from.deviceId().equals(d.fromDevice())) {
            log.info("dropping routed payload: certificate does not match device {}", d.fromDevice());
            return;
        }
        knownDevices.put(from.deviceId(), from);
        Frame inner;
        try {
            inner = FrameCodec.decode(Sealing.open(credentials.privateKey(), myDevice, from.publicKey(), from.deviceId(), d.payload()));
        } catch (WireFormatException e) {
            log.info("dropping routed payload from {}: {}", from.label(), e.getMessage());
            return;
        }
        if (isCallFrame(inner)) {
            calls.onFrame(from.deviceId(), from.user(), inner);
            return;
        }
        switch (inner) {
            case Frame.EventPush p -> chatSync.onPush(p, from, null, "relayed");
            case Frame.EventAck a -> chatSync.onAck(a, from, "relayed");
            case Frame.Connect c -> {
                peers.onConnect(from.deviceId(), from.user(), c);
            }
            default -> log.debug("ignoring routed {}", inner.getClass().getSimpleName());
        }
    }

    // ------------------------------------------------------------------ certificate renewal

    private void renewIfDue() {
        long now = clock.millis();
        if (now < credentials.renewAt().toEpochMilli() || now < nextRenewalAttempt) return;
        nextRenewalAttempt = Long.MAX_VALUE; // one renewal at a time
        Thread.ofVirtual().start(() -> {
            try {
                var cert = credentials.renew(new LoginClient(network));
                identity.update(credentials.privateKey(), cert);
                chat.setCertificate(encodedCertificate());
                renewalProblem = null;
                nextRenewalAttempt = 0;
                log.info("{} renewed its certificate, valid until {}", me, cert.getNotAfter().toInstant());
                Connection sn = supernode;
                if (sn != null) sn.close(); // re-attach with the new certificate
            } catch (LoginException e) {
                nextRenewalAttempt = clock.millis() + (e.transientFailure() ? 5_000 : 60_000);
                renewalProblem = e.getMessage();
                log.warn("certificate renewal failed ({}): {}", e.code(), e.getMessage());
            }
        });
    }

    // ------------------------------------------------------------------ shutdown

    @Override
    public void close() {
        if (!running) return;
        running = false;
        synchronized (linkSignal) {
            linkSignal.notifyAll();
        }
        attachThread.interrupt();
        worker.shutdown();
        try {
            worker.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        stopDuty();
        calls.close();
        node.close();
        chat.close();
        try {
            lock.release();
            lockChannel.close();
        } catch (IOException ignored) {
            // process is ending
        }
    }
}
