package org.parley.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.parley.client.DaemonClient;
import org.parley.client.LocalApi;

/**
 * The local API as the web UI and bots use it: the OpenAPI file matches the routes, the UI is served with its
 * security headers, sign-in by cookie, Host and Origin checks, the WebSocket event stream (events, delivery,
 * presence, status), contacts, and working offline with the queued count and catch-up.
 */
@Timeout(180)
class LocalApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir Path dir;
    private final HttpClient http = HttpClient.newHttpClient();

    private static JsonNode apiFile(Path home) throws Exception {
        return JSON.readTree(Files.readString(home.resolve(LocalApi.API_FILE)));
    }

    private HttpResponse<String> send(String method, String url, Map<String, String> headers, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(b::header);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A raw HTTP/1.1 request, for headers HttpClient will not set (Host). Returns the status line. */
    private static String raw(int port, String request) throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            OutputStream o = s.getOutputStream();
            o.write(request.getBytes(StandardCharsets.US_ASCII));
            o.flush();
            return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
        }
    }

    /** (METHOD path) pairs of the OpenAPI file. */
    private static Set<String> openApiRoutes() throws Exception {
        JsonNode doc = new YAMLMapper().readTree(Files.readString(Path.of("..", "docs", "openapi.yaml")));
        Set<String> out = new TreeSet<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = doc.path("paths").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> p = it.next();
            for (Iterator<String> m = p.getValue().fieldNames(); m.hasNext(); ) out.add(m.next().toUpperCase() + " " + p.getKey());
        }
        return out;
    }

    /** (METHOD path) pairs the daemon documents in {@link LocalApi#PATHS} (the web UI at / aside). */
    private static Set<String> documentedRoutes() {
        Set<String> out = new TreeSet<>();
        for (String line : LocalApi.PATHS.split("\n")) {
            String[] w = line.strip().split("\\s+");
            if (w.length >= 2 && w[0].matches("GET|POST|DELETE") && w[1].startsWith("/api/")) out.add(w[0] + " " + w[1].replaceAll("\\?.*", ""));
        }
        return out;
    }

    @Test
    void openApiFileDescribesExactlyTheRoutesAndEveryRouteNeedsTheToken() throws Exception {
        assertThat(openApiRoutes()).isEqualTo(documentedRoutes());
        try (DemoNetwork net = DemoNetwork.start(dir, List.of("alice"), true)) {
            JsonNode api = apiFile(net.home("alice"));
            String base = api.path("url").asText();
            for (String r : openApiRoutes()) {
                String[] w = r.split(" ");
                if (w[1].equals("/api/v1/stream")) continue; // checked with a real upgrade below
                String path = w[1].replace("{id}", "0123456789ab").replace("{user}", "bob");
                HttpResponse<String> resp = send(w[0], base + path, Map.of("Content-Type", "application/json"), "{}");
                assertThat(resp.statusCode()).as("%s without a token", r).isEqualTo(401);
                assertThat(JSON.readTree(resp.body()).path("error").asText()).isEqualTo("unauthorized");
            }
            // the served copy is the repository's file
            HttpResponse<String> doc = send("GET", base + "/api/v1/openapi.yaml",
                    Map.of("Authorization", "Bearer " + api.path("token").asText()), null);
            assertThat(doc.statusCode()).isEqualTo(200);
            assertThat(doc.body()).isEqualTo(Files.readString(Path.of("..", "docs", "openapi.yaml")));
            // an unknown path is a JSON 404
            HttpResponse<String> none = send("GET", base + "/api/v1/nothing", Map.of("Authorization", "Bearer " + api.path("token").asText()), null);
            assertThat(none.statusCode()).isEqualTo(404);
            assertThat(JSON.readTree(none.body()).path("error").asText()).isEqualTo("not_found");
        }
    }

    @Test
    void uiIsServedAndSignInUsesAnHttpOnlyCookieBoundToThisOrigin() throws Exception {
        try (DemoNetwork net = DemoNetwork.start(dir, List.of("alice"), true)) {
            JsonNode api = apiFile(net.home("alice"));
            String base = api.path("url").asText();
            int port = api.path("port").asInt();
            String token = api.path("token").asText();
            assertThat(api.path("ui").asText()).isEqualTo(base + "/#token=" + token);
            assertThat(net.api("alice").uiUrl()).isEqualTo(api.path("ui").asText());

            HttpResponse<String> page = send("GET", base + "/", Map.of(), null);
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.body()).contains("/app.js");
            assertThat(page.headers().firstValue("Content-Security-Policy").orElse("")).contains("default-src 'self'");
            assertThat(page.headers().firstValue("X-Frame-Options").orElse("")).isEqualTo("DENY");
            assertThat(send("GET", base + "/app.js", Map.of(), null).statusCode()).isEqualTo(200);

            // sign in: the bearer token buys an HttpOnly, SameSite=Strict cookie named for this port
            assertThat(send("POST", base + "/api/v1/session", Map.of(), "{}").statusCode()).isEqualTo(401);
            assertThat(send("POST", base + "/api/v1/session", Map.of("Authorization", "Bearer nope"), "{}").statusCode()).isEqualTo(401);
            HttpResponse<String> in = send("POST", base + "/api/v1/session", Map.of("Authorization", "Bearer " + token), "{}");
            assertThat(in.statusCode()).isEqualTo(204);
            String cookie = in.headers().firstValue("Set-Cookie").orElseThrow();
            assertThat(cookie).startsWith("parley_session_" + port + "=").contains("HttpOnly").contains("SameSite=Strict");
            String pair = cookie.substring(0, cookie.indexOf(';'));
            assertThat(send("GET", base + "/api/v1/status", Map.of("Cookie", pair), null).statusCode()).isEqualTo(200);
            assertThat(send("GET", base + "/api/v1/status", Map.of("Cookie", "parley_session_" + port + "=wrong"), null).statusCode())
                    .isEqualTo(401);
            // another origin's page cannot use it, even with the cookie
            HttpResponse<String> cross = send("POST", base + "/api/v1/messages",
                    Map.of("Cookie", pair, "Origin", "http://evil.example", "Content-Type", "application/json"),
                    "{\"to\":\"bob\",\"text\":\"x\"}");
            assertThat(cross.statusCode()).isEqualTo(403);
            // a rebound DNS name pointing at loopback is refused
            assertThat(raw(port, "GET /api/v1/status HTTP/1.1\r\nHost: evil.example:" + port + "\r\nAuthorization: Bearer "
                    + token + "\r\nConnection: close\r\n\r\n")).contains(" 403");
            assertThat(raw(port, "GET / HTTP/1.1\r\nHost: localhost:" + port + "\r\nConnection: close\r\n\r\n")).contains(" 200");
            // sign out clears the cookie
            HttpResponse<String> out = send("DELETE", base + "/api/v1/session", Map.of("Cookie", pair), null);
            assertThat(out.statusCode()).isEqualTo(204);
            assertThat(out.headers().firstValue("Set-Cookie").orElse("")).contains("Max-Age=0");
            // garbage does not hurt the daemon
            assertThat(raw(port, "\u0001\u0002garbage\r\n\r\n")).isNotNull();
            assertThat(send("GET", base + "/api/v1/status", Map.of("Authorization", "Bearer " + token), null).statusCode()).isEqualTo(200);
        }
    }

    /** Collects the stream's messages. */
    private static final class Stream implements WebSocket.Listener {
        final List<JsonNode> got = new CopyOnWriteArrayList<>();
        private final StringBuilder part = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            part.append(data);
            if (last) {
                try {
                    got.add(JSON.readTree(part.toString()));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                part.setLength(0);
            }
            ws.request(1);
            return null;
        }

        boolean has(String type, String field, String value) {
            return got.stream().anyMatch(n -> n.path("type").asText().equals(type) && n.path(field).asText().equals(value));
        }

        JsonNode lastStatus() {
            JsonNode s = null;
            for (JsonNode n : got) if (n.path("type").asText().equals("status")) s = n;
            return s;
        }
    }

    private WebSocket stream(JsonNode api, Stream listener) throws Exception {
        return http.newWebSocketBuilder().header("Authorization", "Bearer " + api.path("token").asText())
                .buildAsync(URI.create(api.path("url").asText().replace("http://", "ws://") + "/api/v1/stream"), listener)
                .get(10, TimeUnit.SECONDS);
    }

    @Test
    void eventStreamContactsAndWorkingOffline() throws Exception {
        try (DemoNetwork net = DemoNetwork.start(dir, List.of("alice", "bob"), true)) {
            assertThat(net.awaitAttached(Duration.ofSeconds(20))).isTrue();
            JsonNode aliceApi = apiFile(net.home("alice")), bobApi = apiFile(net.home("bob"));
            DaemonClient alice = DaemonClient.connect(net.home("alice")), bob = DaemonClient.connect(net.home("bob"));

            // no token, no stream
            Stream rejected = new Stream();
            assertThat(http.newWebSocketBuilder().buildAsync(URI.create(aliceApi.path("url").asText().replace("http://", "ws://")
                    + "/api/v1/stream"), rejected).handle((w, t) -> t).get(10, TimeUnit.SECONDS)).isNotNull();

            Stream a = new Stream(), b = new Stream();
            WebSocket wa = stream(aliceApi, a), wb = stream(bobApi, b);
            await().atMost(Duration.ofSeconds(5)).until(() -> a.has("hello", "user", "alice") && a.lastStatus() != null);
            assertThat(a.lastStatus().path("linkState").asText()).isEqualTo("attached");
            wa.sendText("{\"type\":\"ping\"}", true);
            await().atMost(Duration.ofSeconds(5)).until(() -> a.has("pong", "type", "pong"));

            // contacts: bob is online; presence changes arrive on the stream
            JsonNode c = alice.post("/api/v1/contacts", Map.of("user", "bob"));
            assertThat(c.path("user").asText()).isEqualTo("bob");
            assertThat(c.path("added").asBoolean()).isTrue();
            await().atMost(Duration.ofSeconds(10)).until(() -> alice.get("/api/v1/contacts").get(0).path("presence").asText().equals("online"));
            bob.post("/api/v1/presence", Map.of("presence", "away"));
            await().atMost(Duration.ofSeconds(10)).until(() -> a.has("presence", "presence", "away"));
            assertThat(alice.get("/api/v1/contacts").get(0).path("presence").asText()).isEqualTo("away");
            bob.post("/api/v1/presence", Map.of("presence", "online"));

            // a 1:1 conversation opened from the contact list, a message, live on both streams, delivered
            JsonNode dm = alice.post("/api/v1/chats/direct", Map.of("user", "bob"));
            assertThat(dm.path("kind").asText()).isEqualTo("direct");
            assertThat(dm.path("name").asText()).isEqualTo("bob");
            assertThat(alice.get("/api/v1/chats/" + dm.path("id").asText()).path("id").asText()).isEqualTo(dm.path("id").asText());
            JsonNode sent = alice.post("/api/v1/chats/" + dm.path("id").asText() + "/events", Map.of("kind", "message", "text", "hi bob"));
            String id = sent.path("id").asText();
            await().atMost(Duration.ofSeconds(10)).until(() -> a.got.stream().anyMatch(n -> n.path("id").asText().equals(id)
                    && n.path("own").asBoolean()));
            await().atMost(Duration.ofSeconds(20)).until(() -> b.got.stream().anyMatch(n -> n.path("id").asText().equals(id)
                    && !n.path("own").asBoolean() && n.path("author").asText().equals("alice") && n.path("kind").asText().equals("message")));
            await().atMost(Duration.ofSeconds(20)).until(() -> a.has("delivered", "user", "bob"));
            // bob reads it: alice's line shows readBy bob
            bob.post("/api/v1/chats/" + dm.path("id").asText() + "/events", Map.of("kind", "read"));
            await().atMost(Duration.ofSeconds(20)).until(() -> {
                for (JsonNode l : alice.get("/api/v1/chats/" + dm.path("id").asText() + "/events")) {
                    if (l.path("id").asText().equals(id)) return l.path("readBy").toString().contains("bob");
                }
                return false;
            });

            // bob works offline: his stream says so, alice sees him go offline, his writes queue
            bob.post("/api/v1/connection", Map.of("online", false));
            await().atMost(Duration.ofSeconds(5)).until(() -> b.lastStatus() != null && b.lastStatus().path("linkState").asText().equals("offline")
                    && !b.lastStatus().path("online").asBoolean());
            assertThat(bob.get("/api/v1/status").path("sessions")).isEmpty();
            await().atMost(Duration.ofSeconds(20)).until(() -> a.has("presence", "presence", "offline"));
            bob.post("/api/v1/chats/" + dm.path("id").asText() + "/events", Map.of("kind", "message", "text", "written offline"));
            alice.post("/api/v1/chats/" + dm.path("id").asText() + "/events", Map.of("kind", "message", "text", "while you were away"));
            await().atMost(Duration.ofSeconds(5)).until(() -> b.lastStatus().path("queued").asInt() >= 1);
            Thread.sleep(1500); // stays offline: nothing arrives
            assertThat(texts(bob, dm)).doesNotContain("while you were away");
            // back online: both directions catch up, the queue drains
            bob.post("/api/v1/connection", Map.of("online", true));
            await().atMost(Duration.ofSeconds(30)).until(() -> texts(bob, dm).contains("while you were away")
                    && texts(alice, dm).contains("written offline"));
            await().atMost(Duration.ofSeconds(30)).until(() -> b.lastStatus().path("queued").asInt() == 0
                    && b.lastStatus().path("linkState").asText().equals("attached"));
            assertThat(texts(bob, dm)).isEqualTo(texts(alice, dm));
            wa.abort();
            wb.abort();
        }
    }

    private static List<String> texts(DaemonClient d, JsonNode conv) throws Exception {
        List<String> out = new ArrayList<>();
        for (JsonNode l : d.get("/api/v1/chats/" + conv.path("id").asText() + "/events")) {
            if (l.path("kind").asText().equals("message")) out.add(l.path("text").asText());
        }
        return out;
    }
}
