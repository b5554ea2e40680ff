package org.parley.supernode;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import org.parley.identity.HostPort;

/** A minimal HTTP endpoint serving GET /metrics in Prometheus text format. */
final class MetricsEndpoint implements AutoCloseable {
    private final HttpServer server;

    private MetricsEndpoint(HttpServer server) {
        this.server = server;
    }

    static MetricsEndpoint start(HostPort at, MeterRegistry registry) throws IOException {
        HttpServer s;
        try {
            s = HttpServer.create(new InetSocketAddress(at.host(), at.port()), 16);
        } catch (BindException e) {
            throw new BindException("cannot serve metrics on " + at + ": address already in use");
        }
        s.createContext("/metrics", ex -> {
            byte[] body = registry instanceof PrometheusMeterRegistry p
                    ? p.scrape().getBytes(StandardCharsets.UTF_8)
                    : "# metrics registry is not Prometheus\n".getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "text/plain; version=0.0.4");
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream o = ex.getResponseBody()) {
                o.write(body);
            }
        });
        s.setExecutor(Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "metrics-http");
            t.setDaemon(true);
            return t;
        }));
        s.start();
        return new MetricsEndpoint(s);
    }

    int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
