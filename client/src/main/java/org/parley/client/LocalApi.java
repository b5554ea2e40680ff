package org.parley.client;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
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
 * The daemon's local HTTP API on 127.0.0.1, guarded by a random bearer token that is written with the
 * port to HOME/api.json (mode 0600). Paths are in {@link #PATHS}; docs/protocol.md describes them.
 */
public final class LocalApi implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LocalApi.class);
    public static final String API_FILE = "api.json";
    public static final String PATHS = """
            GET  /api/v1/status                      daemon, supernode link, sessions, queue
            POST /api/v1/messages {to, text}         store + queue a 1:1 message -> 201 message
            GET  /api/v1/messages?with=USER&limit=N  conversation history in display order
            GET  /api/v1/chats                       conversations (1:1 and groups): id, kind, name, members, unread
            POST /api/v1/chats {name, members}       create a group -> 201 conversation
            POST /api/v1/chats/sync                  reconcile every conversation with the connected devices now
            GET  /api/v1/chats/{id}/events?limit=N   history in display order (edits, deletes, reactions applied)
            POST /api/v1/chats/{id}/events {kind, text?, target?, users?}
                                                     message | edit | delete | reaction | add | remove | leave |
                                                     rename | read -> 201 event
            POST /api/v1/presence {presence}         online | away | busy | invisible
            POST /api/v1/shutdown                    stop the daemon""";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Javalin app;
    private final Path apiFile;
    private final Runnable onShutdown;

    private LocalApi(Javalin app, Path apiFile, Runnable onShutdown) {
        this.app = app;
        this.apiFile = apiFile;
        this.onShutdown = onShutdown;
    }

    private record ApiError(int status, String code, String message) {}

    private static final class ApiException extends RuntimeException {
        final ApiError error;

        ApiException(int status, String code, String message) {
            super(message);
            this.error = new ApiError(status, code, message);
        }
    }

    public static LocalApi start(ClientDaemon daemon, int port, Runnable onShutdown) throws IOException {
        String token = Keys.randomToken(32);
        byte[] tokenBytes = token.getBytes(StandardCharsets.US_ASCII);
        Javalin app = Javalin.create(cfg -> {
            cfg.showJavalinBanner = false;
            cfg.startupWatcherEnabled = false;
            cfg.http.maxRequestSize = 1024 * 1024L; // larger texts get a JSON 413 naming the limit
        });
        app.before("/api/*", ctx -> {
            String h = ctx.header("Authorization");
            byte[] given = h != null && h.startsWith("Bearer ") ? h.substring(7).getBytes(StandardCharsets.US_ASCII) : new byte[0];
            if (!MessageDigest.isEqual(given, tokenBytes)) {
                throw new ApiException(401, "unauthorized", "missing or wrong API token (see api.json in the client home)");
            }
        });
        app.get("/api/v1/status", ctx -> ctx.json(daemon.status()));
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
            if (ctx.result() == null || ctx.result().isEmpty()) error(ctx, new ApiError(404, "not_found", "no such API path"));
        });
        try {
            app.start("127.0.0.1", port);
        } catch (RuntimeException e) {
            throw new IOException("cannot start the local API on 127.0.0.1:" + port + ": address already in use");
        }
        Path apiFile = daemon.home().resolve(API_FILE);
        ObjectNode n = JSON.createObjectNode();
        n.put("url", "http://127.0.0.1:" + app.port());
        n.put("port", app.port());
        n.put("token", token);
        n.put("pid", ProcessHandle.current().pid());
        n.put("user", daemon.user());
        Keys.writeSecret(apiFile, n.toString().getBytes(StandardCharsets.UTF_8));
        return new LocalApi(app, apiFile, onShutdown);
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
        app.stop();
    }
}
