package org.parley.client;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.websocket.WsConfig;
import io.javalin.websocket.WsContext;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local API's WebSocket event stream ({@code /api/v1/stream}): the daemon's {@link ClientDaemon.Event}s and
 * changes of the connection state, as JSON text messages (docs/openapi.yaml lists them). Each socket has its own
 * bounded queue and sender thread, so a slow browser never holds up the daemon; one that falls
 * {@link #QUEUE} messages behind is disconnected and refetches when it reconnects.
 */
final class EventStream implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EventStream.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final int QUEUE = 2048;
    private static final String STOP = "";

    private final ClientDaemon daemon;
    private final Map<WsContext, BlockingQueue<String>> sockets = new ConcurrentHashMap<>();
    private final ScheduledExecutorService poller = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "api-stream-status");
        t.setDaemon(true);
        return t;
    });
    private final Consumer<ClientDaemon.Event> listener = this::onEvent;
    private volatile String lastStatus = "";

    EventStream(ClientDaemon daemon) {
        this.daemon = daemon;
    }

    void start() {
        daemon.addListener(listener);
        poller.scheduleWithFixedDelay(this::pollStatus, 500, 500, TimeUnit.MILLISECONDS);
    }

    void configure(WsConfig ws) {
        ws.onConnect(ctx -> {
            ctx.session.setIdleTimeout(java.time.Duration.ofMinutes(10));
            BlockingQueue<String> q = new ArrayBlockingQueue<>(QUEUE);
            ObjectNode hello = JSON.createObjectNode().put("type", "hello").put("user", daemon.user());
            q.offer(hello.toString()); // hello first, before any event can be queued for this socket
            q.offer(statusMessage());
            sockets.put(ctx, q);
            Thread.ofVirtual().name("api-stream").start(() -> drain(ctx, q));
        });
        ws.onMessage(ctx -> {
            String type;
            try {
                type = JSON.readTree(ctx.message()).path("type").asText("");
            } catch (Exception e) {
                type = "";
            }
            BlockingQueue<String> q = sockets.get(ctx);
            if (q == null) return;
            if (type.equals("ping")) q.offer("{\"type\":\"pong\"}");
            else q.offer(JSON.createObjectNode().put("type", "error").put("message", "unknown message; send {\"type\":\"ping\"}").toString());
        });
        ws.onClose(ctx -> stop(ctx));
        ws.onError(ctx -> stop(ctx));
    }

    private void stop(WsContext ctx) {
        BlockingQueue<String> q = sockets.remove(ctx);
        if (q != null) {
            q.clear();
            q.offer(STOP);
        }
    }

    private void drain(WsContext ctx, BlockingQueue<String> q) {
        try {
            while (true) {
                String m = q.take();
                if (m == STOP) return;
                ctx.send(m);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.debug("event stream socket failed: {}", e.toString());
            stop(ctx);
        }
    }

    private void broadcast(String m) {
        for (Map.Entry<WsContext, BlockingQueue<String>> e : sockets.entrySet()) {
            if (!e.getValue().offer(m)) {
                log.info("event stream client fell {} messages behind; closing it", QUEUE);
                try {
                    e.getKey().closeSession(1013, "too slow: reconnect and refetch");
                } catch (RuntimeException ignored) {
                    // closing anyway
                }
                stop(e.getKey());
            }
        }
    }

    private void onEvent(ClientDaemon.Event e) {
        if (sockets.isEmpty()) return;
        ObjectNode n = JSON.createObjectNode();
        switch (e) {
            case ClientDaemon.Event.Stored s -> n.put("type", "event").put("conversation", s.conversation()).put("id", s.id())
                    .put("kind", s.kind()).put("author", s.author()).put("own", s.own());
            case ClientDaemon.Event.Delivered d -> n.put("type", "delivered").put("user", d.user());
            case ClientDaemon.Event.Presence p -> n.put("type", "presence").put("user", p.user()).put("presence", p.presence());
            case ClientDaemon.Event.CallChanged c -> n.put("type", "call").set("call", JSON.valueToTree(c.call()));
        }
        broadcast(n.toString());
    }

    private String statusMessage() {
        ClientDaemon.LinkSummary l = daemon.linkSummary();
        return JSON.createObjectNode().put("type", "status").put("online", l.online()).put("linkState", l.linkState())
                .put("queued", l.queued()).toString();
    }

    private void pollStatus() {
        if (sockets.isEmpty()) return; // the queued count is a query: only while someone listens
        try {
            String m = statusMessage();
            if (!m.equals(lastStatus)) {
                lastStatus = m;
                broadcast(m);
            }
        } catch (RuntimeException e) {
            log.debug("status poll failed: {}", e.toString());
        }
    }

    @Override
    public void close() {
        daemon.removeListener(listener);
        poller.shutdownNow();
        for (WsContext c : sockets.keySet()) {
            try {
                c.closeSession(1001, "daemon stopping");
            } catch (RuntimeException ignored) {
                // closing anyway
            }
            stop(c);
        }
    }
}
