package org.parley.bots;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A client of one daemon's local API: REST calls and the WebSocket event stream, authenticated with the token in
 * {@code HOME/api.json}. The file is read again for every new connection, so a restarted daemon (new port, new
 * token) is found again.
 */
public final class BotClient {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The daemon is not running or refused a request; the message is one line. */
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
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();

    public BotClient(Path home) {
        this.home = home;
    }

    private Endpoint endpoint() throws BotException {
        try {
            JsonNode n = JSON.readTree(Files.readString(home.resolve("api.json")));
            return new Endpoint(n.path("url").asText(), n.path("token").asText(), n.path("user").asText());
        } catch (NoSuchFileException e) {
            throw new BotException(0, "no daemon is running for " + home + " (no api.json); start it with: parley client --home "
                    + home + " run");
        } catch (IOException e) {
            throw new BotException(0, "cannot read " + home.resolve("api.json") + ": " + e.getMessage());
        }
    }

    /** The user this daemon belongs to. */
    public String user() throws BotException {
        return endpoint().user();
    }

    public JsonNode get(String path) throws BotException {
        return call("GET", path, null);
    }

    public JsonNode post(String path, Object body) throws BotException {
        return call("POST", path, body);
    }

    public static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private JsonNode call(String method, String path, Object body) throws BotException {
        Endpoint e = endpoint();
        HttpResponse<String> r;
        try {
            HttpRequest.BodyPublisher p = body == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body));
            r = http.send(HttpRequest.newBuilder(URI.create(e.url() + path)).timeout(Duration.ofSeconds(30))
                    .header("Authorization", "Bearer " + e.token()).header("Content-Type", "application/json")
                    .method(method, p).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException ex) {
            throw new BotException(0, "the daemon for " + home + " did not answer (" + ex.getClass().getSimpleName() + ")");
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new BotException(0, "interrupted");
        }
        JsonNode n;
        try {
            n = r.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(r.body());
        } catch (IOException ex) {
            throw new BotException(r.statusCode(), "the daemon sent a malformed answer (HTTP " + r.statusCode() + ")");
        }
        if (r.statusCode() >= 300) throw new BotException(r.statusCode(), n.path("message").asText("HTTP " + r.statusCode()));
        return n;
    }

    /**
     * Opens the event stream and keeps it open until the returned handle is closed: each JSON message goes to
     * {@code onMessage} (on the stream's thread, one at a time); {@code onOpen} runs after every (re)connection, so
     * the caller can catch up on what happened while it was disconnected. Reconnects with backoff (0.5 s doubling
     * to 5 s) when the socket closes or the daemon restarts; pings every 30 s.
     */
    public AutoCloseable stream(Runnable onOpen, Consumer<JsonNode> onMessage) {
        Thread t = Thread.ofVirtual().name("bot-stream").start(() -> {
            long backoff = 500;
            while (!Thread.currentThread().isInterrupted()) {
                CompletableFuture<Void> closed = new CompletableFuture<>();
                WebSocket ws = null;
                try {
                    Endpoint e = endpoint();
                    ws = http.newWebSocketBuilder().header("Authorization", "Bearer " + e.token())
                            .connectTimeout(Duration.ofSeconds(5))
                            .buildAsync(URI.create(e.url().replaceFirst("^http", "ws") + "/api/v1/stream"), new Listener(onMessage, closed))
                            .get(10, TimeUnit.SECONDS);
                    backoff = 500;
                    onOpen.run();
                    while (!closed.isDone()) {
                        try {
                            closed.get(30, TimeUnit.SECONDS);
                        } catch (java.util.concurrent.TimeoutException idle) {
                            ws.sendText("{\"type\":\"ping\"}", true);
                        }
                    }
                } catch (InterruptedException e) {
                    if (ws != null) ws.abort();
                    return;
                } catch (Exception e) {
                    // daemon down or restarting: try again
                }
                if (ws != null) ws.abort();
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException e) {
                    return;
                }
                backoff = Math.min(5000, backoff * 2);
            }
        });
        return () -> {
            t.interrupt();
            t.join(5000);
        };
    }

    /** Joins partial text frames and hands each whole message on; completes {@code closed} when the socket ends. */
    private static final class Listener implements WebSocket.Listener {
        private final Consumer<JsonNode> onMessage;
        private final CompletableFuture<Void> closed;
        private final StringBuilder part = new StringBuilder();

        Listener(Consumer<JsonNode> onMessage, CompletableFuture<Void> closed) {
            this.onMessage = onMessage;
            this.closed = closed;
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            part.append(data);
            if (last) {
                String m = part.toString();
                part.setLength(0);
                try {
                    onMessage.accept(JSON.readTree(m));
                } catch (IOException | RuntimeException e) {
                    // one bad message must not end the stream
                }
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
            closed.complete(null);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            closed.complete(null);
        }
    }
}
