package org.parley.bots;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An example bot: answers every message others send it, 1:1 or in a group, with a prefix and the same text, then
 * marks the conversation read. It runs as a user of its own on its own device daemon and uses only that daemon's
 * local API.
 *
 * <ul>
 * <li>Live: each {@code event} of kind {@code message} on the stream that is not its own is looked up by id in the
 * conversation's history and answered in the same conversation.</li>
 * <li>Catch-up: after every (re)connection (the stream's {@code hello}) it goes through the conversations with unread
 * messages and answers the messages by others after its read position (its newest own message or read marker), so
 * what arrived while the bot or its daemon was down is answered once.</li>
 * <li>Exactly once: the ids it answered are remembered (a bounded LRU set), so the live path and a catch-up never
 * both answer a message; across restarts the read position says what was handled. One gap remains: a message that
 * arrives while an answer is being written can be ordered before that answer and so count as read; it is still
 * answered live, but not if the bot stops in that very moment.</li>
 * </ul>
 *
 * <pre>java -cp ... org.parley.bots.EchoBot --home DIR [--prefix TEXT]     (or: parley bot echo --home DIR)</pre>
 */
public final class EchoBot implements AutoCloseable {
    public static final String DEFAULT_PREFIX = "echo: ";
    /** How many answered event ids are remembered. */
    static final int REMEMBERED = 10_000;

    /** The logger is made on first use, so {@link #main} can quiet slf4j's own warnings before that. */
    private static final class Log {
        static final Logger log = LoggerFactory.getLogger(EchoBot.class);
    }

    private final BotClient api;
    private final String prefix;
    private final String me;
    private final String url;
    /** Every request to the daemon runs on this one thread, in the order the stream asked for it. */
    private final ExecutorService worker = Executors.newSingleThreadExecutor(Thread.ofVirtual().name("echo-bot").factory());
    /** Event ids answered by this process, least recently used first (touched only on the worker thread). */
    private final Set<String> answered = Collections.newSetFromMap(new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> e) {
            return size() > REMEMBERED;
        }
    });
    private final AtomicLong replies = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private volatile String lastProblem;
    private volatile boolean closed;
    private final BotClient.Stream stream;

    private EchoBot(BotClient api, String prefix, String me, String url) {
        this.api = api;
        this.prefix = prefix;
        this.me = me;
        this.url = url;
        this.stream = api.stream(this::onMessage);
    }

    /**
     * Starts a bot on the daemon whose home folder is {@code home} (the bot is that daemon's user); fails at once, with
     * a one-line message, if that daemon is not running.
     */
    public static EchoBot start(Path home, String prefix) throws BotClient.BotException {
        if (prefix == null) prefix = DEFAULT_PREFIX;
        BotClient api = new BotClient(home);
        try {
            String me = api.get("/api/v1/status").path("user").asText("");
            if (me.isEmpty()) throw new BotClient.BotException(0, "the daemon for " + home + " did not say which user it runs for");
            return new EchoBot(api, prefix, me, api.url());
        } catch (BotClient.BotException e) {
            api.close();
            throw e;
        }
    }

    /** The user the bot answers as. */
    public String user() {
        return me;
    }

    /** The daemon's local API address when the bot started. */
    public String url() {
        return url;
    }

    /** Answers sent so far by this bot (this process). */
    public long replies() {
        return replies.get();
    }

    /** Failed calls to the daemon so far. */
    public long failures() {
        return failures.get();
    }

    /** The last error talking to the daemon, or null. */
    public String lastProblem() {
        return lastProblem;
    }

    /** Whether the event stream is connected now. */
    public boolean connected() {
        return stream.connected();
    }

    private void onMessage(JsonNode n) {
        switch (n.path("type").asText()) {
            case "hello" -> submit(this::catchUp);
            case "event" -> {
                if (!n.path("kind").asText().equals("message")) return;
                if (n.path("own").asBoolean(false) || n.path("author").asText().equals(me)) return;
                String conv = n.path("conversation").asText(), id = n.path("id").asText();
                if (!conv.isEmpty() && !id.isEmpty()) submit(() -> answerLive(conv, id));
            }
            default -> { }
        }
    }

    private void submit(Runnable task) {
        if (closed) return;
        try {
            worker.execute(task);
        } catch (RejectedExecutionException e) {
            // closing
        }
    }

    private static boolean byOthers(JsonNode line, String me) {
        return line.path("kind").asText().equals("message") && !line.path("author").asText().equals(me)
                && !line.path("deleted").asBoolean(false);
    }

    private String eventsPath(String conv, int limit) {
        return "/api/v1/chats/" + BotClient.encode(conv) + "/events?limit=" + limit;
    }

    /** A message on the stream: find its line and answer it (unless this process already did). */
    private void answerLive(String conv, String id) {
        if (closed || answered.contains(id)) return;
        try {
            JsonNode line = null;
            for (int limit : new int[] {50, 1000}) {
                for (JsonNode l : api.get(eventsPath(conv, limit))) if (l.path("id").asText().equals(id)) line = l;
                if (line != null) break;
            }
            if (line == null || !byOthers(line, me)) return; // gone, deleted, or not a message by someone else
            if (answer(conv, line)) markRead(conv);
        } catch (BotClient.BotException e) {
            problem("answering " + id.substring(0, Math.min(12, id.length())) + " in " + conv, e);
        }
    }

    /** After a (re)connection: every conversation with unread messages. */
    private void catchUp() {
        if (closed) return;
        try {
            for (JsonNode c : api.get("/api/v1/chats")) {
                int unread = c.path("unread").asInt(0);
                if (unread > 0 && c.path("member").asBoolean(true)) catchUp(c.path("id").asText(), unread);
            }
        } catch (BotClient.BotException e) {
            problem("catching up", e);
        }
    }

    /**
     * Answers the messages by others after the bot's read position in one conversation: newer than its newest own
     * line and not covered by its read marker. Then marks the conversation read.
     */
    private void catchUp(String conv, int unread) throws BotClient.BotException {
        JsonNode lines = api.get(eventsPath(conv, Math.min(100_000, Math.max(50, 2 * unread + 50))));
        int from = 0;
        for (int i = 0; i < lines.size(); i++) if (lines.get(i).path("author").asText().equals(me)) from = i + 1;
        boolean ok = true;
        for (int i = from; i < lines.size() && !closed; i++) {
            JsonNode l = lines.get(i);
            if (!byOthers(l, me) || readByMe(l)) continue;
            ok &= answer(conv, l);
        }
        if (ok && !closed) markRead(conv);
    }

    private boolean readByMe(JsonNode line) {
        for (JsonNode u : line.path("readBy")) if (u.asText().equals(me)) return true;
        return false;
    }

    /** Sends the echo of one line unless it was answered already; false if that failed and may work later. */
    private boolean answer(String conv, JsonNode line) {
        String id = line.path("id").asText();
        if (answered.contains(id)) return true;
        try {
            api.post("/api/v1/chats/" + BotClient.encode(conv) + "/events", Map.of("kind", "message", "text", prefix + line.path("text").asText()));
        } catch (BotClient.BotException e) {
            problem("answering " + id.substring(0, Math.min(12, id.length())) + " in " + conv, e);
            if (e.status() >= 400 && e.status() < 500) {
                answered.add(id); // e.g. too long with the prefix, or no longer a member: trying again will not help
                return true;
            }
            return false;
        }
        answered.add(id);
        replies.incrementAndGet();
        return true;
    }

    private void markRead(String conv) {
        try {
            api.post("/api/v1/chats/" + BotClient.encode(conv) + "/events", Map.of("kind", "read"));
        } catch (BotClient.BotException e) {
            problem("marking " + conv + " read", e);
        }
    }

    private void problem(String what, BotClient.BotException e) {
        if (closed) return;
        failures.incrementAndGet();
        lastProblem = what + ": " + e.getMessage();
        Log.log.warn("echo bot {}: {}", me, lastProblem);
    }

    /** Stops the bot: closes the event stream, lets a call in progress finish (at most ~5 s), releases the client. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        stream.close();
        worker.shutdown();
        try {
            if (!worker.awaitTermination(5, TimeUnit.SECONDS)) worker.shutdownNow();
        } catch (InterruptedException e) {
            worker.shutdownNow();
            Thread.currentThread().interrupt();
        }
        api.close();
    }

    private static final String USAGE = "usage: EchoBot --home DIR [--prefix TEXT]";

    /**
     * {@code --home DIR [--prefix TEXT]}: runs an echo bot on the running daemon in DIR until interrupted (Ctrl-C).
     * Errors are one line on stderr and exit code 1.
     */
    public static void main(String[] args) {
        // without a logging backend on the class path, slf4j would print its own warnings to stderr
        if (System.getProperty("slf4j.internal.verbosity") == null) System.setProperty("slf4j.internal.verbosity", "ERROR");
        Path home = null;
        String prefix = DEFAULT_PREFIX;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--home", "--prefix" -> {
                    if (i + 1 >= args.length) fail("option " + a + " needs a value; " + USAGE);
                    String v = args[++i];
                    if (a.equals("--home")) home = Path.of(v);
                    else prefix = v;
                }
                case "-h", "--help" -> {
                    System.out.println(USAGE);
                    System.out.println("Answers every message sent to the daemon's user with TEXT (default '" + DEFAULT_PREFIX
                            + "') and the message; catches up on unread messages when it starts.");
                    return;
                }
                default -> fail("unknown argument '" + a + "'; " + USAGE);
            }
        }
        if (home == null) fail("--home DIR is required; " + USAGE);
        EchoBot bot;
        try {
            bot = start(home, prefix);
        } catch (BotClient.BotException e) {
            fail(e.getMessage());
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Thread main = Thread.currentThread();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            bot.close();
            main.interrupt();
            try {
                stopped.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException ignored) {
                // exiting anyway
            }
        }, "echo-bot-stop"));
        System.out.println("echo bot for " + bot.user() + " running on " + bot.url() + " (Ctrl-C stops it)");
        System.out.flush();
        try {
            new CountDownLatch(1).await(); // until interrupted
        } catch (InterruptedException e) {
            bot.close();
        } finally {
            stopped.countDown();
        }
    }

    private static void fail(String message) {
        System.err.println("error: " + message);
        System.exit(1);
    }
}
