package org.parley.app;

import ch.qos.logback.classic.Level;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.parley.client.ClientConfig;
import org.parley.client.SupernodeDuty;
import org.parley.client.ClientDaemon;
import org.parley.client.DaemonClient;
import org.parley.client.LocalApi;
import org.parley.identity.DeviceCredentials;
import org.parley.identity.HostPort;
import org.parley.identity.LoginClient;
import org.parley.identity.LoginException;
import org.parley.identity.NetworkFile;
import org.parley.identity.NetworkFileException;
import org.parley.identity.Role;
import org.parley.identity.UserNames;
import org.parley.login.Account;
import org.parley.login.LoginServer;
import org.parley.login.LoginServerConfig;
import org.parley.login.LoginServerData;
import org.parley.login.StartupException;
import org.parley.supernode.Supernode;
import org.parley.supernode.SupernodeConfig;
import org.parley.supernode.relay.RelayConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Entry point of the {@code parley} program. */
@Command(name = "parley", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"Parley: self-hostable hybrid peer-to-peer communications, 1:1 and group chats.",
                "Archive nodes keep an always-online replica of their account's conversations."},
        subcommands = {Main.LoginServerCmd.class, Main.NetworkCmd.class, Main.AccountCmd.class, Main.SupernodeCmd.class,
                Main.ClientCmd.class, Main.ArchiveCmd.class, Main.BotCmd.class, Demo.class, CommandLine.HelpCommand.class},
        footer = {"", "Start with 'parley demo' for a whole network on this machine.",
                "Group chats: 'parley client --home DIR chat --help'.",
                "Archive nodes: 'parley archive --help'.",
                "Web UI: 'parley client --home DIR ui' prints its address; bots: 'parley bot --help'."})
public final class Main {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit status (0 ok, 1 error, 2 usage). */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setParameterExceptionHandler((ex, a) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            err.println("parley: " + Cli.oneLine(ex.getMessage()) + " (see '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help')");
            return 2;
        });
        cl.setExecutionExceptionHandler((ex, c, parse) -> {
            c.getErr().println("parley: " + describe(ex));
            return 1;
        });
        return cl.execute(args);
    }

    static String describe(Throwable ex) {
        if (ex instanceof UserError || ex instanceof NetworkFileException || ex instanceof LoginException
                || ex instanceof StartupException || ex instanceof DaemonClient.DaemonException
                || ex instanceof IllegalArgumentException || ex instanceof IllegalStateException
                || ex instanceof IOException || ex instanceof ClientDaemon.BadRequest) {
            String m = ex.getMessage();
            if (ex instanceof java.nio.file.AccessDeniedException) m = "permission denied: " + m;
            if (ex instanceof java.nio.file.NoSuchFileException) m = "no such file: " + m;
            return Cli.oneLine(m == null ? ex.getClass().getSimpleName() : m);
        }
        return "internal error: " + ex.getClass().getName() + ": " + Cli.oneLine(ex.getMessage());
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"parley 0.1.0 (protocol " + org.parley.protocol.Limits.VERSION + ")"};
        }
    }

    // ------------------------------------------------------------------ login-server

    @Command(name = "login-server", mixinStandardHelpOptions = true, description = "Create and run the login server (accounts, network CA).",
            subcommands = {LoginServerCmd.Init.class, LoginServerCmd.Run.class})
    static final class LoginServerCmd {
        @Command(name = "init", mixinStandardHelpOptions = true,
                description = "Create a network: CA key, login server TLS identity, account store and DIR/network.json.")
        static final class Init implements Callable<Integer> {
            @Option(names = "--data", required = true, paramLabel = "DIR", description = "login server data folder") Path data;
            @Option(names = "--name", required = true, paramLabel = "NETWORK", description = "network name") String name;
            @Option(names = "--public-address", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:7443",
                    description = "address clients use to reach the login server (default: ${DEFAULT-VALUE})") String publicAddress;

            @Override
            public Integer call() {
                HostPort hp = Cli.hostPort(publicAddress, "--public-address");
                try (LoginServerData d = LoginServerData.init(data, name, hp)) {
                    System.out.println("created network '" + name + "' in " + data);
                    System.out.println("network file: " + d.networkFilePath() + " (give it to clients and supernodes)");
                    System.out.println("next: parley account add --data " + data + " --user NAME; parley login-server run --data " + data);
                }
                return 0;
            }
        }

        @Command(name = "run", mixinStandardHelpOptions = true, description = "Run the login server (HTTPS) until stopped.")
        static final class Run implements Callable<Integer> {
            @Option(names = "--data", required = true, paramLabel = "DIR") Path data;
            @Option(names = "--listen", paramLabel = "HOST:PORT", description = "default: the address in network.json") String listen;
            @Option(names = "--cert-lifetime", paramLabel = "DURATION", defaultValue = "24h",
                    description = "device certificate lifetime (default: ${DEFAULT-VALUE})") String lifetime;
            @Option(names = "--allow-promotion", description = "network policy: opted-in, eligible clients may be promoted to supernodes (default: not allowed)") boolean allowPromotion;

            @Override
            public Integer call() {
                Cli.logLevel(Level.INFO);
                LoginServerData d = LoginServerData.open(data);
                LoginServerConfig cfg = LoginServerConfig.defaults(d.networkFile())
                        .withCertificateLifetime(Cli.duration(lifetime, "--cert-lifetime")).withAllowPromotion(allowPromotion);
                if (listen != null) cfg = cfg.withListen(Cli.hostPort(listen, "--listen"));
                LoginServer s;
                try {
                    s = LoginServer.start(d, cfg);
                } catch (RuntimeException e) {
                    d.close();
                    throw e;
                }
                System.out.println("login server of network '" + d.networkFile().name() + "' listening on https://" + s.address());
                System.out.flush();
                Cli.awaitShutdown(() -> {
                    s.close();
                    d.close();
                });
                return 0;
            }
        }
    }

    // ------------------------------------------------------------------ network

    @Command(name = "network", mixinStandardHelpOptions = true, description = "Edit the network file held by the login server.",
            subcommands = {NetworkCmd.AddSeed.class, NetworkCmd.Show.class})
    static final class NetworkCmd {
        @Command(name = "add-seed", mixinStandardHelpOptions = true, description = "Add a seed supernode to DIR/network.json.")
        static final class AddSeed implements Callable<Integer> {
            @Option(names = "--data", required = true, paramLabel = "DIR") Path data;
            @Parameters(paramLabel = "HOST:PORT") String seed;

            @Override
            public Integer call() {
                HostPort hp = Cli.hostPort(seed, "seed");
                if (hp.port() == 0) throw new UserError("seed " + seed + " needs a real port");
                try (LoginServerData d = LoginServerData.open(data)) {
                    d.addSeed(hp);
                    System.out.println("seeds: " + d.networkFile().seeds());
                }
                return 0;
            }
        }

        @Command(name = "show", mixinStandardHelpOptions = true, description = "Validate and print a network file.")
        static final class Show implements Callable<Integer> {
            @Parameters(paramLabel = "FILE") Path file;

            @Override
            public Integer call() {
                NetworkFile nf = NetworkFile.load(file);
                System.out.println("network " + nf.name() + ": login server " + nf.loginServer() + ", seeds " + nf.seeds());
                return 0;
            }
        }
    }

    // ------------------------------------------------------------------ account

    @Command(name = "account", mixinStandardHelpOptions = true, description = "Manage accounts in the login server's store.",
            subcommands = {AccountCmd.Add.class, AccountCmd.ListCmd.class, AccountCmd.Disable.class, AccountCmd.Enable.class})
    static final class AccountCmd {
        @Command(name = "add", mixinStandardHelpOptions = true, description = "Add an account; the password is read from standard input.")
        static final class Add implements Callable<Integer> {
            @Option(names = "--data", required = true, paramLabel = "DIR") Path data;
            @Option(names = "--user", required = true, paramLabel = "NAME") String user;
            @Option(names = "--role", defaultValue = "user", paramLabel = "ROLE", description = "user, supernode or archive (default: ${DEFAULT-VALUE})") String role;

            @Override
            public Integer call() {
                UserNames.check(user);
                Role r = Role.parse(role);
                try (LoginServerData d = LoginServerData.open(data)) {
                    char[] pw = Cli.readPassword("password for " + user + ": ");
                    try {
                        d.accounts().add(user, r, pw);
                    } finally {
                        Arrays.fill(pw, '\0');
                    }
                    System.out.println("added " + r.wireName() + " account '" + user + "'");
                }
                return 0;
            }
        }

        @Command(name = "list", mixinStandardHelpOptions = true, description = "List accounts.")
        static final class ListCmd implements Callable<Integer> {
            @Option(names = "--data", required = true, paramLabel = "DIR") Path data;
            @Option(names = "--json") boolean json;

            @Override
            public Integer call() throws IOException {
                try (LoginServerData d = LoginServerData.open(data)) {
                    List<Account> l = d.accounts().list();
                    if (json) {
                        System.out.println(JSON.writeValueAsString(l.stream().map(a -> Map.of("user", a.user(),
                                "role", a.role().wireName(), "disabled", a.disabled(), "plan", a.policy().plan(),
                                "created", a.created().toString())).toList()));
                    } else {
                        System.out.printf("%-32s %-10s %-9s %s%n", "USER", "ROLE", "STATE", "CREATED");
                        for (Account a : l) {
                            System.out.printf("%-32s %-10s %-9s %s%n", a.user(), a.role().wireName(),
                                    a.disabled() ? "disabled" : "active", a.created());
                        }
                    }
                }
                return 0;
            }
        }

        @Command(name = "disable", mixinStandardHelpOptions = true, description = "Disable an account: no new logins or renewals.")
        static final class Disable implements Callable<Integer> {
            @Option(names = "--data", required = true, paramLabel = "DIR") Path data;
            @Option(names = "--user", required = true, paramLabel = "NAME") String user;

            @Override
            public Integer call() {
                return setDisabled(data, user, true);
            }
        }

        @Command(name = "enable", mixinStandardHelpOptions = true, description = "Enable a disabled account.")
        static final class Enable implements Callable<Integer> {
            @Option(names = "--data", required = true, paramLabel = "DIR") Path data;
            @Option(names = "--user", required = true, paramLabel = "NAME") String user;

            @Override
            public Integer call() {
                return setDisabled(data, user, false);
            }
        }
    }

    static int setDisabled(Path data, String user, boolean disabled) {
        try (LoginServerData d = LoginServerData.open(data)) {
            if (!d.accounts().setDisabled(user, disabled)) throw new UserError("no account '" + user + "'");
            System.out.println((disabled ? "disabled '" : "enabled '") + user + "'");
        }
        return 0;
    }

    // ------------------------------------------------------------------ supernode

    @Command(name = "supernode", mixinStandardHelpOptions = true, description = "Enrol and run a supernode.",
            subcommands = {SupernodeCmd.Login.class, SupernodeCmd.Run.class})
    static final class SupernodeCmd {
        @Command(name = "login", mixinStandardHelpOptions = true,
                description = "Enrol this supernode with an account of role 'supernode' (password on standard input).")
        static final class Login implements Callable<Integer> {
            @Option(names = "--data", required = true, paramLabel = "DIR") Path data;
            @Option(names = "--network", required = true, paramLabel = "FILE") Path network;
            @Option(names = "--user", required = true, paramLabel = "NAME") String user;

            @Override
            public Integer call() throws Exception {
                UserNames.check(user);
                NetworkFile nf = NetworkFile.load(network);
                Files.createDirectories(data);
                DeviceCredentials.initNetwork(data, network);
                char[] pw = Cli.readPassword("password for " + user + ": ");
                DeviceCredentials c = DeviceCredentials.enroll(data, user, new String(pw), new LoginClient(nf));
                Arrays.fill(pw, '\0');
                if (!"supernode".equals(roleOf(c))) {
                    Files.deleteIfExists(data.resolve(DeviceCredentials.CREDENTIAL));
                    Files.deleteIfExists(data.resolve(DeviceCredentials.CERT));
                    throw new UserError("account '" + user + "' has role " + roleOf(c) + ", not supernode");
                }
                System.out.println("supernode enrolled as '" + user + "' (device " + c.deviceId() + "), certificate valid until " + c.expiresAt());
                return 0;
            }
        }

        @Command(name = "run", mixinStandardHelpOptions = true, description = "Run the supernode until stopped.")
        static final class Run implements Callable<Integer> {
            @Option(names = "--data", required = true, paramLabel = "DIR") Path data;
            @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "0.0.0.0:7700", description = "UDP address (default: ${DEFAULT-VALUE})") String listen;
            @Option(names = "--capacity", defaultValue = "10000", paramLabel = "N", description = "most attached clients (default: ${DEFAULT-VALUE})") int capacity;
            @Option(names = "--metrics", paramLabel = "HOST:PORT", description = "serve Prometheus metrics over HTTP here") String metrics;
            @Option(names = "--route-rate", defaultValue = "500", paramLabel = "N", description = "routed frames per second per client (default: ${DEFAULT-VALUE}, burst 2x)") int routeRate;
            @Option(names = "--relay", paramLabel = "HOST:PORT", description = "UDP address of the relay (default: the listen host, listen port + 1)") String relayAt;
            @Option(names = "--no-relay", description = "run no relay") boolean noRelay;
            @Option(names = "--relay-sessions", defaultValue = "1000", paramLabel = "N", description = "most relay sessions at once (default: ${DEFAULT-VALUE})") int relaySessions;
            @Option(names = "--relay-rate", defaultValue = "1000000", paramLabel = "BYTES", description = "relay bytes per second per session, both directions together (default: ${DEFAULT-VALUE})") long relayRate;
            @Option(names = "--relay-bandwidth", defaultValue = "100000000", paramLabel = "BYTES", description = "relay bytes per second in all; new relay sessions get Busy above it (default: ${DEFAULT-VALUE})") long relayBandwidth;
            @Option(names = "--attach-rate", defaultValue = "500", paramLabel = "N", description = "new client attachments per second before redirecting (default: ${DEFAULT-VALUE}, burst 2x)") int attachRate;
            @Option(names = "--lookup-rate", defaultValue = "50000", paramLabel = "N", description = "client directory lookups per second before answering Busy (default: ${DEFAULT-VALUE}, burst 2x)") int lookupRate;
            @Option(names = "--keepalive", defaultValue = "10s", paramLabel = "DURATION", description = "ping interval clients are told to use; a silent supernode is noticed within about one interval (default: ${DEFAULT-VALUE})") String keepalive;
            @Option(names = "--advertise", paramLabel = "HOST:PORT", description = "address other supernodes and clients reach this one at (default: the listen address; a wildcard host becomes this machine's first non-loopback IPv4 address)") String advertise;

            @Override
            public Integer call() throws Exception {
                Cli.logLevel(Level.INFO);
                DeviceCredentials c = DeviceCredentials.load(data);
                SupernodeConfig cfg;
                try {
                    cfg = SupernodeConfig.defaults(Cli.hostPort(listen, "--listen")).withCapacity(capacity)
                            .withRouteRate(routeRate).withRates(attachRate, lookupRate, relayBandwidth)
                            .withKeepalive(Cli.duration(keepalive, "--keepalive"));
                } catch (IllegalArgumentException e) {
                    throw new UserError(e.getMessage());
                }
                if (advertise != null) cfg = cfg.withAdvertise(Cli.hostPort(advertise, "--advertise"));
                if (metrics != null) cfg = cfg.withMetrics(Cli.hostPort(metrics, "--metrics"));
                RelayConfig rd = RelayConfig.defaults();
                RelayConfig rc = new RelayConfig(relaySessions, relayRate, Math.max(rd.burstBytes(), relayRate / 4),
                        rd.maxSessionBytes(), rd.idleTimeout(), rd.bindTimeout(), rd.threads());
                cfg = cfg.withRelay(relayAt == null ? null : Cli.hostPort(relayAt, "--relay"), rc, !noRelay);
                Supernode s = Supernode.start(c, cfg, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
                System.out.println("supernode " + c.user() + " listening on UDP " + HostPort.of(s.address())
                        + " (capacity " + capacity + ")"
                        + (s.relayAddress() != null ? ", relay on UDP " + HostPort.of(s.relayAddress()) : ", no relay")
                        + (metrics != null ? ", metrics on http://" + metrics + "/metrics" : ""));
                System.out.flush();
                Cli.awaitShutdown(s::close);
                return 0;
            }
        }
    }

    static String roleOf(DeviceCredentials c) {
        try {
            return org.parley.identity.CertificateVerifier.of(c.networkFile(), java.time.Clock.systemUTC())
                    .verify(c.certificate()).role().wireName();
        } catch (org.parley.identity.CertificateRejectedException e) {
            throw new UserError("the login server issued an unusable certificate: " + e.getMessage());
        }
    }

    // ------------------------------------------------------------------ client

    /** Rejects a message text above the protocol's limit before it reaches the daemon. */
    static void checkTextLength(String text) {
        int bytes = text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        if (bytes > org.parley.protocol.Limits.MAX_TEXT_BYTES) {
            throw new UserError("message is " + bytes + " bytes; the limit is "
                    + org.parley.protocol.Limits.MAX_TEXT_BYTES + " bytes (UTF-8)");
        }
    }

    /**
     * Starts a client daemon (a user's device or an archive node) with its local API, prints one line naming
     * {@code what} and its addresses, and blocks until the JVM is asked to stop.
     */
    static void runDaemon(Path home, ClientConfig cfg, int apiPort, java.util.function.Function<ClientDaemon, String> what)
            throws IOException {
        if (apiPort < 0 || apiPort > 65535) throw new UserError("--api-port must be between 0 and 65535");
        ClientDaemon d = ClientDaemon.start(home, cfg, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        LocalApi api;
        try {
            api = LocalApi.start(d, apiPort, () -> System.exit(0));
        } catch (IOException | RuntimeException e) {
            d.close();
            throw e;
        }
        System.out.println(what.apply(d) + " running: QUIC on UDP " + HostPort.of(d.address())
                + ", local API on http://127.0.0.1:" + api.port() + " (token in " + home.resolve(LocalApi.API_FILE) + ")");
        System.out.flush();
        Cli.awaitShutdown(() -> {
            api.close();
            d.close();
        });
    }

    @Command(name = "client", mixinStandardHelpOptions = true,
            description = "Use Parley as a user: enrol this device, run the daemon, send and read 1:1 and group messages.",
            subcommands = {ClientCmd.Init.class, ClientCmd.Login.class, ClientCmd.Run.class, ClientCmd.Send.class,
                    ClientCmd.History.class, ClientCmd.ChatCmd.class, ClientCmd.Contacts.class, ClientCmd.Ui.class,
                    ClientCmd.Offline.class, ClientCmd.Online.class, ClientCmd.Call.class, ClientCmd.Answer.class,
                    ClientCmd.Reject.class, ClientCmd.Hangup.class, ClientCmd.CallsCmd.class, ClientCmd.Status.class,
                    ClientCmd.Stop.class})
    static final class ClientCmd {
        @Option(names = "--home", paramLabel = "DIR",
                description = "this device's folder (keys, certificate, messages; required except for --help); an archive node's --data folder works too") Path home;

        /** The --home of the enclosing {@code client} command, however deep the subcommand. */
        static Path home(CommandLine.Model.CommandSpec spec) {
            for (CommandLine.Model.CommandSpec s = spec.parent(); s != null; s = s.parent()) {
                if (s.userObject() instanceof ClientCmd c) {
                    if (c.home == null) {
                        // not required by picocli, so that 'client <command> --help' works without it
                        throw new CommandLine.ParameterException(spec.commandLine(), "Missing required option: '--home=DIR'");
                    }
                    return c.home;
                }
            }
            throw new IllegalStateException("no --home given");
        }

        @Command(name = "init", mixinStandardHelpOptions = true, description = "Create the device folder from a network file.")
        static final class Init implements Callable<Integer> {
            @CommandLine.Spec CommandLine.Model.CommandSpec spec;
            @Option(names = "--network", required = true, paramLabel = "FILE") Path network;

            @Override
            public Integer call() throws IOException {
                Path home = home(spec);
                NetworkFile.load(network); // validate before creating anything
                Files.createDirectories(home);
                NetworkFile nf = DeviceCredentials.initNetwork(home, network);
                System.out.println("device folder " + home + " joined network '" + nf.name() + "'; next: parley client --home " + home + " login --user NAME");
                return 0;
            }
        }

        @Command(name = "login", mixinStandardHelpOptions = true, description = "Log in (password on standard input); creates the device key.")
        static final class Login implements Callable<Integer> {
            @CommandLine.Spec CommandLine.Model.CommandSpec spec;
            @Option(names = "--user", required = true, paramLabel = "NAME") String user;

            @Override
            public Integer call() throws Exception {
                Path home = home(spec);
                UserNames.check(user);
                if (!Files.exists(home.resolve(DeviceCredentials.NETWORK))) {
                    throw new UserError(home + " has no network file: run 'parley client --home " + home + " init --network FILE' first");
                }
                NetworkFile nf = DeviceCredentials.network(home);
                char[] pw = Cli.readPassword("password for " + user + ": ");
                DeviceCredentials c = DeviceCredentials.enroll(home, user, new String(pw), new LoginClient(nf));
                Arrays.fill(pw, '\0');
                System.out.println("logged in as '" + c.user() + "' (device " + c.deviceId() + "), certificate valid until " + c.expiresAt());
                return 0;
            }
        }

        @Command(name = "run", mixinStandardHelpOptions = true, description = "Run the client daemon until stopped.")
        static final class Run implements Callable<Integer> {
            @CommandLine.Spec CommandLine.Model.CommandSpec spec;
            @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "0.0.0.0:0", description = "UDP address for QUIC (default: ${DEFAULT-VALUE})") String listen;
            @Option(names = "--api-port", paramLabel = "PORT", defaultValue = "0", description = "local API port on 127.0.0.1 (default: any free port)") int apiPort;
            @Option(names = "--relay-only", description = "keep every peer session on a supernode relay: peers never learn this device's addresses") boolean relayOnly;
            @Option(names = "--supernode-opt-in", description = "allow this device to be promoted to a supernode when it qualifies and the network's policy allows it (publicly reachable by dial-back, up 30 min, spare uplink); duty is capped to a quarter of --uplink-kbps") boolean supernodeOptIn;
            @Option(names = "--uplink-kbps", paramLabel = "N", defaultValue = "0", description = "this device's upstream bandwidth in kbit/s, for supernode duty (default: ${DEFAULT-VALUE} = unknown, never promoted)") int uplinkKbps;
            @Option(names = "--supernode-listen", paramLabel = "HOST:PORT", description = "UDP address of the supernode port while promoted (default: the --listen host, any free port)") String supernodeListen;

            @Override
            public Integer call() throws Exception {
                Cli.logLevel(Level.INFO);
                Path home = home(spec);
                if (!DeviceCredentials.enrolled(home)) {
                    throw new UserError("no device credentials in " + home + ": run 'parley client --home " + home + " login --user NAME' first");
                }
                if (uplinkKbps < 0) throw new UserError("--uplink-kbps must not be negative");
                ClientConfig cfg = ClientConfig.defaults().withListen(Cli.hostPort(listen, "--listen")).withDirectSessions(!relayOnly);
                if (supernodeOptIn) {
                    cfg = cfg.withDuty(SupernodeDuty.optedIn(uplinkKbps,
                            supernodeListen == null ? null : Cli.hostPort(supernodeListen, "--supernode-listen")));
                }
                runDaemon(home, cfg, apiPort, d -> "client daemon of '" + d.user() + "'");
                return 0;
            }
        }

        @Command(name = "send", mixinStandardHelpOptions = true, description = "Send a 1:1 message (queued if the recipient is offline).")
        static final class Send implements Callable<Integer> {
            @CommandLine.Spec CommandLine.Model.CommandSpec spec;
            @Option(names = "--to", required = true, paramLabel = "USER") String to;
            @Parameters(paramLabel = "TEXT", arity = "1..*", description = "message text") List<String> text;

            @Override
            public Integer call() throws Exception {
                String body = String.join(" ", text);
                checkTextLength(body);
                DaemonClient dc = DaemonClient.connect(home(spec));
                JsonNode m = dc.post("/api/v1/messages", Map.of("to", to, "text", body));
                System.out.println("message " + m.path("id").asText() + " to " + to + ": " + m.path("state").asText()
                        + " (stored; delivery continues in the daemon)");
                return 0;
            }
        }

        @Command(name = "history", mixinStandardHelpOptions = true, description = "Show the conversation with a user.")
        static final class History implements Callable<Integer> {
            @CommandLine.Spec CommandLine.Model.CommandSpec spec;
            @Option(names = "--with", required = true, paramLabel = "USER") String with;
            @Option(names = "--limit", defaultValue = "100", paramLabel = "N") int limit;
            @Option(names = "--json") boolean json;

            @Override
            public Integer call() throws Exception {
                DaemonClient dc = DaemonClient.connect(home(spec));
                JsonNode l = dc.get("/api/v1/messages?with=" + java.net.URLEncoder.encode(with, java.nio.charset.StandardCharsets.UTF_8) + "&limit=" + limit);
                if (json) {
                    System.out.println(JSON.writeValueAsString(l));
                    return 0;
                }
                DateTimeFormatter f = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneId.systemDefault());
                if (l.isEmpty()) System.out.println("no messages with " + with);
                for (JsonNode m : l) {
                    System.out.printf("%s  %-12s %s  [%s]%n", f.format(Instant.ofEpochMilli(m.path("sentAtMillis").asLong())),
                            m.path("sender").asText() + ":", m.path("text").asText(), m.path("state").asText());
                }
                return 0;
            }
        }

        // -------------------------------------------------------------- chat (1:1 and group conversations)

        @Command(name = "chat", mixinStandardHelpOptions = true,
                description = "Group and 1:1 conversations: create, list, send, history, members, edits and reactions.",
                subcommands = {ChatCmd.Create.class, ChatCmd.ListCmd.class, ChatCmd.SendCmd.class, ChatCmd.HistoryCmd.class,
                        ChatCmd.Add.class, ChatCmd.Remove.class, ChatCmd.Leave.class, ChatCmd.Rename.class,
                        ChatCmd.Read.class, ChatCmd.Edit.class, ChatCmd.Delete.class, ChatCmd.React.class},
                footer = {"", "ID:  a conversation id (32 hex digits) or a unique prefix of at least 6,",
                        "     as 'chat list' shows.",
                        "EID: an event id (64 hex digits) or a unique prefix of at least 8,",
                        "     as 'chat history' shows."})
        static final class ChatCmd {
            static final int SHORT_ID = 12;
            static final int SHORT_EVENT = 8;

            /** The conversation a subcommand works on. */
            static final class ChatRef {
                @Option(names = "--chat", required = true, paramLabel = "ID",
                        description = "conversation id or a unique prefix of at least 6 hex digits") String chat;

                String id() {
                    String c = chat.strip().toLowerCase(java.util.Locale.ROOT);
                    if (!c.matches("[0-9a-f]{6,32}")) {
                        throw new UserError("--chat: '" + chat + "' is not a conversation id (6 to 32 hex digits)");
                    }
                    return c;
                }
            }

            static String eventId(String e) {
                String c = e.strip().toLowerCase(java.util.Locale.ROOT);
                if (!c.matches("[0-9a-f]{8,64}")) {
                    throw new UserError("--event: '" + e + "' is not an event id (8 to 64 hex digits)");
                }
                return c;
            }

            static String user(String u, String what) {
                String t = u.strip();
                if (!UserNames.isValid(t)) throw new UserError(what + ": '" + u + "' is not a valid user name");
                return t;
            }

            /** Comma-separated user names: trimmed, duplicates dropped, at least one. */
            static List<String> members(String list) {
                java.util.LinkedHashSet<String> out = new java.util.LinkedHashSet<>();
                for (String m : list.split(",", -1)) {
                    if (m.isBlank()) continue;
                    out.add(user(m, "--members"));
                }
                if (out.isEmpty()) throw new UserError("--members: give at least one user name (comma-separated, e.g. bob,carol)");
                return List.copyOf(out);
            }

            static String text(List<String> words, String what) {
                String t = String.join(" ", words);
                if (t.isBlank()) throw new UserError(what + " is empty");
                checkTextLength(t);
                return t;
            }

            /** Posts an event to a conversation and prints one line about it. */
            static int post(CommandLine.Model.CommandSpec spec, ChatRef ref, Map<String, Object> body, String done)
                    throws DaemonClient.DaemonException {
                String conv = ref.id();
                JsonNode e = DaemonClient.connect(home(spec)).post("/api/v1/chats/" + conv + "/events", body);
                System.out.println("event " + e.path("id").asText() + " in " + e.path("conversation").asText() + ": " + done);
                return 0;
            }

            static String members(JsonNode list) {
                List<String> l = new java.util.ArrayList<>();
                for (JsonNode m : list) l.add(m.asText());
                return String.join(", ", l);
            }

            @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a group; you are its first member and owner.")
            static final class Create implements Callable<Integer> {
                @CommandLine.Spec CommandLine.Model.CommandSpec spec;
                @Option(names = "--name", required = true, paramLabel = "NAME", description = "the group's name") String name;
                @Option(names = "--members", required = true, paramLabel = "USER,...", description = "the other members, comma-separated") String members;
                @Option(names = "--json", description = "print the new conversation as JSON") boolean json;

                @Override
                public Integer call() throws Exception {
                    if (name.isBlank()) throw new UserError("--name: a group needs a name");
                    List<String> m = members(members);
                    JsonNode c = DaemonClient.connect(home(spec)).post("/api/v1/chats", Map.of("name", name.strip(), "members", m));
                    if (json) {
                        System.out.println(JSON.writeValueAsString(c));
                    } else {
                        System.out.println("created group " + c.path("id").asText() + " '" + c.path("name").asText() + "': members "
                                + members(c.path("members")));
                    }
                    return 0;
                }
            }

            @Command(name = "list", mixinStandardHelpOptions = true, description = "List conversations, most recent first, with unread counts.")
            static final class ListCmd implements Callable<Integer> {
                @CommandLine.Spec CommandLine.Model.CommandSpec spec;
                @Option(names = "--json", description = "print the full list as JSON") boolean json;

                @Override
                public Integer call() throws Exception {
                    JsonNode l = DaemonClient.connect(home(spec)).get("/api/v1/chats");
                    if (json) {
                        System.out.println(JSON.writeValueAsString(l));
                        return 0;
                    }
                    if (l.isEmpty()) {
                        System.out.println("no conversations");
                        return 0;
                    }
                    System.out.printf("%-12s  %-6s  %6s  %-24s  %s%n", "ID", "KIND", "UNREAD", "NAME", "MEMBERS");
                    for (JsonNode c : l) {
                        String id = c.path("id").asText();
                        System.out.printf("%-12s  %-6s  %6d  %-24s  %s%s%n", id.substring(0, Math.min(SHORT_ID, id.length())),
                                c.path("kind").asText(), c.path("unread").asInt(), c.path("name").asText(),
                                members(c.path("members")), c.path("member").asBoolean(true) ? "" : " (you are no longer a member)");
                    }
                    return 0;
                }
            }

            @Command(name = "send", mixinStandardHelpOptions = true, description = "Send a message to a conversation (stored, then delivered by the daemon).")
            static final class SendCmd implements Callable<Integer> {
                @CommandLine.Spec CommandLine.Model.CommandSpec spec;
                @CommandLine.Mixin ChatRef ref;
                @Parameters(paramLabel = "TEXT", arity = "1..*", description = "message text") List<String> text;

                @Override
                public Integer call() throws Exception {
                    return post(spec, ref, Map.of("kind", "message", "text", text(text, "message text")),
                            "stored (delivery continues in the daemon)");
                }
            }

            @Command(name = "history", mixinStandardHelpOptions = true, description = "Show a conversation: messages with edits, deletions and reactions applied.")
            static final class HistoryCmd implements Callable<Integer> {
                @CommandLine.Spec CommandLine.Model.CommandSpec spec;
                @CommandLine.Mixin ChatRef ref;
                @Option(names = "--limit", defaultValue = "100", paramLabel = "N", description = "last N lines (default: ${DEFAULT-VALUE})") int limit;
                @Option(names = "--json", description = "print the lines as JSON") boolean json;

                @Override
                public Integer call() throws Exception {
                    String conv = ref.id();
                    if (limit < 1) throw new UserError("--limit must be at least 1");
                    DaemonClient dc = DaemonClient.connect(home(spec));
                    JsonNode l = dc.get("/api/v1/chats/" + conv + "/events?limit=" + limit);
                    if (json) {
                        System.out.println(JSON.writeValueAsString(l));
                        return 0;
                    }
                    if (l.isEmpty()) {
                        System.out.println("no messages in " + conv);
                        return 0;
                    }
                    String me = dc.get("/api/v1/status").path("user").asText();
                    DateTimeFormatter f = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneId.systemDefault());
                    for (JsonNode e : l) {
                        String id = e.path("id").asText();
                        System.out.println(f.format(Instant.ofEpochMilli(e.path("sentAtMillis").asLong())) + "  "
                                + id.substring(0, Math.min(SHORT_EVENT, id.length())) + "  " + line(e, me));
                    }
                    return 0;
                }

                static List<String> users(JsonNode e) {
                    List<String> l = new java.util.ArrayList<>();
                    for (JsonNode u : e.path("users")) l.add(u.asText());
                    return l;
                }

                static String line(JsonNode e, String me) {
                    String author = e.path("author").asText();
                    List<String> users = users(e);
                    String text = e.path("text").asText("");
                    return switch (e.path("kind").asText()) {
                        case "message" -> message(e, author, me);
                        case "create" -> {
                            List<String> others = users.stream().filter(u -> !u.equals(author)).toList();
                            yield text.isEmpty() ? "* " + author + " started the conversation"
                                    : "* " + author + " created group '" + text + "'"
                                    + (others.isEmpty() ? "" : " with " + String.join(", ", others));
                        }
                        case "add" -> "* " + author + " added " + String.join(", ", users);
                        case "remove" -> "* " + author + " removed " + String.join(", ", users);
                        case "leave" -> "* " + author + " left";
                        case "rename" -> "* " + author + " renamed the group to '" + text + "'";
                        default -> "* " + author + " " + e.path("kind").asText() + (text.isEmpty() ? "" : " " + text);
                    };
                }

                static String message(JsonNode e, String author, String me) {
                    StringBuilder b = new StringBuilder(author).append(": ");
                    if (e.path("deleted").asBoolean()) {
                        b.append("(deleted)");
                    } else {
                        b.append(e.path("text").asText(""));
                        if (e.path("edited").asBoolean()) b.append(" (edited)");
                    }
                    for (Map.Entry<String, JsonNode> r : e.path("reactions").properties()) {
                        if (r.getValue().isEmpty()) continue;
                        List<String> who = new java.util.ArrayList<>();
                        for (JsonNode u : r.getValue()) who.add(u.asText());
                        b.append(" [").append(r.getKey()).append(' ').append(String.join(",", who)).append(']');
                    }
                    if (author.equals(me)) {
                        List<String> held = new java.util.ArrayList<>();
                        for (JsonNode u : e.path("heldBy")) if (!u.asText().equals(me)) held.add(u.asText());
                        b.append(held.isEmpty() ? " [queued]" : " [held by: " + String.join(", ", held) + "]");
                    }
                    return b.toString();
                }
            }

            @Command(name = "add", mixinStandardHelpOptions = true, description = "Add a member to a group.")
            static final class Add implements Callable<Integer> {
                @CommandLine.Spec CommandLine.Model.CommandSpec spec;
                @CommandLine.Mixin ChatRef ref;
                @Option(names = "--user", required = true, paramLabel = "USER", description = "the user to add") String user;

                @Override
                public Integer call() throws Exception {
                    String u = user(user, "--user");
                    return post(spec, ref, Map.of("kind", "add", "users", List.of(u)), "added " + u);
                }
            }

            @Command(name = "remove", mixinStandardHelpOptions = true, description = "Remove a member from a group.")
            static final class Remove implements Callable<Integer> {
                @CommandLine.Spec CommandLine.Model.CommandSpec spec;
                @CommandLine.Mixin ChatRef ref;
                @Option(names = "--user", required = true, paramLabel = "USER", description = "the user to remove") String user;

                @Override
                public Integer call() throws Exception {
                    String u = user(user, "--user");
                    return post(spec, ref, Map.of("kind", "remove", "users", List.of(u)), "removed " + u);
                }
            }

            @Command(name = "leave", mixinStandardHelpOptions = true, description = "Leave a group.")
            static final class Leave implements Callable<Integer> {
                @CommandLine.Spec CommandLine.Model.CommandSpec spec;
                @CommandLine.Mixin ChatRef ref;

                @Override
                public Integer call() throws Exception {
                    return post(spec, ref, Map.of("kind", "leave"), "you left the conversation");
                }
            }

            @Command(name = "rename", mixinStandardHelpOptions = true, description = "Rename a group.")
            static final class Rename implements Callable<Integer> {
                @CommandLine.Spec CommandLine.Model.CommandSpec spec;
                @CommandLine.Mixin ChatRef ref;
                @Option(names = "--name", required = true, paramLabel = "NAME", description = "the new name") String name;

                @Override
                public Integer call() throws Exception {
                    if (name.isBlank()) throw new UserError("--name: a group needs a name");
                    checkTextLength(name);
                    return post(spec, ref, Map.of("kind", "rename", "text", name.strip()), "renamed to '" + name.strip() + "'");
                }
            }

            @Command(name = "read", mixinStandardHelpOptions = true, description = "Mark everything in a conversation as read.")
            static final class Read implements Callable<Integer> {
                @CommandLine.Spec CommandLine.Model.CommandSpec spec;
                @CommandLine.Mixin ChatRef ref;

                @Override
                public Integer call() throws Exception {
                    String conv = ref.id();
                    JsonNode e = DaemonClient.connect(home(spec)).post("/api/v1/chats/" + conv + "/events", Map.of("kind", "read"));
                    System.out.println("conversation " + e.path("conversation").asText() + " marked read");
                    return 0;
                }
            }

            @Command(name = "edit", mixinStandardHelpOptions = true, description = "Replace the text of one of your messages.")
            static final class Edit implements Callable<Integer> {
                @CommandLine.Spec CommandLine.Model.CommandSpec spec;
                @CommandLine.Mixin ChatRef ref;
                @Option(names = "--event", required = true, paramLabel = "EID", description = "the message's event id or a unique prefix of at least 8 hex digits") String event;
                @Parameters(paramLabel = "TEXT", arity = "1..*", description = "the new text") List<String> text;

                @Override
                public Integer call() throws Exception {
                    String target = eventId(event);
                    return post(spec, ref, Map.of("kind", "edit", "target", target, "text", text(text, "new text")),
                            "edit of " + target + " stored");
                }
            }

            @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete one of your messages (for everyone).")
            static final class Delete implements Callable<Integer> {
                @CommandLine.Spec CommandLine.Model.CommandSpec spec;
                @CommandLine.Mixin ChatRef ref;
                @Option(names = "--event", required = true, paramLabel = "EID", description = "the message's event id or a unique prefix of at least 8 hex digits") String event;

                @Override
                public Integer call() throws Exception {
                    String target = eventId(event);
                    return post(spec, ref, Map.of("kind", "delete", "target", target), "deletion of " + target + " stored");
                }
            }

            @Command(name = "react", mixinStandardHelpOptions = true, description = "React to a message with an emoji.")
            static final class React implements Callable<Integer> {
                @CommandLine.Spec CommandLine.Model.CommandSpec spec;
                @CommandLine.Mixin ChatRef ref;
                @Option(names = "--event", required = true, paramLabel = "EID", description = "the message's event id or a unique prefix of at least 8 hex digits") String event;
                @Parameters(paramLabel = "EMOJI", description = "the reaction, e.g. 👍") String emoji;

                @Override
                public Integer call() throws Exception {
                    String target = eventId(event);
                    if (emoji.isBlank()) throw new UserError("EMOJI is empty");
                    return post(spec, ref, Map.of("kind", "reaction", "target", target, "text", emoji.strip()),
                            "reaction " + emoji.strip() + " to " + target + " stored");
                }
            }
        }

        @Command(name = "status", mixinStandardHelpOptions = true, description = "Show the daemon's supernode link, presence and peer sessions.")
        static final class Status implements Callable<Integer> {
            @CommandLine.Spec CommandLine.Model.CommandSpec spec;
            @Option(names = "--json") boolean json;

            @Override
            public Integer call() throws Exception {
                DaemonClient dc = DaemonClient.connect(home(spec));
                JsonNode s = dc.get("/api/v1/status");
                if (json) {
                    System.out.println(JSON.writeValueAsString(s));
                    return 0;
                }
                System.out.println("user       " + s.path("user").asText() + " (device " + s.path("deviceId").asText() + ")");
                System.out.println("presence   " + s.path("presence").asText());
                if (!s.path("online").asBoolean(true)) {
                    System.out.println("supernode  offline (working offline: 'parley client online' reconnects)");
                } else System.out.println("supernode  " + s.path("linkState").asText()
                        + (s.path("supernode").isNull() || s.path("supernode").isMissingNode() ? "" : " to " + s.path("supernode").asText()
                        + " at " + s.path("supernodeAddress").asText() + ", observed address " + s.path("observedAddress").asText()
                        + ", rtt " + s.path("supernodeRttMillis").asLong() + " ms")
                        + (s.hasNonNull("lastLinkError") ? " (last error: " + s.path("lastLinkError").asText() + ")" : ""));
                System.out.println("local      UDP " + s.path("localAddress").asText());
                System.out.println("cert       valid until " + Instant.ofEpochMilli(s.path("certificateExpiresAt").asLong())
                        + ", renews after " + Instant.ofEpochMilli(s.path("certificateRenewAt").asLong())
                        + (s.hasNonNull("renewalProblem") ? " (renewal failing: " + s.path("renewalProblem").asText() + ")" : ""));
                System.out.println("queued     " + s.path("queued").asInt() + " outgoing message(s)");
                System.out.println("duty       " + s.path("supernodeDuty").asText());
                JsonNode sessions = s.path("sessions");
                System.out.println("sessions   " + sessions.size());
                for (JsonNode x : sessions) {
                    String via = x.hasNonNull("via") ? " via " + x.path("via").asText() : "";
                    System.out.printf("  %-20s %-14s %-22s rtt %d ms, sent %d B, received %d B, path changes %d%s%n",
                            x.path("user").asText() + "/" + x.path("deviceId").asText().substring(0, 8), x.path("path").asText(),
                            x.path("remote").asText(), x.path("rttMillis").asLong(), x.path("bytesSent").asLong(),
                            x.path("bytesReceived").asLong(), x.path("pathChanges").asInt(), via);
                }
                return 0;
            }
        }

        @Command(name = "ui", mixinStandardHelpOptions = true,
                description = "Print the address of the daemon's web UI (on 127.0.0.1; it carries the access token, keep it private).")
        static final class Ui implements Callable<Integer> {
            @CommandLine.Spec CommandLine.Model.CommandSpec spec;

            @Override
            public Integer call() throws Exception {
                DaemonClient dc = DaemonClient.connect(home(spec));
                dc.get("/api/v1/status"); // running and the token is good
                System.out.println(dc.uiUrl());
                return 0;
            }
        }

        /** The work-offline switch behind 'offline' and 'online'. */
        abstract static class ConnectionSwitch implements Callable<Integer> {
            @CommandLine.Spec CommandLine.Model.CommandSpec spec;

            abstract boolean online();

            @Override
            public Integer call() throws Exception {
                JsonNode r = DaemonClient.connect(home(spec)).post("/api/v1/connection", Map.of("online", online()));
                System.out.println(online() ? "online (" + r.path("linkState").asText() + ")"
                        : "working offline; 'parley client online' reconnects");
                return 0;
            }
        }

        @Command(name = "offline", mixinStandardHelpOptions = true,
                description = "Work offline: close the supernode link and every peer session; reading and writing go on locally.")
        static final class Offline extends ConnectionSwitch {
            @Override
            boolean online() {
                return false;
            }
        }

        @Command(name = "online", mixinStandardHelpOptions = true, description = "Go back online after 'offline': reconnect and deliver what was written.")
        static final class Online extends ConnectionSwitch {
            @Override
            boolean online() {
                return true;
            }
        }

        /** Follows a call until it ends, printing each state; exit 0 if it was connected, 1 otherwise. */
        static int follow(DaemonClient dc, JsonNode call) throws Exception {
            String id = call.path("id").asText();
            String last = "";
            Thread hook = new Thread(() -> {
                try {
                    dc.post("/api/v1/calls/" + id + "/hangup", Map.of());
                } catch (Exception ignored) {
                    // the daemon ends it anyway
                }
            });
            Runtime.getRuntime().addShutdownHook(hook); // Ctrl-C hangs up
            try {
                while (true) {
                    String state = call.path("state").asText();
                    if (!state.equals(last)) {
                        last = state;
                        switch (state) {
                            case "dialing" -> System.out.println("calling " + call.path("peer").asText() + "...");
                            case "ringing" -> System.out.println(call.path("direction").asText().equals("incoming")
                                    ? "incoming call from " + call.path("peer").asText() : "ringing " + call.path("peer").asText());
                            case "answering" -> System.out.println("answering...");
                            case "connected" -> System.out.println("connected to " + call.path("peer").asText() + " ("
                                    + call.path("peerDevice").asText().substring(0, 8) + ")");
                            default -> { }
                        }
                    }
                    if (state.equals("ended")) break;
                    Thread.sleep(100);
                    call = dc.get("/api/v1/calls/" + id);
                }
            } finally {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException ignored) {
                    // shutting down
                }
            }
            boolean connected = call.path("connectedAt").asLong() > 0;
            String reason = call.path("reason").asText();
            if (!connected) throw new UserError("call " + (reason.equals("offline") ? "failed: " + call.path("peer").asText()
                    + " has no online device" : "ended: " + reason));
            System.out.printf("call ended (%s, %s): %.1f s, path %s, rtt %d ms, jitter %.1f ms, loss %.1f %%, concealed %d, %d kbps out%n",
                    reason, call.path("endedBy").asText(), call.path("durationMillis").asLong() / 1000.0, call.path("path").asText(),
                    call.path("rttMillis").asLong(), call.path("jitterMillis").asDouble(), call.path("lossPercent").asDouble(),
                    call.path("concealed").asLong(), call.path("bitrateOut").asLong() / 1000);
            return 0;
        }

        static Map<String, Object> media(Path play, Path record, int duration) {
            Map<String, Object> m = new java.util.LinkedHashMap<>();
            if (play != null) {
                if (!java.nio.file.Files.isRegularFile(play)) throw new UserError("no WAV file " + play);
                m.put("play", play.toAbsolutePath().toString());
            }
            if (record != null) m.put("record", record.toAbsolutePath().toString());
            if (duration < 0) throw new UserError("--duration must be at least 0 seconds");
            if (duration > 0) m.put("durationSeconds", duration);
            return m;
        }

        @Command(name = "call", mixinStandardHelpOptions = true,
                description = "Call a user: every online device of theirs rings; the first to answer gets the call. Follows it until it ends (Ctrl-C hangs up).")
        static final class Call implements Callable<Integer> {
            @CommandLine.Spec CommandLine.Model.CommandSpec spec;
            @Option(names = "--to", required = true, paramLabel = "USER") String to;
            @Option(names = "--play", paramLabel = "WAV", description = "send this WAV file (any PCM WAV; default: the microphone if there is one, else silence)") Path play;
            @Option(names = "--record", paramLabel = "WAV", description = "write what you hear to this WAV file (48 kHz mono; default: the speaker if there is one)") Path record;
            @Option(names = "--duration", paramLabel = "S", defaultValue = "0", description = "hang up S seconds after connecting (default: stay until either side hangs up)") int duration;
            @Option(names = "--low-bandwidth", description = "Opus at 10 kbps, narrower band, for thin links") boolean low;

            @Override
            public Integer call() throws Exception {
                DaemonClient dc = DaemonClient.connect(home(spec));
                Map<String, Object> body = media(play, record, duration);
                body.put("to", to);
                body.put("lowBandwidth", low);
                return follow(dc, dc.post("/api/v1/calls", body));
            }
        }

        @Command(name = "answer", mixinStandardHelpOptions = true,
                description = "Answer the incoming call that is ringing (with --auto: wait for the next one and answer it when it rings), then follow it until it ends.")
        static final class Answer implements Callable<Integer> {
            @CommandLine.Spec CommandLine.Model.CommandSpec spec;
            @Option(names = "--auto", description = "wait for an incoming call and answer it as soon as it rings") boolean auto;
            @Option(names = "--wait", paramLabel = "S", defaultValue = "300", description = "with --auto: give up after S seconds (default ${DEFAULT-VALUE})") int wait;
            @Option(names = "--play", paramLabel = "WAV", description = "send this WAV file (default: the microphone if there is one, else silence)") Path play;
            @Option(names = "--record", paramLabel = "WAV", description = "write what you hear to this WAV file (default: the speaker if there is one)") Path record;
            @Option(names = "--duration", paramLabel = "S", defaultValue = "0", description = "hang up S seconds after connecting") int duration;

            @Override
            public Integer call() throws Exception {
                DaemonClient dc = DaemonClient.connect(home(spec));
                Map<String, Object> body = media(play, record, duration);
                long until = System.currentTimeMillis() + wait * 1000L;
                while (true) {
                    try {
                        return follow(dc, dc.post("/api/v1/calls/ringing/answer", body));
                    } catch (DaemonClient.DaemonException e) {
                        if (!auto || !e.getMessage().contains("no incoming call is ringing")) throw e;
                        if (System.currentTimeMillis() > until) throw new UserError("no call came within " + wait + " s");
                        Thread.sleep(100);
                    }
                }
            }
        }

        @Command(name = "reject", mixinStandardHelpOptions = true, description = "Decline the incoming call that is ringing.")
        static final class Reject implements Callable<Integer> {
            @CommandLine.Spec CommandLine.Model.CommandSpec spec;

            @Override
            public Integer call() throws Exception {
                DaemonClient dc = DaemonClient.connect(home(spec));
                String id = null;
                for (JsonNode c : dc.get("/api/v1/calls")) {
                    if (c.path("state").asText().equals("ringing") && c.path("direction").asText().equals("incoming")) id = c.path("id").asText();
                }
                if (id == null) throw new UserError("no incoming call is ringing");
                dc.post("/api/v1/calls/" + id + "/reject", Map.of());
                System.out.println("declined");
                return 0;
            }
        }

        @Command(name = "hangup", mixinStandardHelpOptions = true, description = "End the current call (or stop ringing an outgoing one, or decline a ringing one).")
        static final class Hangup implements Callable<Integer> {
            @CommandLine.Spec CommandLine.Model.CommandSpec spec;

            @Override
            public Integer call() throws Exception {
                JsonNode c = DaemonClient.connect(home(spec)).post("/api/v1/calls/current/hangup", Map.of());
                System.out.println("call with " + c.path("peer").asText() + " ended (" + c.path("reason").asText() + ")");
                return 0;
            }
        }

        @Command(name = "calls", mixinStandardHelpOptions = true,
                description = "The calls of this device: peer, outcome, and per connected call path, RTT, jitter, loss, concealed frames, bitrate, duration.")
        static final class CallsCmd implements Callable<Integer> {
            @CommandLine.Spec CommandLine.Model.CommandSpec spec;
            @Option(names = "--json") boolean json;

            @Override
            public Integer call() throws Exception {
                JsonNode l = DaemonClient.connect(home(spec)).get("/api/v1/calls");
                if (json) {
                    System.out.println(JSON.writeValueAsString(l));
                    return 0;
                }
                if (l.isEmpty()) System.out.println("no calls yet");
                for (JsonNode c : l) {
                    String when = Instant.ofEpochMilli(c.path("startedAt").asLong()).toString().replace('T', ' ').substring(0, 19);
                    System.out.printf("%s  %-8s %-12s %-10s %-18s", when, c.path("direction").asText(), c.path("peer").asText(),
                            c.path("state").asText(), c.path("reason").isNull() ? "" : c.path("reason").asText());
                    if (c.path("connectedAt").asLong() > 0) {
                        System.out.printf(" %.1f s, %s, rtt %d ms, jitter %.1f ms, loss %.1f %%, concealed %d, %d/%d kbps out/in",
                                c.path("durationMillis").asLong() / 1000.0, c.path("path").asText(), c.path("rttMillis").asLong(),
                                c.path("jitterMillis").asDouble(), c.path("lossPercent").asDouble(), c.path("concealed").asLong(),
                                c.path("bitrateOut").asLong() / 1000, c.path("bitrateIn").asLong() / 1000);
                    }
                    System.out.println();
                }
                return 0;
            }
        }

        @Command(name = "contacts", mixinStandardHelpOptions = true,
                description = "List contacts with presence (added contacts and everyone you share a conversation with), or add/remove one.")
        static final class Contacts implements Callable<Integer> {
            @CommandLine.Spec CommandLine.Model.CommandSpec spec;
            @Option(names = "--add", paramLabel = "USER", description = "add a contact") String add;
            @Option(names = "--remove", paramLabel = "USER", description = "remove an added contact") String remove;
            @Option(names = "--json") boolean json;

            @Override
            public Integer call() throws Exception {
                DaemonClient dc = DaemonClient.connect(home(spec));
                if (add != null) dc.post("/api/v1/contacts", Map.of("user", add));
                if (remove != null) {
                    if (!UserNames.isValid(remove)) throw new UserError("'" + remove + "' is not a valid user name");
                    dc.delete("/api/v1/contacts/" + remove);
                }
                JsonNode l = dc.get("/api/v1/contacts");
                if (json) {
                    System.out.println(JSON.writeValueAsString(l));
                    return 0;
                }
                if (l.isEmpty()) System.out.println("no contacts yet: add one with --add USER");
                for (JsonNode c : l) {
                    System.out.printf("%-24s %-8s %d device(s)%s%n", c.path("user").asText(), c.path("presence").asText(),
                            c.path("devices").asInt(), c.path("added").asBoolean() ? "" : "  (from conversations)");
                }
                return 0;
            }
        }

        @Command(name = "stop", mixinStandardHelpOptions = true, description = "Stop the running daemon.")
        static final class Stop implements Callable<Integer> {
            @CommandLine.Spec CommandLine.Model.CommandSpec spec;

            @Override
            public Integer call() throws Exception {
                DaemonClient.connect(home(spec)).post("/api/v1/shutdown", Map.of());
                System.out.println("daemon stopping");
                return 0;
            }
        }
    }

    // ------------------------------------------------------------------ bots

    @Command(name = "bot", mixinStandardHelpOptions = true,
            description = {"Run an example bot on a client daemon's local API (the bot is that daemon's user).",
                    "Enrol an account for it like any user ('client init', 'client login', 'client run'), then start the bot."},
            subcommands = {BotCmd.Echo.class})
    static final class BotCmd {
        @Command(name = "echo", mixinStandardHelpOptions = true,
                description = "Answer every message (1:1 or group) with PREFIX + its text; catches up on unread ones after a restart.")
        static final class Echo implements Callable<Integer> {
            @Option(names = "--home", paramLabel = "DIR", required = true, description = "the bot's device folder (its daemon must be running)") Path home;
            @Option(names = "--prefix", paramLabel = "TEXT", defaultValue = "echo: ", description = "put before the echoed text (default: '${DEFAULT-VALUE}')") String prefix;

            @Override
            public Integer call() throws Exception {
                org.parley.bots.EchoBot bot;
                try {
                    bot = org.parley.bots.EchoBot.start(home, prefix);
                } catch (org.parley.bots.BotClient.BotException e) {
                    throw new UserError(e.getMessage());
                }
                System.out.println("echo bot for " + bot.user() + " running on the daemon in " + home + " (Ctrl-C stops it)");
                System.out.flush();
                Cli.awaitShutdown(bot::close);
                return 0;
            }
        }
    }

    // ------------------------------------------------------------------ archive

    @Command(name = "archive", mixinStandardHelpOptions = true,
            description = "Enrol and run an archive node: an always-online replica of every conversation its account is a member of.",
            subcommands = {ArchiveCmd.Login.class, ArchiveCmd.Run.class},
            footer = {"", "DIR is a client home: 'parley client --home DIR status', 'chat list' and",
                    "'chat history' work against a running archive node."})
    static final class ArchiveCmd {
        static String loginHint(Path data) {
            return "parley archive login --data " + data + " --network FILE --user NAME";
        }

        /** The role in the certificate stored in {@code data}, read whether or not the certificate has expired. */
        static Role storedRole(DeviceCredentials c) {
            try {
                java.security.cert.X509Certificate x = c.certificate();
                return org.parley.identity.CertificateVerifier.of(c.networkFile(), java.time.Clock.systemUTC())
                        .verifyAt(x.getEncoded(), x.getNotBefore().toInstant()).role();
            } catch (org.parley.identity.CertificateRejectedException | java.security.cert.CertificateEncodingException e) {
                throw new UserError("the device certificate in " + c.dir() + " is unusable (" + e.getMessage()
                        + "); log in again: " + loginHint(c.dir()));
            }
        }

        static String wrongRole(String user, String role) {
            return "account " + user + " has role " + role
                    + "; an archive node needs an account of role archive (parley account add --role archive)";
        }

        @Command(name = "login", mixinStandardHelpOptions = true,
                description = "Enrol DIR as an archive node with an account of role 'archive' (password on standard input).")
        static final class Login implements Callable<Integer> {
            @Option(names = "--data", required = true, paramLabel = "DIR", description = "the archive node's folder (created if needed)") Path data;
            @Option(names = "--network", required = true, paramLabel = "FILE", description = "the network file from the login server") Path network;
            @Option(names = "--user", required = true, paramLabel = "NAME", description = "an account of role archive") String user;

            @Override
            public Integer call() throws Exception {
                UserNames.check(user);
                NetworkFile nf = NetworkFile.load(network); // validate before creating anything
                Files.createDirectories(data);
                DeviceCredentials.initNetwork(data, network);
                char[] pw = Cli.readPassword("password for " + user + ": ");
                DeviceCredentials c;
                try {
                    c = DeviceCredentials.enroll(data, user, new String(pw), new LoginClient(nf));
                } finally {
                    Arrays.fill(pw, '\0');
                }
                String role = roleOf(c);
                if (!Role.ARCHIVE.wireName().equals(role)) {
                    // leave DIR unenrolled, so that 'archive run' refuses it
                    Files.deleteIfExists(data.resolve(DeviceCredentials.CREDENTIAL));
                    Files.deleteIfExists(data.resolve(DeviceCredentials.CERT));
                    throw new UserError(wrongRole(user, role));
                }
                System.out.println("archive node '" + c.user() + "' enrolled in " + data + " (device " + c.deviceId()
                        + "); next: parley archive run --data " + data);
                return 0;
            }
        }

        @Command(name = "run", mixinStandardHelpOptions = true, description = "Run the archive node until stopped.")
        static final class Run implements Callable<Integer> {
            @Option(names = "--data", required = true, paramLabel = "DIR", description = "the folder enrolled with 'parley archive login'") Path data;
            @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "0.0.0.0:0", description = "UDP address for QUIC (default: ${DEFAULT-VALUE})") String listen;
            @Option(names = "--api-port", paramLabel = "PORT", defaultValue = "0", description = "local API port on 127.0.0.1 (default: any free port)") int apiPort;

            @Override
            public Integer call() throws Exception {
                if (!DeviceCredentials.enrolled(data)) {
                    throw new UserError("no archive node credentials in " + data + ": run '" + loginHint(data) + "' first");
                }
                DeviceCredentials c = DeviceCredentials.load(data);
                Role role = storedRole(c);
                if (role != Role.ARCHIVE) {
                    throw new UserError(data + " is not an archive node: " + wrongRole(c.user(), role.wireName()));
                }
                ClientConfig cfg = ClientConfig.defaults().withListen(Cli.hostPort(listen, "--listen"));
                Cli.logLevel(Level.INFO);
                runDaemon(data, cfg, apiPort, d -> "archive node '" + d.user() + "'");
                return 0;
            }
        }
    }
}
