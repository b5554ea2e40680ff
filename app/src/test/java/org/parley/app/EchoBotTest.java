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
    @TempDir Path dir;

    private static List<String> texts(DaemonClient d, String conv) throws Exception {
        List<String> out = new ArrayList<>();
        for (JsonNode l : d.get("/api/v1/chats/" + conv + "/events")) if (l.path("kind").asText().equals("message")) out.add(l.path("text").asText());
        return out;
    }

    @Test
    void answersLiveAndCatchesUpAfterARestartExactlyOnce() throws Exception {
        try (DemoNetwork net = DemoNetwork.start(dir, List.of("alice", "echobot"), true)) {
            assertThat(net.awaitAttached(Duration.ofSeconds(20))).isTrue();
            DaemonClient alice = DaemonClient.connect(net.home("alice"));
            assertThatThrownBy(() -> EchoBot.start(dir.resolve("nobody"), "echo: ")).isInstanceOf(BotClient.BotException.class)
                    .hasMessageContaining("no daemon is running");

            EchoBot bot = EchoBot.start(net.home("echobot"), "echo: ");
            assertThat(bot.user()).isEqualTo("echobot");
            String dm = alice.post("/api/v1/chats/direct", Map.of("user", "echobot")).path("id").asText();
            alice.post("/api/v1/messages", Map.of("to", "echobot", "text", "ping 1"));
            await().atMost(Duration.ofSeconds(30)).until(() -> texts(alice, dm).contains("echo: ping 1"));

            JsonNode g = alice.post("/api/v1/chats", Map.of("name", "bots and people", "members", List.of("echobot")));
            String group = g.path("id").asText();
            alice.post("/api/v1/chats/" + group + "/events", Map.of("kind", "message", "text", "group hello"));
            await().atMost(Duration.ofSeconds(30)).until(() -> texts(alice, group).contains("echo: group hello"));

            // down: a message arrives meanwhile; back up: it is answered, nothing else again
            bot.close();
            alice.post("/api/v1/messages", Map.of("to", "echobot", "text", "ping 2 while you were down"));
            await().atMost(Duration.ofSeconds(30)).until(() -> DaemonClient.connect(net.home("echobot"))
                    .get("/api/v1/chats/" + dm + "/events").toString().contains("ping 2 while you were down"));
            Thread.sleep(500);
            assertThat(texts(alice, dm)).doesNotContain("echo: ping 2 while you were down");
            bot = EchoBot.start(net.home("echobot"), "echo: ");
            await().atMost(Duration.ofSeconds(30)).until(() -> texts(alice, dm).contains("echo: ping 2 while you were down"));
            Thread.sleep(2000); // time for any duplicate to show up
            List<String> d = texts(alice, dm);
            assertThat(Collections.frequency(d, "echo: ping 1")).isEqualTo(1);
            assertThat(Collections.frequency(d, "echo: ping 2 while you were down")).isEqualTo(1);
            assertThat(Collections.frequency(texts(alice, group), "echo: group hello")).isEqualTo(1);
            assertThat(bot.replies()).isEqualTo(1);
            bot.close();
        }
    }
}
