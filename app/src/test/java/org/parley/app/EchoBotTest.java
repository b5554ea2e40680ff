package org.parley.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.parley.bots.BotClient;
import org.parley.bots.EchoBot;
import org.parley.client.DaemonClient;

/**
 * The example echo bot, a user with its own daemon, driven only through that daemon's local API: it answers 1:1 and
 * group messages live, exactly once, and after a restart answers what arrived while it was down without answering
 * old messages again.
 */
@Timeout(180)
class EchoBotTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir Path dir;

    /** Texts of the 1:1 history of {@code d}'s user with {@code with}. */
    private static List<String> direct(DaemonClient d, String with) throws Exception {
        List<String> out = new ArrayList<>();
        for (JsonNode m : d.get("/api/v1/messages?with=" + with)) out.add(m.path("text").asText());
        return out;
    }

    /** Texts of the messages of one conversation as {@code d} sees it. */
    private static List<String> messages(DaemonClient d, String conv) throws Exception {
        List<String> out = new ArrayList<>();
        for (JsonNode l : d.get("/api/v1/chats/" + conv + "/events")) {
            if (l.path("kind").asText().equals("message")) out.add(l.path("text").asText());
        }
        return out;
    }

    @Test
    void answersLiveInDirectAndGroupChatsAndCatchesUpAfterARestartExactlyOnce() throws Exception {
        try (DemoNetwork net = DemoNetwork.start(dir, List.of("alice", "echobot"), true)) {
            assertThat(net.awaitAttached(WAIT)).isTrue();
            DaemonClient alice = DaemonClient.connect(net.home("alice"));
            DaemonClient botDaemon = DaemonClient.connect(net.home("echobot"));
            assertThatThrownBy(() -> EchoBot.start(dir.resolve("nobody"), "echo: ")).isInstanceOf(BotClient.BotException.class)
                    .hasMessageContaining("no daemon is running");

            EchoBot bot = EchoBot.start(net.home("echobot"), "echo: ");
            String group;
            try {
                assertThat(bot.user()).isEqualTo("echobot");
                assertThat(bot.url()).startsWith("http://127.0.0.1:");
                await().atMost(WAIT).until(bot::connected);

                // 1:1, live
                alice.post("/api/v1/messages", Map.of("to", "echobot", "text", "ping 1"));
                await().atMost(WAIT).until(() -> direct(alice, "echobot").contains("echo: ping 1"));

                // a group, live
                group = alice.post("/api/v1/chats", Map.of("name", "bots and people", "members", List.of("echobot")))
                        .path("id").asText();
                alice.post("/api/v1/chats/" + group + "/events", Map.of("kind", "message", "text", "group hello"));
                await().atMost(WAIT).until(() -> messages(alice, group).contains("echo: group hello"));
                assertThat(bot.replies()).isEqualTo(2);
                // the bot marked its conversations read
                await().atMost(WAIT).until(() -> {
                    for (JsonNode c : botDaemon.get("/api/v1/chats")) if (c.path("unread").asInt() != 0) return false;
                    return true;
                });
            } finally {
                bot.close();
            }

            // down: a message arrives meanwhile and stays unanswered
            alice.post("/api/v1/messages", Map.of("to", "echobot", "text", "ping 2 while you were down"));
            await().atMost(WAIT).until(() -> direct(botDaemon, "alice").contains("ping 2 while you were down"));
            Thread.sleep(500);
            assertThat(direct(alice, "echobot")).doesNotContain("echo: ping 2 while you were down");

            // back up: it is answered, and nothing older again
            EchoBot again = EchoBot.start(net.home("echobot"), "echo: ");
            try {
                await().atMost(WAIT).until(() -> direct(alice, "echobot").contains("echo: ping 2 while you were down"));
                Thread.sleep(2000); // time for a duplicate to show up
                List<String> dm = direct(alice, "echobot");
                assertThat(Collections.frequency(dm, "echo: ping 1")).isEqualTo(1);
                assertThat(Collections.frequency(dm, "echo: ping 2 while you were down")).isEqualTo(1);
                assertThat(dm).noneMatch(t -> t.startsWith("echo: echo: "));
                assertThat(Collections.frequency(messages(alice, group), "echo: group hello")).isEqualTo(1);
                assertThat(again.replies()).isEqualTo(1);
                assertThat(again.lastProblem()).isNull();

                // the bot's daemon restarts (new port and token in api.json): the bot finds it again by itself
                String oldUrl = again.url();
                net.stopClient("echobot");
                await().atMost(WAIT).until(() -> !again.connected());
                net.startClient("echobot");
                assertThat(DaemonClient.connect(net.home("echobot")).get("/api/v1/status").path("user").asText()).isEqualTo("echobot");
                await().atMost(WAIT).until(again::connected);
                alice.post("/api/v1/messages", Map.of("to", "echobot", "text", "ping 3 after a daemon restart"));
                await().atMost(WAIT).until(() -> direct(alice, "echobot").contains("echo: ping 3 after a daemon restart"));
                Thread.sleep(1000);
                dm = direct(alice, "echobot");
                assertThat(Collections.frequency(dm, "echo: ping 3 after a daemon restart")).isEqualTo(1);
                assertThat(Collections.frequency(dm, "echo: ping 1")).isEqualTo(1);
                assertThat(again.replies()).isEqualTo(2);
                assertThat(DaemonClient.connect(net.home("echobot")).uiUrl()).doesNotStartWith(oldUrl + "/");
            } finally {
                again.close();
            }
        }
    }
}
