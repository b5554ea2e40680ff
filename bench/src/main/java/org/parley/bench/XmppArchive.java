package org.parley.bench;

import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * The XMPP analogue of a conversation catch-up, for the chat-sync comparison: a private ejabberd (as
 * {@link XmppServer}: Debian's ejabberdctl, its own node, config, spool and logs, everything on 127.0.0.1) with
 * mod_mam (XEP-0313 Message Archive Management, {@code default: always}, the Debian default storage: mnesia).
 * Alice sends N messages to bob while bob is online, so bob's archive holds them and bob saw the archive id of each;
 * a catch-up is a new session of bob (another device, direct TLS) that asks the archive for everything after the
 * last id it saw, paging with RSM (XEP-0059) at the largest page the server allows, until the archive says the
 * result is complete. Bytes are counted on the TCP socket under TLS, both ways.
 */
final class XmppArchive implements AutoCloseable {
    static final String DOMAIN = XmppServer.DOMAIN;

    private final Path dir;
    private final List<String> ctlArgs;
    final int plainPort;
    final int tlsPort;
    private long beamPid = -1;

    private XmppArchive(Path dir, List<String> ctlArgs, int plainPort, int tlsPort) {
        this.dir = dir;
        this.ctlArgs = ctlArgs;
        this.plainPort = plainPort;
        this.tlsPort = tlsPort;
    }

    private static String ctl() {
        String override = System.getenv("BENCH_EJABBERDCTL");
        if (override != null && !override.isBlank()) return override;
        for (String c : List.of("/usr/sbin/ejabberdctl", "/usr/bin/ejabberdctl")) if (Files.isExecutable(Path.of(c))) return c;
        return "ejabberdctl";
    }

    static XmppArchive start(Cleanup cleanup) throws Exception {
        Path dir = Files.createTempDirectory("parley-bench-xmppmam-");
        cleanup.folder(dir);
        Files.createDirectories(dir.resolve("spool"));
        Files.createDirectories(dir.resolve("logs"));
        int plain = Probe.freeTcpPort();
        int tls = Probe.freeTcpPort();
        while (tls == plain) tls = Probe.freeTcpPort();
        String node = "parleybenchmam" + ProcessHandle.current().pid() + "@localhost";
        Probe.Output o = Probe.run(List.of("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", dir.resolve("key.pem").toString(), "-out",
                dir.resolve("cert.pem").toString(), "-days", "2", "-subj", "/CN=" + DOMAIN), 60);
        if (o.exit() != 0) throw new IOException("openssl failed: " + o.text().strip());
        Files.writeString(dir.resolve("server.pem"), Files.readString(dir.resolve("cert.pem")) + Files.readString(dir.resolve("key.pem")));
        String yml = String.format(Locale.ROOT, """
                loglevel: warning
                hosts:
                  - %s
                certfiles:
                  - "%s"
                listen:
                  -
                    port: %d
                    ip: "127.0.0.1"
                    module: ejabberd_c2s
                    max_stanza_size: 262144
                    starttls_required: false
                  -
                    port: %d
                    ip: "127.0.0.1"
                    module: ejabberd_c2s
                    max_stanza_size: 262144
                    tls: true
                auth_method: internal
                auth_password_format: plain
                acl:
                  local:
                    user_regexp: ""
                access_rules:
                  c2s:
                    allow: all
                  register:
                    deny: all
                modules:
                  mod_mam:
                    default: always
                """, DOMAIN, dir.resolve("server.pem"), plain, tls);
        Files.writeString(dir.resolve("ejabberd.yml"), yml, StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("ejabberdctl.cfg"), String.join("\n",
                "ERL_OPTIONS=\"-env ERL_CRASH_DUMP_BYTES 0\"",
                "EJABBERD_PID_PATH=" + dir.resolve("ejabberd.pid"),
                "INET_DIST_INTERFACE=127.0.0.1",
                "ERL_EPMD_ADDRESS=127.0.0.1",
                "EJABBERD_BYPASS_WARNINGS=true", ""), StandardCharsets.UTF_8);
        chownToEjabberd(dir);
        List<String> args = List.of("--node", node, "--config", dir.resolve("ejabberd.yml").toString(),
                "--ctl-config", dir.resolve("ejabberdctl.cfg").toString(), "--spool", dir.resolve("spool").toString(),
                "--logs", dir.resolve("logs").toString());
        XmppArchive s = new XmppArchive(dir, args, plain, tls);
        cleanup.add("ejabberd " + node, s::close);
        Probe.Output st = s.ctl(60, "start");
        if (st.exit() != 0) throw new IOException("ejabberdctl start failed: " + st.text().strip());
        Probe.Output ok = s.ctl(90, "started");
        Path pidFile = dir.resolve("ejabberd.pid");
        if (Files.exists(pidFile)) {
            try {
                s.beamPid = Long.parseLong(Files.readString(pidFile).trim());
                cleanup.notePid(s.beamPid);
            } catch (NumberFormatException ignored) {
                // not written yet
            }
        }
        if (ok.exit() != 0) {
            throw new IOException("ejabberd did not start: " + ok.text().strip() + "\n"
                    + Probe.lastLines(dir.resolve("logs").resolve("ejabberd.log"), 15));
        }
        return s;
    }

    long pid() {
        return beamPid;
    }

    /** Size of the spool folder (mnesia tables: the archive), in bytes. */
    long spoolBytes() {
        try (Stream<Path> s = Files.walk(dir.resolve("spool"))) {
            return s.filter(Files::isRegularFile).mapToLong(p -> {
                try {
                    return Files.size(p);
                } catch (IOException e) {
                    return 0;
                }
            }).sum();
        } catch (IOException e) {
            return -1;
        }
    }

    String logTail() {
        return Probe.lastLines(dir.resolve("logs").resolve("ejabberd.log"), 10);
    }

    private Probe.Output ctl(long timeout, String... command) throws IOException, InterruptedException {
        List<String> c = new ArrayList<>();
        c.add(ctl());
        c.addAll(ctlArgs);
        c.addAll(List.of(command));
        return Probe.run(c, timeout);
    }

    void register(String user, String password) throws IOException, InterruptedException {
        Probe.Output o = ctl(60, "register", user, DOMAIN, password);
        if (o.exit() != 0) throw new IOException("ejabberdctl register " + user + " failed: " + o.text().strip());
    }

    private static void chownToEjabberd(Path dir) throws IOException {
        if (!"root".equals(System.getProperty("user.name"))) return;
        UserPrincipalLookupService l = dir.getFileSystem().getUserPrincipalLookupService();
        UserPrincipal u = l.lookupPrincipalByName("ejabberd");
        GroupPrincipal g = l.lookupPrincipalByGroupName("ejabberd");
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.toList()) {
                PosixFileAttributeView v = Files.getFileAttributeView(p, PosixFileAttributeView.class);
                v.setOwner(u);
                v.setGroup(g);
            }
        }
    }

    @Override
    public void close() throws Exception {
        try {
            ctl(60, "stop");
            ctl(70, "stopped");
        } finally {
            if (beamPid > 0) {
                ProcessHandle.of(beamPid).filter(h -> h.isAlive()
                        && h.info().command().map(c -> c.contains("beam")).orElse(false))
                        .ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }

    // ------------------------------------------------------------------ filling the archive

    /** What {@link #fill} did: the archive id bob saw for every message index that was asked for, and timings. */
    record Filled(String lastSeenId, String newestId, int messages, double seconds, long spoolBytes) {}

    /**
     * Alice sends {@code n} chat messages of {@code textBytes} to bob, at most {@code window} ahead of what bob has
     * received; bob is online (plain TCP), so each message is archived in bob's archive and reaches bob with its
     * archive id (stanza-id). Alice's own archive is switched off with MAM preferences (it is not measured).
     * Returns the archive id bob saw for message {@code lastSeen} (the last one his "other device" had) and for
     * the newest message.
     */
    Filled fill(int n, int textBytes, int lastSeen, String password, int window, java.io.PrintStream progress) throws Exception {
        long t0 = System.nanoTime();
        try (Session alice = Session.connect(plainPort, false, "alice", password, "setup");
             Session bob = Session.connect(plainPort, false, "bob", password, "setup")) {
            alice.write("<iq type='set' id='prefs1'><prefs xmlns='urn:xmpp:mam:2' default='never'/></iq>");
            String prefs = alice.reader.until("iq");
            if (!prefs.contains("result")) throw new IOException("MAM preferences refused: " + prefs);
            alice.write("<presence/>");
            bob.write("<presence/>");
            AtomicLong received = new AtomicLong();
            String[] ids = new String[2];
            String wantedSeen = "m" + lastSeen;
            String wantedNewest = "m" + (n - 1);
            Throwable[] failure = new Throwable[1];
            Thread reader = Thread.ofVirtual().name("xmpp-mam-bob").start(() -> {
                try {
                    while (received.get() < n) {
                        String st = bob.reader.next();
                        if (st == null) throw new IOException("bob's stream closed after " + received.get() + " messages");
                        if (!st.startsWith("<message")) continue;
                        int gt = st.indexOf('>');
                        Matcher mid = ID.matcher(gt > 0 ? st.substring(0, gt) : st);
                        String id = mid.find() ? mid.group(1) : null;
                        if (id == null || !id.startsWith("m")) continue;
                        if (id.equals(wantedSeen) || id.equals(wantedNewest)) {
                            Matcher s = STANZA_ID.matcher(st);
                            if (!s.find()) throw new IOException("message " + id + " came without an archive id (stanza-id): " + st);
                            ids[id.equals(wantedSeen) ? 0 : 1] = s.group(1);
                        }
                        received.incrementAndGet();
                    }
                } catch (Throwable e) {
                    failure[0] = e;
                }
            });
            String body = ChatHistory.text(7, textBytes);
            long tick = System.nanoTime();
            for (int i = 0; i < n; i++) {
                if (progress != null && i > 0 && i % Math.max(1, n / 10) == 0) {
                    long now = System.nanoTime();
                    progress.printf(Locale.ROOT, "    %,d messages archived, %.1f s, last %,d at %,.0f/s%n", received.get(),
                            (now - t0) / 1e9, Math.max(1, n / 10), Math.max(1, n / 10) / ((now - tick) / 1e9));
                    tick = now;
                }
                while (i - received.get() >= window) {
                    if (failure[0] != null || !reader.isAlive()) break;
                    Thread.sleep(1);
                }
                if (failure[0] != null) break;
                alice.write("<message to='bob@" + DOMAIN + "' id='m" + i + "' type='chat'><body>" + body + "</body></message>");
            }
            reader.join(TimeUnit.MINUTES.toMillis(10));
            if (failure[0] != null) throw new IOException("filling the archive failed: " + failure[0], failure[0]);
            if (received.get() < n) throw new IOException("bob received " + received.get() + " of " + n + " messages");
            return new Filled(ids[0], ids[1], n, (System.nanoTime() - t0) / 1e9, spoolBytes());
        }
    }

    /**
     * Fills bob's archive with {@code n} messages quickly: mod_mam's mnesia backend keeps a user's whole archive under
     * one key of a dets bag, so every message written through the server rereads that user's archive (filling it
     * message by message is quadratic: about 100,000 / n messages per second here, some 14 hours for 100,000). So two
     * real messages are sent through the server (the template: the packet exactly as ejabberd stores it; they stay the
     * newest two), ejabberd is stopped, an escript writes the other {@code n - 2} archive records straight into mnesia's
     * {@code archive_msg.DAT} (same record, ids and timestamps one second apart ending 40 days ago, the same body), and
     * ejabberd is started again. Reading them back is ejabberd's own code path, unchanged.
     */
    Filled bulkFill(int n, int textBytes, int lastSeen, String password, java.io.PrintStream progress) throws Exception {
        long t0 = System.nanoTime();
        // the two template messages stay in the archive (mnesia replays them from its transaction log at start-up):
        // they are the newest two of the n
        Filled real = fill(2, textBytes, 0, password, 10, null);
        int generated = n - 2;
        if (lastSeen >= generated) throw new IllegalArgumentException("the last message seen must be one of the first n - 2");
        Probe.Output st = ctl(120, "stop");
        ctl(120, "stopped");
        Path dat;
        try (Stream<Path> s = Files.walk(dir.resolve("spool"))) {
            dat = s.filter(p -> p.getFileName().toString().equals("archive_msg.DAT")).findFirst()
                    .orElseThrow(() -> new IOException("no archive_msg.DAT in the spool after 'ejabberdctl stop' (" + st.text().strip() + ")"));
        }
        Path body = dir.resolve("body.txt");
        Files.writeString(body, ChatHistory.text(7, textBytes), StandardCharsets.UTF_8);
        Path script = dir.resolve("load_archive.escript");
        Files.writeString(script, LOADER, StandardCharsets.UTF_8);
        long stepUs = 1_000_000L;
        long startUs = (System.currentTimeMillis() - 40L * 24 * 3600 * 1000) * 1000 - generated * stepUs;
        Probe.Output o = Probe.run(List.of("escript", script.toString(), dat.toString(), Integer.toString(generated), Long.toString(startUs),
                Long.toString(stepUs), body.toString()), 3600);
        if (o.exit() != 0 || !o.text().contains("loaded")) throw new IOException("loading the archive failed: " + o.text().strip());
        chownToEjabberd(dir);
        Probe.Output again = ctl(120, "start");
        if (again.exit() != 0) throw new IOException("ejabberdctl start failed: " + again.text().strip());
        Probe.Output ok = ctl(300, "started");
        if (ok.exit() != 0) throw new IOException("ejabberd did not start again: " + ok.text().strip() + "\n" + logTail());
        Path pidFile = dir.resolve("ejabberd.pid");
        if (Files.exists(pidFile)) {
            try {
                beamPid = Long.parseLong(Files.readString(pidFile).trim());
            } catch (NumberFormatException ignored) {
                // keep the old one
            }
        }
        if (progress != null) progress.printf(Locale.ROOT, "    %s%n", o.text().strip().replace("\n", "; "));
        return new Filled(Long.toString(startUs + (long) lastSeen * stepUs), real.newestId(), n, (System.nanoTime() - t0) / 1e9,
                spoolBytes());
    }

    /** The archive loader: replaces bob's archive records by n generated from the template ejabberd wrote. */
    private static final String LOADER = """
            #!/usr/bin/env escript
            %%! -noshell
            main([Dat, NS, StartS, StepS, BodyFile]) ->
                N = list_to_integer(NS), Start = list_to_integer(StartS), Step = list_to_integer(StepS),
                {ok, Body} = file:read_file(BodyFile),
                {ok, T} = dets:open_file(archive, [{file, Dat}, {type, bag}, {keypos, 2}]),
                Key = {<<"bob">>, <<"localhost">>},
                case dets:lookup(T, Key) of
                    [] -> io:format("no archive records of bob to use as a template~n"), halt(1);
                    [Tmpl | _] ->
                        archive_msg = element(1, Tmpl),
                        true = is_binary(element(3, Tmpl)),
                        {_, _, _} = element(4, Tmpl),
                        xmlel = element(1, element(7, Tmpl)),
                        ok = dets:delete(T, Key),
                        load(T, Tmpl, Body, 0, N, Start, Step),
                        ok = dets:close(T),
                        io:format("loaded ~p archive records of bob (template fields: ~p)~n", [N, tuple_size(Tmpl)])
                end;
            main(_) ->
                io:format("usage: load_archive DAT N START_US STEP_US BODY_FILE~n"), halt(2).

            load(_, _, _, I, N, _, _) when I >= N -> ok;
            load(T, Tmpl, Body, I, N, Start, Step) ->
                Hi = min(N, I + 5000),
                ok = dets:insert(T, [rec(Tmpl, Body, J, Start + J * Step) || J <- lists:seq(I, Hi - 1)]),
                load(T, Tmpl, Body, Hi, N, Start, Step).

            rec(Tmpl, Body, J, TS) ->
                Now = {TS div 1000000000000, (TS div 1000000) rem 1000000, TS rem 1000000},
                Id = integer_to_binary(J),
                {xmlel, Name, Attrs, Children} = element(7, Tmpl),
                Pkt = {xmlel, Name, lists:keystore(<<"id">>, 1, Attrs, {<<"id">>, <<"m", Id/binary>>}),
                       [fix(C, Body) || C <- Children]},
                setelement(7, setelement(4, setelement(3, Tmpl, integer_to_binary(TS)), Now), Pkt).

            fix({xmlel, <<"body">>, A, _}, Body) -> {xmlel, <<"body">>, A, [{xmlcdata, Body}]};
            fix(C, _) -> C.
            """;

    private static final Pattern ID = Pattern.compile("\\sid=['\"]([^'\"]+)['\"]");
    private static final Pattern STANZA_ID = Pattern.compile("<stanza-id\\s[^>]*?\\bid=['\"]([^'\"]+)['\"]");
    private static final Pattern RESULT_ID = Pattern.compile("<result\\s[^>]*?\\bid=['\"]([^'\"]+)['\"]");
    private static final Pattern LAST = Pattern.compile("<last>([^<]+)</last>");
    private static final Pattern COMPLETE = Pattern.compile("complete=['\"]true['\"]");

    // ------------------------------------------------------------------ catching up

    /**
     * One catch-up: a new direct-TLS session of bob ({@code resource}), then MAM queries for everything after
     * {@code afterId}, {@code max} per page requested, each next page after the last id of the previous one, until
     * the archive says complete.
     *
     * @param loginMillis  connect, TLS, SASL and bind
     * @param loginBytes   socket bytes of the login, both ways
     * @param millis       first query sent -> final page's answer received
     * @param bytesOut     socket bytes bench -> server during the queries (TLS records on TCP)
     * @param bytesIn      socket bytes server -> bench during the queries
     */
    record CatchUp(int received, int pages, int largestPage, String lastId, double loginMillis, long loginBytes,
                   double millis, long bytesOut, long bytesIn) {}

    CatchUp catchUp(String password, String resource, String afterId, int max) throws Exception {
        long c0 = System.nanoTime();
        try (Session s = Session.connect(tlsPort, true, "bob", password, resource)) {
            double loginMillis = (System.nanoTime() - c0) / 1e6;
            long in0 = s.counter.in.get(), out0 = s.counter.out.get();
            long t0 = System.nanoTime();
            int received = 0, pages = 0, largest = 0;
            String after = afterId;
            String lastId = null;
            boolean complete = false;
            while (!complete) {
                pages++;
                String q = "q" + pages;
                s.write("<iq type='set' id='" + q + "'><query xmlns='urn:xmpp:mam:2' queryid='" + q + "'>"
                        + "<set xmlns='http://jabber.org/protocol/rsm'><max>" + max + "</max><after>" + after + "</after></set>"
                        + "</query></iq>");
                int inPage = 0;
                while (true) {
                    String st = s.reader.next();
                    if (st == null) throw new IOException("stream closed during the MAM query");
                    if (st.startsWith("<message")) {
                        Matcher r = RESULT_ID.matcher(st);
                        if (r.find() && (st.contains("queryid='" + q + "'") || st.contains("queryid=\"" + q + "\""))) {
                            if (!st.contains("<body>")) throw new IOException("archived message without a body: " + st);
                            lastId = r.group(1);
                            inPage++;
                        }
                        continue;
                    }
                    if (st.startsWith("<iq") && (st.contains("id='" + q + "'") || st.contains("id=\"" + q + "\""))) {
                        if (!st.contains("result")) throw new IOException("MAM query refused: " + st);
                        complete = COMPLETE.matcher(st).find();
                        Matcher l = LAST.matcher(st);
                        if (l.find()) after = l.group(1);
                        else complete = true;
                        break;
                    }
                }
                received += inPage;
                largest = Math.max(largest, inPage);
                if (inPage == 0) complete = true;
            }
            double millis = (System.nanoTime() - t0) / 1e6;
            return new CatchUp(received, pages, largest, lastId, loginMillis, in0 + out0, millis,
                    s.counter.out.get() - out0, s.counter.in.get() - in0);
        }
    }

    // ------------------------------------------------------------------ a counted c2s session

    /** A TCP socket that counts the bytes read and written through its streams (TLS records when layered). */
    static final class CountingSocket extends Socket {
        final AtomicLong in = new AtomicLong();
        final AtomicLong out = new AtomicLong();
        private InputStream cin;
        private OutputStream cout;

        @Override
        public synchronized InputStream getInputStream() throws IOException {
            if (cin == null) {
                cin = new FilterInputStream(super.getInputStream()) {
                    @Override
                    public int read() throws IOException {
                        int b = super.read();
                        if (b >= 0) CountingSocket.this.in.incrementAndGet();
                        return b;
                    }

                    @Override
                    public int read(byte[] b, int off, int len) throws IOException {
                        int n = super.read(b, off, len);
                        if (n > 0) CountingSocket.this.in.addAndGet(n);
                        return n;
                    }
                };
            }
            return cin;
        }

        @Override
        public synchronized OutputStream getOutputStream() throws IOException {
            if (cout == null) {
                cout = new FilterOutputStream(super.getOutputStream()) {
                    @Override
                    public void write(int b) throws IOException {
                        this.out.write(b);
                        CountingSocket.this.out.incrementAndGet();
                    }

                    @Override
                    public void write(byte[] b, int off, int len) throws IOException {
                        this.out.write(b, off, len);
                        CountingSocket.this.out.addAndGet(len);
                    }
                };
            }
            return cout;
        }
    }

    /** One logged-in, bound c2s session; the caller reads stanzas with {@link #reader}. */
    static final class Session implements AutoCloseable {
        final Socket socket;
        final CountingSocket counter;
        final OutputStream out;
        final XmppClient.StanzaReader reader;

        private Session(Socket socket, CountingSocket counter, XmppClient.StanzaReader reader) throws IOException {
            this.socket = socket;
            this.counter = counter;
            this.out = socket.getOutputStream();
            this.reader = reader;
        }

        static Session connect(int port, boolean tls, String user, String password, String resource) throws IOException {
            CountingSocket raw = new CountingSocket();
            raw.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            raw.setTcpNoDelay(true);
            Socket s = raw;
            try {
                if (tls) {
                    SSLSocket ss = (SSLSocket) trustAll().getSocketFactory().createSocket(raw, DOMAIN, port, true);
                    ss.startHandshake();
                    s = ss;
                }
                s.setSoTimeout(120_000);
                OutputStream o = s.getOutputStream();
                XmppClient.StanzaReader r = new XmppClient.StanzaReader(s.getInputStream());
                write(o, open());
                String features = r.until("features");
                if (!features.contains(">PLAIN<")) throw new IOException("server offers no SASL PLAIN: " + features);
                String creds = Base64.getEncoder().encodeToString(("\0" + user + "\0" + password).getBytes(StandardCharsets.UTF_8));
                write(o, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" + creds + "</auth>");
                String sasl = r.next();
                if (sasl == null || !sasl.startsWith("<success")) throw new IOException("SASL PLAIN failed: " + sasl);
                write(o, open());
                r.until("features");
                write(o, "<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>" + resource
                        + "</resource></bind></iq>");
                String bound = r.until("iq");
                if (!bound.contains("type='result'") && !bound.contains("type=\"result\"")) {
                    throw new IOException("resource binding failed: " + bound);
                }
                return new Session(s, raw, r);
            } catch (IOException | RuntimeException e) {
                s.close();
                throw e;
            }
        }

        private static String open() {
            return "<?xml version='1.0'?><stream:stream to='" + DOMAIN + "' xmlns='jabber:client' "
                    + "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";
        }

        void write(String stanza) throws IOException {
            write(out, stanza);
        }

        private static void write(OutputStream o, String s) throws IOException {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            synchronized (o) {
                o.write(b);
                o.flush();
            }
        }

        @Override
        public void close() {
            try {
                write(out, "</stream:stream>");
            } catch (IOException ignored) {
                // closing anyway
            }
            try {
                socket.close();
            } catch (IOException ignored) {
                // closed
            }
        }

        private static SSLContext trustAll() throws IOException {
            try {
                SSLContext ctx = SSLContext.getInstance("TLS");
                ctx.init(null, new TrustManager[] {new X509TrustManager() {
                    @Override public void checkClientTrusted(X509Certificate[] c, String a) { }
                    @Override public void checkServerTrusted(X509Certificate[] c, String a) { }
                    @Override public X509Certificate[] getAcceptedIssuers() { return new X509Certificate[0]; }
                }}, new SecureRandom());
                return ctx;
            } catch (java.security.GeneralSecurityException e) {
                throw new IOException(e);
            }
        }
    }
}
