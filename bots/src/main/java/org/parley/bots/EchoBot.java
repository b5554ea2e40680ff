package org.parley.bots;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An example bot: answers every message it receives, 1:1 or in a group, with a prefix and the same text, then marks
 * the conversation read. Live messages come from the event stream; after every (re)connection it also answers the
 * messages it has not read yet (those that arrived while it or its daemon was down), so each message gets exactly one
 * answer however often it restarts: a message counts as handled once the bot's read marker covers it.
 *
 * <pre>parley bot echo --home DIR [--prefix TEXT]</pre>
 */
public final class EchoBot implements AutoCloseable {
    private final BotClient api;
    private final String prefix;
    private final String me;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(Thread.ofVirtual().name("echo-bot").factory());
    /** Event ids answered by this process (bounded): the stream and a catch-up may both name a message. */
    private final Set<String> answered = Collections.newSetFromMap(new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> e) {
            return size() > 10_000;
        }
    });
    private final AtomicLong replies = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private volatile String lastProblem;
    private final AutoCloseable stream;

    private EchoBot(BotClient api, String prefix, String me) {
        this.api = api;
        this.prefix = prefix;
        this.me = me;
        this.stream = api.stream(() -> worker.execute(this::catchUp), this::onMessage);
    }

    /** Starts a bot on the daemon whose home folder is {@code home}; fails at once if that daemon is not running. */
    public static EchoBot start(Path home, String prefix) throws BotClient.BotException {
        BotClient api = new BotClient(home);
        String me = api.get("/api/v1/status").path("user").asText();
        return new EchoBot(api, prefix, me);
    }

    public String user() {
        return me;
    }

    /** Answers sent so far. */
    public long replies() {
        return replies.get();
    }

    /** The last error talking to the daemon, or null. */
    public String lastProblem() {
        return lastProblem;
    }

    private void onMessage(JsonNode n) {
        if (!n.path("type").asText().equals("event") || !n.path("kind").asText().equals("message")) return;
        if (n.path("own").asBoolean() || n.path("author").asText().equals(me)) return;
        String conv = n.path("conversation").asText(), id = n.path("id").asText();
        worker.execute(() -> answerLatest(conv, id));
    }

    /** A live message: answer it (its line, and any other unread one of that conversation). */
    private void answerLatest(String conv, String id) {
        try {
            answerUnread(conv);
        } catch (BotClient.BotException e) {
            problem(e);
        }
    }

    /** After (re)connecting: every conversation with unread messages. */
    private void catchUp() {
        try {
            for (JsonNode c : api.get("/api/v1/chats")) {
                if (c.path("unread").asInt() > 0 && c.path("member").asBoolean(true)) answerUnread(c.path("id").asText());
            }
        } catch (BotClient.BotException e) {
            problem(e);
        }
    }

    /** Answers the messages by others that the bot's read marker does not cover yet, then marks them read. */
    private void answerUnread(String conv) throws BotClient.BotException {
        boolean any = false;
        for (JsonNode l : api.get("/api/v1/chats/" + conv + "/events?limit=1000")) {
            if (!l.path("kind").asText().equals("message") || l.path("author").asText().equals(me) || l.path("deleted").asBoolean()) continue;
            boolean read = false;
            for (JsonNode r : l.path("readBy")) read |= r.asText().equals(me);
            String id = l.path("id").asText();
            if (read || answered.contains(id)) continue;
            api.post("/api/v1/chats/" + conv + "/events", Map.of("kind", "message", "text", prefix + l.path("text").asText()));
            answered.add(id);
            replies.incrementAndGet();
            any = true;
        }
        if (any) api.post("/api/v1/chats/" + conv + "/events", Map.of("kind", "read"));
    }

    private void problem(BotClient.BotException e) {
        failures.incrementAndGet();
        lastProblem = e.getMessage();
    }

    @Override
    public void close() {
        try {
            stream.close();
        } catch (Exception ignored) {
            // closing anyway
        }
        worker.shutdown();
        try {
            worker.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
