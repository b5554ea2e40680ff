package org.parley.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * A private ejabberd instance for the baseline: its own node name, config, spool and logs in a temporary
 * folder, listening on 127.0.0.1 only (plain c2s and direct-TLS c2s on free ports; Erlang distribution and
 * epmd bound to loopback). Started and stopped with Debian's ejabberdctl, which runs it as user ejabberd.
 */
final class XmppServer implements AutoCloseable {
    static final String DOMAIN = "localhost";
    private static final List<String> CTL = List.of("/usr/sbin/ejabberdctl", "/usr/bin/ejabberdctl");

    private final Path dir;
    private final List<String> ctlArgs;
    final int plainPort;
    final int tlsPort;
    private long beamPid = -1;

    private XmppServer(Path dir, List<String> ctlArgs, int plainPort, int tlsPort) {
        this.dir = dir;
        this.ctlArgs = ctlArgs;
        this.plainPort = plainPort;
        this.tlsPort = tlsPort;
    }

    /** Why the baseline cannot run here, or null if it can. */
    static String unavailableReason() {
        if (ctl() == null) {
            return "ejabberd is not installed (no ejabberdctl in /usr/sbin or /usr/bin, or at $BENCH_EJABBERDCTL); "
                    + "install it with 'apt-get install ejabberd'";
        }
        if (which("openssl") == null) return "openssl is not installed (needed for ejabberd's TLS certificate)";
        String user = System.getProperty("user.name");
        if (!"root".equals(user) && !"ejabberd".equals(user)) {
            return "Debian's ejabberdctl only runs as root or as user ejabberd (this is " + user + ")";
        }
        return null;
    }

    /** ejabberdctl: $BENCH_EJABBERDCTL if set, else Debian's. */
    private static String ctl() {
        String override = System.getenv("BENCH_EJABBERDCTL");
        if (override != null && !override.isBlank()) return Files.isExecutable(Path.of(override)) ? override : null;
        for (String c : CTL) if (Files.isExecutable(Path.of(c))) return c;
        return null;
    }

    private static String which(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, tool))) return Path.of(d, tool).toString();
        }
        return null;
    }

    static XmppServer start(Cleanup cleanup) throws Exception {
        Path dir = Files.createTempDirectory("parley-bench-xmpp-");
        cleanup.folder(dir);
        Files.createDirectories(dir.resolve("spool"));
        Files.createDirectories(dir.resolve("logs"));
        int plain = Probe.freeTcpPort();
        int tls = Probe.freeTcpPort();
        while (tls == plain) tls = Probe.freeTcpPort();
        String node = "parleybench" + ProcessHandle.current().pid() + "@localhost";

        // self-signed certificate for the TLS listener
        Probe.Output o = Probe.run(List.of(which("openssl"), "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", dir.resolve("key.pem").toString(), "-out",
                dir.resolve("cert.pem").toString(), "-days", "2", "-subj", "/CN=" + DOMAIN), 60);
        if (o.exit() != 0) throw new IOException("openssl failed: " + o.text().strip());
        Files.writeString(dir.resolve("server.pem"), Files.readString(dir.resolve("cert.pem"))
                + Files.readString(dir.resolve("key.pem")));

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
                modules: {}
                """, DOMAIN, dir.resolve("server.pem"), plain, tls);
        Files.writeString(dir.resolve("ejabberd.yml"), yml, StandardCharsets.UTF_8);
        // ejabberdctl sources this file; it replaces /etc/default/ejabberd (which would point at /etc/ejabberd/ejabberd.yml)
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
        XmppServer s = new XmppServer(dir, args, plain, tls);
        cleanup.add("ejabberd " + node, s::close);
        Probe.Output st = s.ctl(60, "start");
        if (st.exit() != 0) throw new IOException("ejabberdctl start failed: " + st.text().strip());
        Probe.Output ok = s.ctl(90, "started");
        s.findPid(cleanup);
        if (ok.exit() != 0) {
            throw new IOException("ejabberd did not start: " + ok.text().strip() + "\n"
                    + Probe.lastLines(dir.resolve("logs").resolve("ejabberd.log"), 15));
        }
        return s;
    }

    private void findPid(Cleanup cleanup) throws IOException {
        Path pidFile = dir.resolve("ejabberd.pid");
        if (Files.exists(pidFile)) {
            try {
                beamPid = Long.parseLong(Files.readString(pidFile).trim());
                cleanup.notePid(beamPid);
            } catch (NumberFormatException ignored) {
                // not written yet
            }
        }
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

    /** "ejabberd 23.01-1" or similar, from dpkg, or "ejabberd". */
    static String version() {
        try {
            Probe.Output o = Probe.run(List.of("dpkg-query", "-W", "-f", "${Version}", "ejabberd"), 10);
            if (o.exit() == 0) return "ejabberd " + o.text().strip() + " (Debian package)";
        } catch (IOException | InterruptedException ignored) {
            // unknown
        }
        return "ejabberd";
    }

    long pid() {
        return beamPid;
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
            ctl(70, "stopped"); // also stops epmd when no other Erlang node uses it
        } finally {
            // only if the recorded pid is still an Erlang VM (ejabberdctl stop normally ended it)
            if (beamPid > 0) {
                ProcessHandle.of(beamPid).filter(h -> h.isAlive()
                        && h.info().command().map(c -> c.contains("beam")).orElse(false))
                        .ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }
}
