package org.parley.app;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.parley.client.DaemonClient;
import org.parley.identity.HostPort;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code parley demo}: a whole network on loopback with alice, bob and carol. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Run a login server, a supernode and client daemons for alice, bob and carol on 127.0.0.1,",
                "with embedded stores in a temporary folder, until Ctrl-C; then clean up.",
                "With --check: exchange messages (one while the recipient is offline), print a summary and",
                "exit 0 only if every message arrived exactly once and in the same order on both sides."})
final class Demo implements Callable<Integer> {
    static final List<String> USERS = List.of("alice", "bob", "carol");

    @Option(names = "--check", description = "run the scripted exchange and exit") boolean check;
    @Option(names = "--dir", paramLabel = "DIR", description = "use this folder instead of a temporary one (kept afterwards)") Path dirOption;
    @Option(names = "--relay-only", description = "no direct peer sessions: every peer session goes through the supernode's relay") boolean relayOnly;

    @Override
    public Integer call() throws Exception {
        Path dir = dirOption != null ? dirOption : Files.createTempDirectory("parley-demo-");
        if (dirOption != null) {
            Files.createDirectories(dir);
            try (var s = Files.list(dir)) {
                if (s.findAny().isPresent()) throw new UserError("demo folder " + dir + " is not empty");
            }
        }
        boolean temp = dirOption == null;
        DemoNetwork net;
        try {
            net = DemoNetwork.start(dir, USERS, !relayOnly, java.time.Duration.ofHours(24), 10_000, true, 2);
        } catch (Exception e) {
            if (temp) DemoNetwork.deleteTree(dir);
            throw e;
        }
        try {
            if (!net.awaitAttached(Duration.ofSeconds(20))) throw new UserError("demo clients did not attach to the supernode within 20 s");
            if (check) return check(net);
            // an echo bot, a user of its own, shows a bot on the local API: write to "echo" from any UI
            net.addDevice("echo", "echo", org.parley.identity.Role.USER);
            net.startClient("echo");
            org.parley.bots.EchoBot bot = org.parley.bots.EchoBot.start(net.home("echo"), "echo: ");
            // everyone knows everyone: the UIs' contact lists start with the other demo users and the bot
            for (String u : net.users()) for (String v : net.users()) if (!u.equals(v)) net.client(u).addContact(v);
            printGuide(net);
            Cli.awaitShutdown(() -> {
                System.out.println("\nstopping the demo network...");
                bot.close();
                net.close();
                if (temp) DemoNetwork.deleteTree(dir);
            });
            return 0;
        } finally {
            if (check) {
                net.close();
                if (temp) DemoNetwork.deleteTree(dir);
            }
        }
    }

    private static void printGuide(DemoNetwork net) {
        String self = System.getenv().getOrDefault("PARLEY_SELF", "parley");
        System.out.println("Parley demo network is running (Ctrl-C stops it and deletes " + net.dir() + ")");
        System.out.println();
        System.out.println("  login server  https://" + net.loginServer().address() + "   network file " + net.loginData().networkFilePath());
        int i = 1;
        for (var sn : net.supernodes()) {
            System.out.println("  supernode     sn" + i++ + " on UDP " + HostPort.of(sn.address()) + " (directory overlay, relay on UDP "
                    + (sn.relayAddress() == null ? "-" : HostPort.of(sn.relayAddress())) + ")");
        }
        for (String u : net.users()) {
            System.out.println("  client " + pad(u) + " QUIC UDP " + HostPort.of(net.client(u).address())
                    + ", attached to " + net.client(u).status().supernodeAddress()
                    + ", local API http://127.0.0.1:" + net.api(u).port() + ", home " + net.home(u)
                    + ", password " + net.password(u));
        }
        System.out.println();
        System.out.println("Web UI (open in a browser on this machine; each address carries that user's access token):");
        for (String u : net.users()) System.out.println("  " + pad(u) + " " + net.api(u).uiUrl());
        System.out.println();
        System.out.println("Act as a user from another terminal, e.g.:");
        System.out.println("  " + self + " client --home " + net.home("alice") + " send --to bob \"hello bob\"");
        System.out.println("  " + self + " client --home " + net.home("bob") + " history --with alice");
        System.out.println("  " + self + " client --home " + net.home("carol") + " status");
        System.out.println("The user \"echo\" is a bot (bots/ in the repository, on the same local API as the UI): it answers every message.");
        System.out.flush();
    }

    private static String pad(String s) {
        return String.format("%-6s", s);
    }

    private record Sent(String from, String to, String text, String id) {}

    private static int check(DemoNetwork net) throws Exception {
        List<Sent> sent = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        long t0 = System.nanoTime();
        send(net, sent, "alice", "bob", "hello bob, it's alice");
        send(net, sent, "bob", "alice", "hi alice!");
        send(net, sent, "bob", "carol", "carol, lunch at noon?");
        send(net, sent, "carol", "bob", "sure, see you then");
        send(net, sent, "carol", "alice", "alice, did you get the files?");
        send(net, sent, "alice", "carol", "yes, thanks");
        for (int i = 1; i <= 3; i++) {
            send(net, sent, "alice", "bob", "burst " + i + " from alice");
            send(net, sent, "bob", "alice", "burst " + i + " from bob");
        }
        awaitDelivered(net, sent, Duration.ofSeconds(20), failures);
        // carol goes offline; alice writes to her; carol comes back
        net.stopClient("carol");
        Sent offline = send(net, sent, "alice", "carol", "carol, this was sent while you were offline");
        Thread.sleep(500);
        String stateWhileOffline = state(net, "alice", "carol", offline.id());
        if (!"queued".equals(stateWhileOffline)) failures.add("message to offline carol was '" + stateWhileOffline + "', expected queued");
        long back = System.nanoTime();
        net.startClient("carol");
        awaitDelivered(net, sent, Duration.ofSeconds(30), failures);
        double offlineDelay = (System.nanoTime() - back) / 1e9;
        // verify exactly once and same order on both sides
        Map<String, List<String>> conversations = new LinkedHashMap<>();
        int checked = 0;
        for (String a : Demo.USERS) {
            for (String b : Demo.USERS) {
                if (a.compareTo(b) >= 0) continue;
                List<String> ha = ids(net, a, b);
                List<String> hb = ids(net, b, a);
                List<String> expected = sent.stream().filter(s -> (s.from.equals(a) && s.to.equals(b)) || (s.from.equals(b) && s.to.equals(a)))
                        .map(Sent::id).toList();
                for (String id : expected) {
                    long na = ha.stream().filter(id::equals).count();
                    long nb = hb.stream().filter(id::equals).count();
                    if (na != 1 || nb != 1) failures.add("message " + id + " appears " + na + "x at " + a + " and " + nb + "x at " + b);
                    checked++;
                }
                if (!ha.equals(hb)) failures.add("conversation " + a + "-" + b + " is ordered differently on the two sides");
                conversations.put(a + "-" + b, ha);
            }
        }
        Map<String, Integer> paths = new LinkedHashMap<>();
        for (Sent s : sent) {
            for (JsonNode m : DaemonClient.connect(net.home(s.from)).get("/api/v1/messages?with=" + s.to + "&limit=1000")) {
                if (m.path("id").asText().equals(s.id)) paths.merge(m.path("path").asText("none"), 1, Integer::sum);
            }
        }
        String group = groupCheck(net, failures);
        double secs = (System.nanoTime() - t0) / 1e9;
        System.out.println("  " + group);
        System.out.printf("demo check: %d messages in %d conversations, %d checked on both sides in %.1f s%n",
                sent.size(), conversations.size(), checked, secs);
        System.out.printf("  offline delivery: carol got the queued message %.2f s after coming back%n", offlineDelay);
        System.out.println("  delivery paths (sender's view): " + paths);
        if (failures.isEmpty()) {
            System.out.println("  result: OK, every message arrived exactly once, in the same order on both sides");
            return 0;
        }
        failures.forEach(f -> System.out.println("  FAIL: " + f));
        return 1;
    }

    /**
     * A group of the three: carol goes offline, the others write while she is away, she comes back; all three must
     * show the same history, every message exactly once.
     */
    private static String groupCheck(DemoNetwork net, List<String> failures) throws Exception {
        JsonNode g = DaemonClient.connect(net.home("alice")).post("/api/v1/chats",
                Map.of("name", "demo group", "members", List.of("bob", "carol")));
        String id = g.path("id").asText();
        List<String> texts = new ArrayList<>();
        groupSend(net, "alice", id, "welcome to the group", texts);
        if (!awaitGroup(net, id, texts, Demo.USERS, Duration.ofSeconds(20))) failures.add("the group did not reach every member");
        net.stopClient("carol");
        groupSend(net, "bob", id, "carol is on a plane", texts);
        groupSend(net, "alice", id, "she will read this on landing", texts);
        long back = System.nanoTime();
        net.startClient("carol");
        boolean ok = awaitGroup(net, id, texts, Demo.USERS, Duration.ofSeconds(30));
        if (!ok) failures.add("the group histories differ after carol came back");
        return String.format(java.util.Locale.ROOT, "group chat: %d messages, carol caught up %.2f s after coming back, histories %s",
                texts.size(), (System.nanoTime() - back) / 1e9, ok ? "identical on all three" : "DIFFERENT");
    }

    private static void groupSend(DemoNetwork net, String from, String group, String text, List<String> texts) throws Exception {
        DaemonClient.connect(net.home(from)).post("/api/v1/chats/" + group + "/events", Map.of("kind", "message", "text", text));
        texts.add(text);
    }

    /** True once every user shows the same event ids and each text exactly once. */
    private static boolean awaitGroup(DemoNetwork net, String group, List<String> texts, List<String> users, Duration timeout)
            throws Exception {
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < end) {
            List<String> first = null;
            boolean same = true;
            for (String u : users) {
                List<String> ids = new ArrayList<>();
                List<String> got = new ArrayList<>();
                try {
                    for (JsonNode l : DaemonClient.connect(net.home(u)).get("/api/v1/chats/" + group + "/events?limit=1000")) {
                        ids.add(l.path("id").asText());
                        if (l.path("kind").asText().equals("message")) got.add(l.path("text").asText());
                    }
                } catch (Exception e) {
                    same = false; // not there yet (unknown conversation answers 400)
                    break;
                }
                if (!got.containsAll(texts) || got.size() != texts.size()) same = false;
                if (first == null) first = ids;
                else if (!first.equals(ids)) same = false;
            }
            if (same) return true;
            Thread.sleep(100);
        }
        return false;
    }

    private static Sent send(DemoNetwork net, List<Sent> sent, String from, String to, String text) throws Exception {
        JsonNode m = DaemonClient.connect(net.home(from)).post("/api/v1/messages", Map.of("to", to, "text", text));
        Sent s = new Sent(from, to, text, m.path("id").asText());
        sent.add(s);
        return s;
    }

    private static String state(DemoNetwork net, String from, String to, String id) throws Exception {
        for (JsonNode m : DaemonClient.connect(net.home(from)).get("/api/v1/messages?with=" + to + "&limit=1000")) {
            if (m.path("id").asText().equals(id)) return m.path("state").asText();
        }
        return "missing";
    }

    private static List<String> ids(DemoNetwork net, String me, String with) throws Exception {
        List<String> out = new ArrayList<>();
        for (JsonNode m : DaemonClient.connect(net.home(me)).get("/api/v1/messages?with=" + with + "&limit=1000")) {
            out.add(m.path("id").asText());
        }
        return out;
    }

    private static void awaitDelivered(DemoNetwork net, List<Sent> sent, Duration timeout, List<String> failures) throws Exception {
        long end = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<Sent> pending = new ArrayList<>();
            for (Sent s : sent) if (!"delivered".equals(state(net, s.from, s.to, s.id))) pending.add(s);
            if (pending.isEmpty()) return;
            if (System.nanoTime() > end) {
                for (Sent s : pending) failures.add("message " + s.id + " " + s.from + "->" + s.to + " not delivered within " + timeout.toSeconds() + " s");
                return;
            }
            Thread.sleep(50);
        }
    }
}
