package org.parley.bots;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client of one daemon's local API, the way any program outside Parley would talk to it: REST calls and the
 * WebSocket event stream, authenticated with the bearer token in {@code HOME/api.json}. That file is read again for
 * every request and every new stream connection, so a restarted daemon (new port, new token) is found again.
 */
public final class BotClient implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BotClient.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Name of the file the daemon writes into its home: {@code {url, port, token, pid, user, ui}}. */
    public static final String API_FILE = "api.json";
    static final long BACKOFF_MIN_MILLIS = 500, BACKOFF_MAX_MILLIS = 5_000;
    static final long PING_MILLIS = 30_000;
    /** A connection that lasted this long starts the backoff from the minimum again. */
    private static final long STABLE_NANOS = TimeUnit.SECONDS.toNanos(5);

    /** The daemon is not running or refused a request; the message is one line, fit to show to a user. */
    public static final class BotException extends Exception {
        private final int status;

        public BotException(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }

        /** HTTP status, or 0 if the daemon could not be reached. */
        public int status() {
            return status;
        }
    }

    private record Endpoint(String url, String token, String user) {}

    private final Path home;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(3)).build();

    public BotClient(Path home) {
        this.home = home;
    }

    public Path home() {
        return home;
    }

    private Endpoint endpoint() throws BotException {
        Path f = home.resolve(API_FILE);
        JsonNode n;
        try {
            n = JSON.readTree(Files.readString(f));
        } catch (NoSuchFileException e) {
            throw new BotException(0, "no daemon is running for " + home + " (no " + API_FILE + "); start it with: parley client --home "
                    + home + " run");
        } catch (IOException e) {
            throw new BotException(0, "cannot read " + f + ": " + e.getMessage());
        }
        String url = n.path("url").asText(""), token = n.path("token").asText("");
        if (!url.startsWith("http://") || token.isEmpty()) throw new BotException(0, f + " has no url and token: is it a daemon's api file?");
        return new Endpoint(url, token, n.path("user").asText(""));
    }

    /** The user this daemon belongs to (from {@code api.json}). */
    public String user() throws BotException {
        return endpoint().user();
    }

    /** The daemon's local API address, {@code http://127.0.0.1:PORT} (from {@code api.json}). */
    public String url() throws BotException {
        return endpoint().url();
    }

    public JsonNode get(String path) throws BotException {
        return call("GET", path, null);
    }

    /** POSTs {@code body} (anything Jackson can write: a Map, a JsonNode, a record) as JSON. */
    public JsonNode post(String path, Object body) throws BotException {
        return call("POST", path, body == null ? JSON.createObjectNode() : body);
    }

    /** URL-encodes a query parameter value. */
    public static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private JsonNode call(String method, String path, Object body) throws BotException {
        Endpoint e = endpoint();
        HttpResponse<String> r;
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(e.url() + path)).timeout(Duration.ofSeconds(30))
                    .header("Authorization", "Bearer " + e.token());
            if (body == null) b.method(method, HttpRequest.BodyPublishers.noBody());
            else b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
            r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (ConnectException ex) {
            throw new BotException(0, "no daemon is running for " + home + " (nothing answers at " + e.url()
                    + "); start it with: parley client --home " + home + " run");
        } catch (HttpTimeoutException ex) {
            throw new BotException(0, "the daemon for " + home + " did not answer " + method + " " + path + " within 30 s");
        } catch (IOException ex) {
            throw new BotException(0, "cannot reach the daemon for " + home + " at " + e.url() + ": "
                    + (ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage()));
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new BotException(0, "interrupted while calling " + method + " " + path);
        } catch (IllegalStateException ex) { // the HttpClient was closed
            throw new BotException(0, "this bot client is closed");
        }
        JsonNode n;
        try {
            n = r.body().isBlank() ? JSON.createObjectNode() : JSON.readTree(r.body());
        } catch (IOException ex) {
            throw new BotException(r.statusCode(), "the daemon sent a malformed answer to " + method + " " + path + " (HTTP " + r.statusCode() + ")");
        }
        if (r.statusCode() >= 300) {
            String m = n.path("message").asText("");
            throw new BotException(r.statusCode(), m.isEmpty() ? method + " " + path + " failed with HTTP " + r.statusCode() : m);
        }
        return n;
    }

    /**
     * Opens the event stream ({@code /api/v1/stream}) and keeps it open until the returned handle is closed. Each
     * JSON message goes to {@code onMessage}, one at a time on the socket's thread; a connection starts with
     * {@code {"type":"hello"}}, so a caller that has to catch up after a (re)connection does that on hello. When the
     * socket closes or fails, or the daemon is down or restarts, it connects again with backoff (0.5 s doubling to 5 s),
     * re-reading {@code api.json} each time. Sends {@code {"type":"ping"}} every 30 s and reconnects if nothing at
     * all (not even the pong) came back for two intervals.
     */
    public Stream stream(Consumer<JsonNode> onMessage) {
        return new Stream(onMessage);
    }

    /** A running event stream: see {@link #stream}. */
    public final class Stream implements AutoCloseable {
        private final Consumer<JsonNode> onMessage;
        private final Thread loop;
        private final AtomicLong connections = new AtomicLong();
        private volatile boolean closing;
        private volatile WebSocket current;

        private Stream(Consumer<JsonNode> onMessage) {
            this.onMessage = onMessage;
            this.loop = Thread.ofVirtual().name("bot-stream").start(this::run);
        }

        /** Whether the socket is open now. */
        public boolean connected() {
            return current != null;
        }

        /** How many times a socket was opened (the first connection counts). */
        public long connections() {
            return connections.get();
        }

        private void run() {
            long backoff = BACKOFF_MIN_MILLIS;
            boolean wasDown = false;
            while (!closing) {
                CompletableFuture<Void> ended = new CompletableFuture<>();
                Listener listener = new Listener(onMessage, ended);
                WebSocket ws = null;
                long openedAt = 0;
                try {
                    Endpoint e = endpoint();
                    ws = http.newWebSocketBuilder().header("Authorization", "Bearer " + e.token()).connectTimeout(Duration.ofSeconds(5))
                            .buildAsync(URI.create("ws" + e.url().substring("http".length()) + "/api/v1/stream"), listener)
                            .get(10, TimeUnit.SECONDS);
                    openedAt = System.nanoTime();
                    current = ws;
                    connections.incrementAndGet();
                    if (wasDown) log.info("event stream of {} connected again", home);
                    wasDown = false;
                    while (!closing && !ended.isDone()) {
                        try {
                            ended.get(PING_MILLIS, TimeUnit.MILLISECONDS);
                        } catch (TimeoutException idle) {
                            if (System.nanoTime() - listener.lastHeard > TimeUnit.MILLISECONDS.toNanos(2 * PING_MILLIS + PING_MILLIS / 2)) {
                                log.info("event stream of {} is silent; reconnecting", home);
                                break;
                            }
                            ws.sendText("{\"type\":\"ping\"}", true).whenComplete((w, t) -> {
                                if (t != null) ended.complete(null);
                            });
                        }
                    }
                } catch (InterruptedException e) {
                    break;
                } catch (BotException | ExecutionException | TimeoutException | RuntimeException e) {
                    // daemon down, restarting, or refusing the token: try again
                    Throwable c = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
                    if (!wasDown) log.info("event stream of {} unavailable ({}); retrying", home, c.getMessage() == null ? c.toString() : c.getMessage());
                    else log.debug("event stream of {} still unavailable: {}", home, c.toString());
                    wasDown = true;
                } finally {
                    current = null;
                    if (ws != null) ws.abort();
                }
                if (closing) break;
                if (openedAt != 0) {
                    if (System.nanoTime() - openedAt >= STABLE_NANOS) backoff = BACKOFF_MIN_MILLIS;
                    if (!wasDown) log.info("event stream of {} closed; reconnecting", home);
                    wasDown = true;
                }
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException e) {
                    break;
                }
                backoff = Math.min(BACKOFF_MAX_MILLIS, backoff * 2);
            }
        }

        /** Closes the socket and stops reconnecting; returns once the stream's thread has ended (at most ~5 s). */
        @Override
        public void close() {
            closing = true;
            WebSocket ws = current;
            if (ws != null) {
                try {
                    ws.sendClose(WebSocket.NORMAL_CLOSURE, "bot stopping").get(1, TimeUnit.SECONDS);
                } catch (Exception ignored) {
                    // aborted below anyway
                }
            }
            loop.interrupt();
            try {
                loop.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Joins partial text frames and hands each whole message on; completes {@code ended} when the socket ends. */
    private static final class Listener implements WebSocket.Listener {
        private final Consumer<JsonNode> onMessage;
        private final CompletableFuture<Void> ended;
        private final StringBuilder part = new StringBuilder();
        volatile long lastHeard = System.nanoTime();

        Listener(Consumer<JsonNode> onMessage, CompletableFuture<Void> ended) {
            this.onMessage = onMessage;
            this.ended = ended;
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            lastHeard = System.nanoTime();
            part.append(data);
            if (last) {
                String m = part.toString();
                part.setLength(0);
                JsonNode n = null;
                try {
                    n = JSON.readTree(m);
                } catch (IOException e) {
                    log.debug("event stream sent a malformed message: {}", e.getMessage());
                }
                if (n != null) {
                    try {
                        onMessage.accept(n);
                    } catch (RuntimeException e) { // one failing message must not end the stream
                        log.warn("event stream handler failed: {}", e.toString());
                    }
                }
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onPing(WebSocket ws, java.nio.ByteBuffer message) {
            lastHeard = System.nanoTime();
            return WebSocket.Listener.super.onPing(ws, message);
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
            log.debug("event stream closed by the daemon: {} {}", status, reason);
            ended.complete(null);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            log.debug("event stream failed: {}", error.toString());
            ended.complete(null);
        }
    }

    /** Releases the HTTP client (close the {@link Stream}s first). */
    @Override
    public void close() {
        http.shutdownNow();
    }
}
