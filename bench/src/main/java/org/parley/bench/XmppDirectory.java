package org.parley.bench;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * The XMPP analogue of a directory lookup, for the "lookup" comparison: a private ejabberd (as {@link XmppServer},
 * Debian's ejabberdctl, everything on 127.0.0.1) with mod_vcard (mnesia, the Debian default) and the HTTP API
 * (mod_http_api + mod_admin_extra, loopback only) to register the users and set their vCards quickly. A lookup is
 * {@code <iq type='get' to='user@localhost'><vCard xmlns='vcard-temp'/></iq>}: the server fetches another user's
 * stored record by name and answers it, as a supernode answers Resolve from its record store.
 */
final class XmppDirectory implements AutoCloseable {
    static final String DOMAIN = XmppServer.DOMAIN;

    private final Path dir;
    private final List<String> ctlArgs;
    final int plainPort;
    final int tlsPort;
    final int httpPort;
    private long beamPid = -1;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private XmppDirectory(Path dir, List<String> ctlArgs, int plainPort, int tlsPort, int httpPort) {
        this.dir = dir;
        this.ctlArgs = ctlArgs;
        this.plainPort = plainPort;
        this.tlsPort = tlsPort;
        this.httpPort = httpPort;
    }

    private static String ctl() {
        String override = System.getenv("BENCH_EJABBERDCTL");
        if (override != null && !override.isBlank()) return override;
        for (String c : List.of("/usr/sbin/ejabberdctl", "/usr/bin/ejabberdctl")) if (Files.isExecutable(Path.of(c))) return c;
        return "ejabberdctl";
    }

    static XmppDirectory start(Cleanup cleanup) throws Exception {
        Path dir = Files.createTempDirectory("parley-bench-xmppdir-");
        cleanup.folder(dir);
        Files.createDirectories(dir.resolve("spool"));
        Files.createDirectories(dir.resolve("logs"));
        List<Integer> ports = new ArrayList<>();
        while (ports.size() < 3) {
            int p = Probe.freeTcpPort();
            if (!ports.contains(p)) ports.add(p);
        }
        String node = "parleybenchdir" + ProcessHandle.current().pid() + "@localhost";
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
                  -
                    port: %d
                    ip: "127.0.0.1"
                    module: ejabberd_http
                    request_handlers:
                      /api: mod_http_api
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
                api_permissions:
                  "bench setup from loopback":
                    from:
                      - mod_http_api
                    who:
                      ip: 127.0.0.0/8
                    what: "*"
                modules:
                  mod_vcard:
                    search: false
                  mod_admin_extra: {}
                """, DOMAIN, dir.resolve("server.pem"), ports.get(0), ports.get(1), ports.get(2));
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
        XmppDirectory s = new XmppDirectory(dir, args, ports.get(0), ports.get(1), ports.get(2));
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

    private Probe.Output ctl(long timeout, String... command) throws IOException, InterruptedException {
        List<String> c = new ArrayList<>();
        c.add(ctl());
        c.addAll(ctlArgs);
        c.addAll(List.of(command));
        return Probe.run(c, timeout);
    }

    /** One call of the HTTP API (loopback only); throws unless HTTP 200. */
    String api(String command, String json) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/api/" + command))
                .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) throw new IOException("ejabberd API " + command + ": HTTP " + r.statusCode() + " " + r.body());
        return r.body();
    }

    /** Registers users and sets each one's vCard DESC to {@code desc} (8 API calls in flight). */
    void registerWithVcards(List<String> users, String password, String desc) throws Exception {
        Semaphore inFlight = new Semaphore(8);
        List<Future<?>> fs = new ArrayList<>();
        try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            for (String u : users) {
                inFlight.acquire();
                fs.add(ex.submit(() -> {
                    try {
                        api("register", "{\"user\":\"" + u + "\",\"host\":\"" + DOMAIN + "\",\"password\":\"" + password + "\"}");
                        api("set_vcard", "{\"user\":\"" + u + "\",\"host\":\"" + DOMAIN + "\",\"name\":\"DESC\",\"content\":\"" + desc + "\"}");
                        return null;
                    } finally {
                        inFlight.release();
                    }
                }));
            }
        }
        for (Future<?> f : fs) f.get();
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

    // ------------------------------------------------------------------ a session that pipelines vCard gets

    /** Receives every IQ answer (type and id) on the session's reader thread. */
    interface IqListener {
        void iq(Session s, String id, boolean result, long nanos);
    }

    /** One c2s session (direct TLS or plain TCP), logged in and bound, with a reader thread for IQ answers. */
    static final class Session implements AutoCloseable {
        private final Socket socket;
        private final OutputStream out;
        private final XmppClient.StanzaReader in;
        private final Thread reader;
        volatile IqListener listener;

        private Session(Socket socket, XmppClient.StanzaReader in, String name) throws IOException {
            this.socket = socket;
            this.out = socket.getOutputStream();
            this.in = in;
            this.reader = Thread.ofVirtual().name("xmpp-dir-" + name).start(this::readLoop);
        }

        static Session connect(int port, boolean tls, String user, String password, String resource) throws IOException {
            Socket s;
            if (tls) {
                SSLSocket ss = (SSLSocket) trustAll().getSocketFactory().createSocket();
                ss.connect(new InetSocketAddress("127.0.0.1", port), 5000);
                ss.startHandshake();
                s = ss;
            } else {
                s = new Socket();
                s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            }
            s.setTcpNoDelay(true);
            s.setSoTimeout(10_000);
            try {
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
                s.setSoTimeout(0);
                return new Session(s, r, user + "/" + resource);
            } catch (IOException | RuntimeException e) {
                s.close();
                throw e;
            }
        }

        private static String open() {
            return "<?xml version='1.0'?><stream:stream to='" + DOMAIN + "' xmlns='jabber:client' "
                    + "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";
        }

        /** Sends a vCard get for {@code user} with IQ id {@code id}; thread-safe. */
        void vcardGet(String user, String id) throws IOException {
            write(out, "<iq type='get' to='" + user + "@" + DOMAIN + "' id='" + id + "'><vCard xmlns='vcard-temp'/></iq>");
        }

        private static final Pattern ID = Pattern.compile("\\sid=['\"]([^'\"]+)['\"]");
        private static final Pattern TYPE = Pattern.compile("\\stype=['\"]([^'\"]+)['\"]");

        private void readLoop() {
            try {
                while (true) {
                    String st = in.next();
                    if (st == null) return;
                    if (!st.startsWith("<iq")) continue;
                    long now = System.nanoTime();
                    int gt = st.indexOf('>');
                    String head = gt > 0 ? st.substring(0, gt) : st;
                    Matcher i = ID.matcher(head);
                    Matcher t = TYPE.matcher(head);
                    IqListener l = listener;
                    if (i.find() && l != null) l.iq(this, i.group(1), t.find() && t.group(1).equals("result"), now);
                }
            } catch (IOException e) {
                // closed
            }
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
            reader.interrupt();
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
