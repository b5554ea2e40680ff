package org.parley.client;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.staticfiles.Location;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.parley.chat.StoredEvent;
import org.parley.protocol.ChatEvent;
import org.parley.identity.Keys;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's local HTTP API and web UI on 127.0.0.1. The API is guarded by a random token written with the port
 * to HOME/api.json (mode 0600): sent as a bearer token, or as the HttpOnly session cookie that
 * {@code POST /api/v1/session} sets for the browser UI. Requests must name this address in their Host header (no DNS
 * rebinding) and, when they carry an Origin, come from it. Paths are in {@link #PATHS}; docs/openapi.yaml is the
 * full description (also served at /api/v1/openapi.yaml) and docs/protocol.md section 8 the summary.
 */
public final class LocalApi implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LocalApi.class);
    public static final String API_FILE = "api.json";
    public static final String PATHS = """
            GET  /                                   the web UI (static; it signs in with the token)
            POST /api/v1/session                     (bearer token) set the UI's session cookie -> 204
            DELETE /api/v1/session                   clear the session cookie -> 204
            GET  /api/v1/openapi.yaml                this API described in OpenAPI 3.1
            GET  /api/v1/stream                      WebSocket event stream: event, delivered, presence, status
            GET  /api/v1/status                      daemon, supernode link, sessions, queue
            POST /api/v1/connection {online}         work offline (false) or online again (true)
            GET  /api/v1/contacts                    contacts with presence
            POST /api/v1/contacts {user}             add a contact -> 201 contact
            DELETE /api/v1/contacts/{user}           remove an added contact -> 204
            POST /api/v1/messages {to, text}         store + queue a 1:1 message -> 201 message
            GET  /api/v1/messages?with=USER&limit=N  conversation history in display order
            GET  /api/v1/chats                       conversations (1:1 and groups): id, kind, name, members, unread
            POST /api/v1/chats {name, members}       create a group -> 201 conversation
            POST /api/v1/chats/direct {user}         the 1:1 conversation with user (created if needed)
            GET  /api/v1/chats/{id}                  one conversation
            POST /api/v1/chats/sync                  reconcile every conversation with the connected devices now
            GET  /api/v1/chats/{id}/events?limit=N   history in display order (edits, deletes, reactions applied)
            POST /api/v1/chats/{id}/events {kind, text?, target?, users?}
                                                     message | edit | delete | reaction | add | remove | leave |
                                                     rename | read -> 201 event
            GET  /api/v1/calls                       calls of this device with their reports (path, RTT, jitter, loss...)
            POST /api/v1/calls {to, play?, record?, durationSeconds?, lowBandwidth?}
                                                     call a user: every online device rings -> 201 call
            GET  /api/v1/calls/{id}                  one call
            POST /api/v1/calls/{id}/answer {play?, record?, durationSeconds?}
                                                     answer a ringing call ({id} "ringing": the one ringing now)
            POST /api/v1/calls/{id}/reject           decline a ringing call
            POST /api/v1/calls/{id}/hangup           end a call in any state ({id} "current": the current call)
            POST /api/v1/presence {presence}         online | away | busy | invisible
            POST /api/v1/shutdown                    stop the daemon""";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Javalin app;
    private final Path apiFile;
    private final Runnable onShutdown;
    private final EventStream stream;
    private final String token;

    private LocalApi(Javalin app, Path apiFile, Runnable onShutdown, EventStream stream, String token) {
        this.app = app;
        this.apiFile = apiFile;
        this.onShutdown = onShutdown;
        this.stream = stream;
        this.token = token;
    }

    /** The web UI's address with the token in the fragment (never sent to the server, dropped by the UI). */
    public String uiUrl() {
        return "http://127.0.0.1:" + app.port() + "/#token=" + token;
    }

    private record ApiError(int status, String code, String message) {}

    private static final class ApiException extends RuntimeException {
        final ApiError error;

        ApiException(int status, String code, String message) {
            super(message);
            this.error = new ApiError(status, code, message);
        }
    }

    /** The session cookie's name: per port, because browsers share cookies between the ports of one host. */
    static String cookieName(int port) {
        return "parley_session_" + port;
    }

    public static LocalApi start(ClientDaemon daemon, int port, Runnable onShutdown) throws IOException {
        String token = Keys.randomToken(32);
        byte[] tokenBytes = token.getBytes(StandardCharsets.US_ASCII);
        EventStream stream = new EventStream(daemon);
        Javalin app = Javalin.create(cfg -> {
            cfg.showJavalinBanner = false;
            cfg.startupWatcherEnabled = false;
            cfg.http.maxRequestSize = 1024 * 1024L; // larger texts get a JSON 413 naming the limit
            cfg.staticFiles.add(sf -> {
                sf.hostedPath = "/";
                sf.directory = "/org/parley/client/web";
                sf.location = Location.CLASSPATH;
                sf.headers = Map.of("Cache-Control", "no-cache", "X-Frame-Options", "DENY",
                        "X-Content-Type-Options", "nosniff", "Referrer-Policy", "no-referrer",
                        "Content-Security-Policy", "default-src 'self'; connect-src 'self'; img-src 'self' data:; "
                                + "frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
            });
        });
        int[] boundPort = {0};
        // every request, UI or API: it must be addressed to this loopback port by name (no DNS rebinding), and a
        // browser request must come from the UI's own origin
        app.before(ctx -> {
            String host = ctx.header("Host");
            int p = boundPort[0];
            if (host == null || !(host.equals("127.0.0.1:" + p) || host.equals("localhost:" + p) || host.equals("[::1]:" + p))) {
                throw new ApiException(403, "forbidden", "requests must be addressed to 127.0.0.1:" + p);
            }
            String origin = ctx.header("Origin");
            if (origin != null && !origin.equals("http://" + host)) {
                throw new ApiException(403, "forbidden", "cross-origin requests are not allowed");
            }
        });
        java.util.function.Predicate<Context> authorized = ctx -> {
            String h = ctx.header("Authorization");
            byte[] given = h != null && h.startsWith("Bearer ") ? h.substring(7).getBytes(StandardCharsets.US_ASCII) : null;
            if (given == null) {
                String c = ctx.cookie(cookieName(boundPort[0]));
                given = c == null ? null : c.getBytes(StandardCharsets.US_ASCII);
            }
            return given != null && MessageDigest.isEqual(given, tokenBytes);
        };
        app.before("/api/*", ctx -> {
            if (ctx.path().equals("/api/v1/stream")) return; // checked before the upgrade below
            if (!authorized.test(ctx)) {
                throw new ApiException(401, "unauthorized", "missing or wrong API token (see api.json in the client home)");
            }
        });
        app.wsBeforeUpgrade("/api/v1/stream", ctx -> {
            String host = ctx.header("Host");
            String origin = ctx.header("Origin");
            if (origin != null && !origin.equals("http://" + host)) {
                throw new ApiException(403, "forbidden", "cross-origin requests are not allowed");
            }
            if (!authorized.test(ctx)) {
                throw new ApiException(401, "unauthorized", "missing or wrong API token (see api.json in the client home)");
            }
        });
        app.ws("/api/v1/stream", stream::configure);
        app.post("/api/v1/session", ctx -> {
            String h = ctx.header("Authorization");
            if (h == null || !h.startsWith("Bearer ")) {
                throw new ApiException(400, "bad_request", "send the token as 'Authorization: Bearer TOKEN' to sign in");
            }
            ctx.header("Set-Cookie", cookieName(boundPort[0]) + "=" + token + "; Path=/; HttpOnly; SameSite=Strict");
            ctx.status(204);
        });
        app.delete("/api/v1/session", ctx -> {
            ctx.header("Set-Cookie", cookieName(boundPort[0]) + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
            ctx.status(204);
        });
        app.get("/api/v1/openapi.yaml", ctx -> {
            try (var in = LocalApi.class.getResourceAsStream("/org/parley/client/openapi.yaml")) {
                if (in == null) throw new ApiException(404, "not_found", "this build has no openapi.yaml");
                ctx.contentType("application/yaml").result(in.readAllBytes());
            }
        });
        app.get("/api/v1/status", ctx -> ctx.json(daemon.status()));
        app.post("/api/v1/connection", ctx -> {
            Object on = body(ctx).get("online");
            if (!(on instanceof Boolean b)) throw new ApiException(400, "bad_request", "field 'online' (true or false) is required");
            daemon.setOnline(b);
            ctx.json(Map.of("online", daemon.online(), "linkState", daemon.status().linkState()));
        });
        app.get("/api/v1/contacts", ctx -> ctx.json(daemon.contacts()));
        app.post("/api/v1/contacts", ctx -> ctx.status(201).json(daemon.addContact(str(body(ctx), "user"))));
        app.delete("/api/v1/contacts/{user}", ctx -> {
            daemon.removeContact(ctx.pathParam("user"));
            ctx.status(204);
        });
        app.post("/api/v1/messages", ctx -> {
            Map<String, Object> body = body(ctx);
            String to = str(body, "to");
            String text = str(body, "text");
            ctx.status(201).json(daemon.send(to, text));
        });
        app.get("/api/v1/messages", ctx -> {
            String with = ctx.queryParam("with");
            if (with == null) throw new ApiException(400, "bad_request", "query parameter 'with' is required");
            ctx.json(daemon.history(with, limit(ctx, 1000)));
        });
        app.get("/api/v1/chats", ctx -> ctx.json(daemon.chatList()));
        app.post("/api/v1/chats", ctx -> {
            Map<String, Object> body = body(ctx);
            ctx.status(201).json(daemon.chatCreate(str(body, "name"), strs(body, "members")));
        });
        app.post("/api/v1/chats/sync", ctx -> {
            daemon.syncNow();
            ctx.status(202).json(Map.of("syncing", true));
        });
        app.post("/api/v1/chats/direct", ctx -> ctx.json(daemon.chatDirect(str(body(ctx), "user"))));
        app.get("/api/v1/chats/{id}", ctx -> ctx.json(daemon.chatSummary(ctx.pathParam("id"))));
        app.get("/api/v1/chats/{id}/events", ctx -> ctx.json(daemon.chatHistory(ctx.pathParam("id"), limit(ctx, 1000))));
        app.post("/api/v1/chats/{id}/events", ctx -> {
            Map<String, Object> body = body(ctx);
            ChatEvent.Kind kind = switch (str(body, "kind")) {
                case "message" -> ChatEvent.Kind.MESSAGE;
                case "edit" -> ChatEvent.Kind.EDIT;
                case "delete" -> ChatEvent.Kind.DELETE;
                case "reaction" -> ChatEvent.Kind.REACTION;
                case "add" -> ChatEvent.Kind.ADD;
                case "remove" -> ChatEvent.Kind.REMOVE;
                case "leave" -> ChatEvent.Kind.LEAVE;
                case "rename" -> ChatEvent.Kind.RENAME;
                case "read" -> ChatEvent.Kind.READ;
                default -> throw new ApiException(400, "bad_request",
                        "kind must be message, edit, delete, reaction, add, remove, leave, rename or read");
            };
            Object t = body.get("target");
            if (t != null && !(t instanceof String)) throw new ApiException(400, "bad_request", "field 'target' must be a string");
            Object text = body.get("text");
            if (text != null && !(text instanceof String)) throw new ApiException(400, "bad_request", "field 'text' must be a string");
            StoredEvent e = daemon.chatPost(ctx.pathParam("id"), kind, (String) t,
                    body.containsKey("users") ? strs(body, "users") : List.of(), (String) text);
            ctx.status(201).json(Map.of("id", HexFormat.of().formatHex(e.id()), "conversation", HexFormat.of().formatHex(e.conversation()),
                    "kind", kind.wireName(), "hlc", e.event().hlc()));
        });
        app.get("/api/v1/calls", ctx -> ctx.json(daemon.callList()));
        app.post("/api/v1/calls", ctx -> {
            Map<String, Object> body = body(ctx);
            ctx.status(201).json(daemon.callDial(str(body, "to"), mediaOptions(body)));
        });
        app.get("/api/v1/calls/{id}", ctx -> ctx.json(daemon.callGet(ctx.pathParam("id"))));
        app.post("/api/v1/calls/{id}/answer", ctx -> {
            String id = ctx.pathParam("id");
            ctx.json(daemon.callAnswer(id.equals("ringing") ? null : id, mediaOptions(body(ctx))));
        });
        app.post("/api/v1/calls/{id}/reject", ctx -> ctx.json(daemon.callReject(ctx.pathParam("id"))));
        app.post("/api/v1/calls/{id}/hangup", ctx -> {
            String id = ctx.pathParam("id");
            ctx.json(daemon.callHangup(id.equals("current") ? null : id));
        });
        app.post("/api/v1/presence", ctx -> {
            daemon.setPresence(str(body(ctx), "presence"));
            ctx.json(Map.of("presence", daemon.status().presence()));
        });
        app.post("/api/v1/shutdown", ctx -> {
            ctx.json(Map.of("stopping", true));
            Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException ignored) {
                    // stop now
                }
                onShutdown.run();
            });
        });
        app.exception(ApiException.class, (e, ctx) -> error(ctx, e.error));
        app.exception(ClientDaemon.BadRequest.class, (e, ctx) -> {
            int status = e.getMessage().contains("the limit is") ? 413 : 400;
            error(ctx, new ApiError(status, status == 413 ? "too_large" : "bad_request", e.getMessage()));
        });
        app.exception(Exception.class, (e, ctx) -> {
            log.warn("local API error on {}: {}", ctx.path(), e.toString(), e);
            error(ctx, new ApiError(500, "internal", "internal error: " + e.getClass().getSimpleName()));
        });
        app.error(404, ctx -> {
            String r = ctx.result();
            if (r == null || r.isEmpty() || r.startsWith("Endpoint ")) error(ctx, new ApiError(404, "not_found", "no such path"));
        });
        try {
            app.start("127.0.0.1", port);
        } catch (RuntimeException e) {
            boolean inUse = false;
            for (Throwable t = e; t != null; t = t.getCause()) inUse |= t instanceof java.net.BindException;
            if (!inUse) log.warn("local API start failed", e);
            throw new IOException("cannot start the local API on 127.0.0.1:" + port + ": "
                    + (inUse ? "address already in use" : e.getMessage()));
        }
        boundPort[0] = app.port();
        stream.start();
        Path apiFile = daemon.home().resolve(API_FILE);
        ObjectNode n = JSON.createObjectNode();
        n.put("url", "http://127.0.0.1:" + app.port());
        n.put("port", app.port());
        n.put("token", token);
        n.put("pid", ProcessHandle.current().pid());
        n.put("user", daemon.user());
        n.put("ui", "http://127.0.0.1:" + app.port() + "/#token=" + token);
        Keys.writeSecret(apiFile, n.toString().getBytes(StandardCharsets.UTF_8));
        return new LocalApi(app, apiFile, onShutdown, stream, token);
    }

    private static void error(Context ctx, ApiError e) {
        ctx.status(e.status()).json(Map.of("error", e.code(), "message", e.message()));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> body(Context ctx) {
        try {
            Object o = JSON.readValue(ctx.body(), Object.class);
            if (o instanceof Map<?, ?> m) return (Map<String, Object>) m;
        } catch (IOException e) {
            // fall through
        }
        throw new ApiException(400, "bad_request", "request body must be a JSON object");
    }

    /** play/record: absolute WAV paths the daemon reads/writes; durationSeconds: hang up after; lowBandwidth. */
    private static Calls.MediaOptions mediaOptions(Map<String, Object> body) {
        Path play = path(body, "play"), record = path(body, "record");
        if (play != null && !Files.isRegularFile(play)) throw new ApiException(400, "bad_request", "no WAV file " + play);
        Object d = body.getOrDefault("durationSeconds", 0);
        if (!(d instanceof Integer secs) || secs < 0 || secs > 86_400) {
            throw new ApiException(400, "bad_request", "durationSeconds must be a whole number from 0 to 86400");
        }
        Object low = body.getOrDefault("lowBandwidth", false);
        if (!(low instanceof Boolean lb)) throw new ApiException(400, "bad_request", "lowBandwidth must be true or false");
        return new Calls.MediaOptions(play, record, secs, lb);
    }

    private static Path path(Map<String, Object> body, String field) {
        Object v = body.get(field);
        if (v == null) return null;
        if (!(v instanceof String s) || s.isBlank()) throw new ApiException(400, "bad_request", "field '" + field + "' must be a file path");
        Path p = Path.of(s);
        if (!p.isAbsolute()) throw new ApiException(400, "bad_request", "field '" + field + "' must be an absolute path");
        return p;
    }

    private static int limit(Context ctx, int dflt) {
        String l = ctx.queryParam("limit");
        if (l == null) return dflt;
        try {
            int n = Integer.parseInt(l);
            if (n < 1) throw new ApiException(400, "bad_request", "limit must be at least 1");
            return n;
        } catch (NumberFormatException e) {
            throw new ApiException(400, "bad_request", "limit must be a number");
        }
    }

    private static List<String> strs(Map<String, Object> body, String field) {
        Object v = body.get(field);
        if (!(v instanceof List<?> l) || !l.stream().allMatch(x -> x instanceof String)) {
            throw new ApiException(400, "bad_request", "field '" + field + "' (list of strings) is required");
        }
        return l.stream().map(x -> (String) x).toList();
    }

    private static String str(Map<String, Object> body, String field) {
        Object v = body.get(field);
        if (!(v instanceof String s)) throw new ApiException(400, "bad_request", "field '" + field + "' (string) is required");
        return s;
    }

    public int port() {
        return app.port();
    }

    @Override
    public void close() {
        try {
            Files.deleteIfExists(apiFile);
        } catch (IOException ignored) {
            // stale file is handled by clients
        }
        stream.close();
        app.stop();
    }
}
