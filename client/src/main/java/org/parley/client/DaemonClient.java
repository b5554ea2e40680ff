package org.parley.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;

/** How CLI commands talk to a running daemon: reads HOME/api.json and calls the local API. */
public final class DaemonClient {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The daemon is not running or answered with an error; the message is one line. */
    public static final class DaemonException extends Exception {
        private final int status;

        public DaemonException(int status, String message) {
            super(message);
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

    private final Path home;
    private final String base;
    private final String token;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();

    private DaemonClient(Path home, String base, String token) {
        this.home = home;
        this.base = base;
        this.token = token;
    }

    private static String notRunning(Path home) {
        return "the client daemon for " + home + " is not running; start it with: parley client --home " + home + " run";
    }

    /** The web UI's address, with the token in the fragment (the UI signs in with it and drops it). */
    public String uiUrl() {
        return base + "/#token=" + token;
    }

    public static DaemonClient connect(Path home) throws DaemonException {
        JsonNode n;
        try {
            n = JSON.readTree(Files.readString(home.resolve(LocalApi.API_FILE)));
        } catch (NoSuchFileException e) {
            throw new DaemonException(0, notRunning(home));
        } catch (IOException e) {
            throw new DaemonException(0, "cannot read " + home.resolve(LocalApi.API_FILE) + ": " + e.getMessage());
        }
        return new DaemonClient(home, n.path("url").asText(), n.path("token").asText());
    }

    public JsonNode get(String path) throws DaemonException {
        return call(HttpRequest.newBuilder(URI.create(base + path)).GET());
    }

    public JsonNode delete(String path) throws DaemonException {
        return call(HttpRequest.newBuilder(URI.create(base + path)).DELETE());
    }

    public JsonNode post(String path, Object body) throws DaemonException {
        try {
            return call(HttpRequest.newBuilder(URI.create(base + path))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new DaemonException(0, "cannot encode request");
        }
    }

    private JsonNode call(HttpRequest.Builder b) throws DaemonException {
        HttpResponse<String> r;
        try {
            r = http.send(b.header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (ConnectException e) {
            throw new DaemonException(0, notRunning(home));
        } catch (IOException e) {
            throw new DaemonException(0, "the client daemon for " + home + " did not answer: " + e.getClass().getSimpleName());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DaemonException(0, "interrupted");
        }
        JsonNode n;
        try {
            n = JSON.readTree(r.body());
        } catch (IOException e) {
            if (r.statusCode() == 413) {
                throw new DaemonException(413, "request too large: a message may have at most "
                        + org.parley.protocol.Limits.MAX_TEXT_BYTES + " bytes of text");
            }
            throw new DaemonException(r.statusCode(), "the client daemon sent a malformed answer (HTTP " + r.statusCode() + ")");
        }
        if (r.statusCode() >= 300) {
            throw new DaemonException(r.statusCode(), n.path("message").asText("HTTP " + r.statusCode()));
        }
        return n;
    }
}
