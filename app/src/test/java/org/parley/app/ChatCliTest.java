package org.parley.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.parley.app.CliTestSupport.assertOneLineError;
import static org.parley.app.CliTestSupport.run;

import ch.qos.logback.classic.Level;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.parley.app.CliTestSupport.Result;
import org.parley.identity.DeviceCredentials;
import org.parley.identity.Role;

/**
 * {@code parley client --home DIR chat ...} and {@code parley archive ...}, run in-process against one demo
 * network (alice, bob, carol) shared by the whole class: the happy path of a group, and wrong input giving one
 * line on stderr starting with "parley: " and a non-zero exit status (2 for usage errors).
 */
@Timeout(120)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ChatCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern CREATED = Pattern.compile("created group ([0-9a-f]{32}) '([^']*)': members (.*)");
    private static final Pattern EVENT = Pattern.compile("event ([0-9a-f]{64}) in ([0-9a-f]{32}): .*");
    /** Well-formed ids that name nothing. */
    private static final String UNKNOWN_CHAT = "0123456789abcdef";
    private static final String UNKNOWN_EVENT = "fedcba9876543210";

    private DemoNetwork net;
    private Path alice;
    private Level savedLevel;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        CliTestSupport.useProductionLogging();
        net = DemoNetwork.start(dir, List.of("alice", "bob", "carol"), true);
        alice = net.home("alice");
        assertThat(net.awaitAttached(Duration.ofSeconds(30))).as("clients attached").isTrue();
    }

    @AfterAll
    void stop() {
        if (net != null) net.close();
        CliTestSupport.restoreTestLogging();
    }

    @BeforeEach
    void saveLogLevel() {
        savedLevel = CliTestSupport.rootLevel();
    }

    @AfterEach
    void restoreLogLevel() {
        CliTestSupport.rootLevel(savedLevel);
    }

    // ------------------------------------------------------------------ helpers

    private static String[] concat(String[] a, String... b) {
        String[] all = new String[a.length + b.length];
        System.arraycopy(a, 0, all, 0, a.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    private Result chat(String... args) {
        return run("", concat(new String[] {"client", "--home", alice.toString(), "chat"}, args));
    }

    private static Result ok(Result r) {
        assertThat(r.code()).as("%s", r).isZero();
        assertThat(r.err()).as("stderr of %s", r).isEmpty();
        return r;
    }

    private String createGroup(String name, String members) {
        Result r = ok(chat("create", "--name", name, "--members", members));
        Matcher m = CREATED.matcher(r.out().strip());
        assertThat(m.matches()).as("create output %s", r.out()).isTrue();
        assertThat(m.group(2)).isEqualTo(name);
        return m.group(1);
    }

    private String send(String conv, String... words) {
        Result r = ok(chat(concat(new String[] {"send", "--chat", conv}, words)));
        Matcher m = EVENT.matcher(r.out().strip());
        assertThat(m.matches()).as("send output %s", r.out()).isTrue();
        assertThat(m.group(2)).isEqualTo(conv);
        assertThat(r.out()).contains("stored (delivery continues in the daemon)");
        return m.group(1);
    }

    private JsonNode listJson() throws IOException {
        JsonNode l = JSON.readTree(ok(chat("list", "--json")).out());
        assertThat(l.isArray()).as("list --json %s", l).isTrue();
        return l;
    }

    private static JsonNode find(JsonNode list, String id) {
        for (JsonNode c : list) if (c.path("id").asText().equals(id)) return c;
        throw new AssertionError("conversation " + id + " not in " + list);
    }

    private static List<String> texts(JsonNode arr) {
        List<String> l = new ArrayList<>();
        for (JsonNode x : arr) l.add(x.asText());
        return l;
    }

    /** Every chat subcommand that names a conversation, with valid arguments apart from --chat. */
    private static List<String[]> withChat(String id) {
        String[] chat = id == null ? new String[0] : new String[] {"--chat", id};
        return List.of(concat(new String[] {"send"}, concat(chat, "hello")),
                concat(new String[] {"history"}, chat),
                concat(new String[] {"add"}, concat(chat, "--user", "bob")),
                concat(new String[] {"remove"}, concat(chat, "--user", "bob")),
                concat(new String[] {"leave"}, chat),
                concat(new String[] {"rename"}, concat(chat, "--name", "x")),
                concat(new String[] {"read"}, chat),
                concat(new String[] {"edit"}, concat(chat, "--event", UNKNOWN_EVENT, "new", "text")),
                concat(new String[] {"delete"}, concat(chat, "--event", UNKNOWN_EVENT)),
                concat(new String[] {"react"}, concat(chat, "--event", UNKNOWN_EVENT, "👍")));
    }

    /** Runs a command that blocks forever on success: it must fail within 60 s. */
    private static Result runBlocking(String stdin, String... args) {
        try {
            return CliTestSupport.run(Duration.ofSeconds(60), stdin, args);
        } catch (TimeoutException e) {
            throw new AssertionError("expected the command to fail, but it kept running: " + e.getMessage());
        }
    }

    // ------------------------------------------------------------------ happy path

    @Test
    void helpOfClientCommandsNeedsNoHomeButTheCommandsDo() {
        for (String[] args : List.of(new String[] {"client", "chat", "list", "--help"}, new String[] {"client", "send", "--help"},
                new String[] {"client", "chat", "create", "--help"})) {
            Result r = run("", args);
            assertThat(r.code()).as(String.join(" ", args)).isZero();
            assertThat(r.out()).startsWith("Usage: parley client");
        }
        Result r = run("", "client", "chat", "list");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err().strip().lines().toList()).singleElement().asString().startsWith("parley: ").contains("--home");
    }

    @Test
    void groupLifecycle() throws IOException {
        String id = createGroup("Team", "bob, carol");

        String msg = send(id, "hello", "team");
        assertThat(msg).hasSize(64);

        JsonNode c = find(listJson(), id);
        assertThat(c.path("kind").asText()).isEqualTo("group");
        assertThat(c.path("name").asText()).isEqualTo("Team");
        assertThat(texts(c.path("members"))).contains("alice", "bob", "carol");
        assertThat(c.path("member").asBoolean()).isTrue();

        // the short prefix from the table works too
        Result table = ok(chat("list"));
        assertThat(table.out()).contains(id.substring(0, 12)).contains("Team").contains("group");
        JsonNode h = JSON.readTree(ok(chat("history", "--chat", id.substring(0, 12), "--json")).out());
        assertThat(h.isArray()).isTrue();
        JsonNode line = null;
        for (JsonNode x : h) if (x.path("id").asText().equals(msg)) line = x;
        assertThat(line).as("message %s in history %s", msg, h).isNotNull();
        assertThat(line.path("kind").asText()).isEqualTo("message");
        assertThat(line.path("author").asText()).isEqualTo("alice");
        assertThat(line.path("text").asText()).isEqualTo("hello team");

        Result text = ok(chat("history", "--chat", id));
        assertThat(text.out()).contains("* alice created group 'Team' with bob, carol")
                .contains(msg.substring(0, 8) + "  alice: hello team");
        assertThat(text.out().lines().filter(l -> l.contains("hello team")).findFirst().orElseThrow())
                .matches(".*(\\[queued]|\\[held by: .+])$");

        Result read = ok(chat("read", "--chat", id));
        assertThat(read.out()).contains(id).contains("marked read");
        assertThat(find(listJson(), id).path("unread").asInt()).isZero();

        ok(chat("rename", "--chat", id, "--name", "Team Two"));
        assertThat(find(listJson(), id).path("name").asText()).isEqualTo("Team Two");
        assertThat(ok(chat("list")).out()).contains("Team Two");
        assertThat(ok(chat("history", "--chat", id)).out()).contains("* alice renamed the group to 'Team Two'");
    }

    @Test
    void createJsonEditReactDelete() throws IOException {
        JsonNode c = JSON.readTree(ok(chat("create", "--name", "Edits", "--members", "bob", "--json")).out());
        String id = c.path("id").asText();
        assertThat(id).matches("[0-9a-f]{32}");
        assertThat(c.path("name").asText()).isEqualTo("Edits");

        String first = send(id, "frist");
        String second = send(id, "oops");
        ok(chat("edit", "--chat", id, "--event", first.substring(0, 8), "first"));
        ok(chat("react", "--chat", id, "--event", first, "👍"));
        ok(chat("delete", "--chat", id, "--event", second));

        String out = ok(chat("history", "--chat", id)).out();
        assertThat(out).contains("alice: first (edited) [👍 alice]").doesNotContain("frist").doesNotContain("oops");
        assertThat(out.lines().filter(l -> l.contains(second.substring(0, 8))).findFirst().orElseThrow())
                .contains("alice: (deleted)");

        JsonNode h = JSON.readTree(ok(chat("history", "--chat", id, "--json", "--limit", "2")).out());
        assertThat(h.size()).isLessThanOrEqualTo(2);
    }

    @Test
    void membershipChangesAndLeaving() throws IOException {
        String id = createGroup("Members", "bob");
        assertThat(ok(chat("add", "--chat", id, "--user", "carol")).out()).contains("added carol");
        assertThat(texts(find(listJson(), id).path("members"))).contains("carol");
        assertThat(ok(chat("remove", "--chat", id, "--user", "carol")).out()).contains("removed carol");
        assertThat(texts(find(listJson(), id).path("members"))).doesNotContain("carol");

        String out = ok(chat("history", "--chat", id)).out();
        assertThat(out).contains("* alice added carol").contains("* alice removed carol");

        ok(chat("leave", "--chat", id));
        assertThat(find(listJson(), id).path("member").asBoolean()).isFalse();
        // a former member can no longer write
        assertOneLineError(chat("send", "--chat", id, "still", "here"), 1);
    }

    // ------------------------------------------------------------------ bad input

    @Test
    void unknownConversationForEverySubcommand() {
        for (String[] args : withChat(UNKNOWN_CHAT)) {
            assertOneLineError(chat(args), 1, "no conversation", UNKNOWN_CHAT);
        }
    }

    @Test
    void tooShortOrMalformedConversationId() {
        for (String bad : List.of("abc", "12345", "not-hex!", "0123456789abcdef0123456789abcdef00")) {
            for (String[] args : withChat(bad)) {
                assertOneLineError(chat(args), 1, "--chat", "not a conversation id", "6 to 32 hex digits");
            }
        }
    }

    @Test
    void missingChatOption() {
        for (String[] args : withChat(null)) {
            assertOneLineError(chat(args), 2, "--chat");
        }
    }

    @Test
    void readOnUnknownChat() {
        String line = assertOneLineError(chat("read", "--chat", "abcdef"), 1, "no conversation abcdef");
        assertThat(line).doesNotContain("marked read");
    }

    @Test
    void emptyMemberList() throws IOException {
        int before = listJson().size();
        for (String members : List.of("", " ", ",", " , ,")) {
            assertOneLineError(chat("create", "--name", "Empty", "--members", members), 1, "--members", "at least one");
        }
        assertOneLineError(chat("create", "--name", "Empty"), 2, "--members");
        assertOneLineError(chat("create", "--members", "bob"), 2, "--name");
        assertOneLineError(chat("create", "--name", "  ", "--members", "bob"), 1, "name");
        assertThat(listJson().size()).as("no group was created").isEqualTo(before);
    }

    @Test
    void invalidUserNameInMembers() throws IOException {
        int before = listJson().size();
        assertOneLineError(chat("create", "--name", "Bad", "--members", "bob,Bad!"), 1, "Bad!", "not a valid user name");
        assertOneLineError(chat("create", "--name", "Bad", "--members", "bob, carol ,x y"), 1, "x y", "not a valid user name");
        assertThat(listJson().size()).as("no group was created").isEqualTo(before);
    }

    @Test
    void badUsersEventsAndTexts() {
        String id = createGroup("Bad input", "bob");
        assertOneLineError(chat("add", "--chat", id, "--user", "Bad!"), 1, "Bad!", "not a valid user name");
        assertOneLineError(chat("remove", "--chat", id, "--user", ""), 1, "not a valid user name");
        assertOneLineError(chat("edit", "--chat", id, "--event", "xyz", "t"), 1, "--event", "not an event id");
        assertOneLineError(chat("react", "--chat", id, "--event", "1234567", "👍"), 1, "not an event id");
        assertOneLineError(chat("delete", "--chat", id, "--event", UNKNOWN_EVENT), 1, "no event", UNKNOWN_EVENT);
        assertOneLineError(chat("edit", "--chat", id, "--event", UNKNOWN_EVENT), 2, "TEXT");
        assertOneLineError(chat("send", "--chat", id, "a".repeat(16385)), 1, "16385", "16384");
        assertOneLineError(chat("send", "--chat", id, " "), 1, "empty");
        assertOneLineError(chat("send", "--chat", id), 2, "TEXT");
        assertOneLineError(chat("rename", "--chat", id, "--name", ""), 1, "name");
        assertOneLineError(chat("history", "--chat", id, "--limit", "0"), 1, "--limit");
        assertOneLineError(chat("history", "--chat", id, "--limit", "many"), 2, "--limit");
        assertOneLineError(chat("frobnicate"), 2, "frobnicate");
    }

    @Test
    void chatCommandsWithoutARunningDaemon(@TempDir Path tmp) {
        String h = tmp.resolve("h").toString();
        for (String[] args : List.of(new String[] {"list"}, new String[] {"create", "--name", "x", "--members", "bob"},
                new String[] {"send", "--chat", UNKNOWN_CHAT, "hi"}, new String[] {"history", "--chat", UNKNOWN_CHAT},
                new String[] {"read", "--chat", UNKNOWN_CHAT})) {
            Result r = run("", concat(new String[] {"client", "--home", h, "chat"}, args));
            assertOneLineError(r, 1, "not running", "parley client --home " + h + " run");
        }
    }

    // ------------------------------------------------------------------ archive

    @Test
    void archiveRunOnAnEmptyOrMissingDir(@TempDir Path tmp) throws IOException {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        for (Path d : List.of(empty, tmp.resolve("missing"))) {
            Result r = runBlocking("", "archive", "run", "--data", d.toString());
            assertOneLineError(r, 1, "no archive node credentials", d.toString(), "parley archive login");
            assertThat(d.resolve("api.json")).doesNotExist();
        }
    }

    @Test
    void archiveRunOnAUserHomeRefuses() {
        // alice's own daemon is running on this folder: the role check comes before anything is started
        Result r = runBlocking("", "archive", "run", "--data", alice.toString(), "--listen", "127.0.0.1:0");
        assertOneLineError(r, 1, "account alice has role user", "role archive", "parley account add --role archive");
    }

    @Test
    void archiveLoginWithMissingNetworkFile(@TempDir Path tmp) {
        Path d = tmp.resolve("arch");
        Path missing = tmp.resolve("missing.json");
        Result r = run("pw\n", "archive", "login", "--data", d.toString(), "--network", missing.toString(), "--user", "arch");
        assertOneLineError(r, 1, "missing.json", "does not exist");
        assertThat(d).doesNotExist();
    }

    @Test
    void archiveLoginWithAUserAccount(@TempDir Path tmp) {
        net.loginData().accounts().add("dave", Role.USER, "dave's password".toCharArray());
        Path d = tmp.resolve("arch");
        Result r = run("dave's password\n", "archive", "login", "--data", d.toString(),
                "--network", net.loginData().networkFilePath().toString(), "--user", "dave");
        String line = assertOneLineError(r, 1);
        assertThat(line).isEqualTo("parley: account dave has role user; an archive node needs an account of role archive"
                + " (parley account add --role archive)");
        assertThat(DeviceCredentials.enrolled(d)).isFalse();
        assertOneLineError(runBlocking("", "archive", "run", "--data", d.toString()), 1, "no archive node credentials");
    }

    @Test
    void archiveLoginWithAnArchiveAccount(@TempDir Path tmp) throws IOException {
        net.loginData().accounts().add("vault", Role.ARCHIVE, "vault password".toCharArray());
        Path d = tmp.resolve("nested").resolve("vault");
        Result r = ok(run("vault password\n", "archive", "login", "--data", d.toString(),
                "--network", net.loginData().networkFilePath().toString(), "--user", "vault"));
        assertThat(r.out()).contains("archive node 'vault' enrolled in " + d).contains("next: parley archive run --data " + d);
        assertThat(DeviceCredentials.enrolled(d)).isTrue();
        // 'archive run' accepts the folder and gets as far as binding its UDP port
        try (DatagramSocket held = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            Result run = runBlocking("", "archive", "run", "--data", d.toString(), "--listen", "127.0.0.1:" + held.getLocalPort());
            assertOneLineError(run, 1, "address already in use", String.valueOf(held.getLocalPort()));
        }
        assertThat(d.resolve("api.json")).doesNotExist();
        assertOneLineError(runBlocking("", "archive", "run", "--data", d.toString(), "--api-port", "70000"), 1, "--api-port");
    }

    @Test
    void helpMentionsTheNewCommands() {
        Result top = run("", "--help");
        assertThat(top.code()).isZero();
        assertThat(top.out()).contains("archive").contains("group chats");
        Result chat = run("", "client", "--home", alice.toString(), "chat", "--help");
        assertThat(chat.code()).isZero();
        for (String sub : List.of("create", "list", "send", "history", "add", "remove", "leave", "rename", "read", "edit",
                "delete", "react")) {
            assertThat(chat.out()).contains("  " + sub + " ");
        }
        assertOneLineError(run("", "client", "--home", alice.toString(), "chat"), 2);
        assertOneLineError(run("", "archive"), 2);
    }
}
