package org.parley.login;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.BindException;
import java.net.SocketException;
import java.nio.channels.UnresolvedAddressException;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Clock;
import java.util.function.Function;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.parley.identity.HostPort;
import org.parley.identity.Keys;
import org.parley.identity.LoginApi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running login server: the endpoints of {@link LoginApi} over HTTPS (TLS 1.3 only, no plain-HTTP
 * port), presenting the folder's tls.key/tls.crt, which clients pin from network.json. Closing the server
 * does not close the {@link LoginServerData}.
 */
public final class LoginServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LoginServer.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String JSON_TYPE = "application/json";
    private static final String PROMETHEUS_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    private static final int IDLE_TIMEOUT_MS = 30_000;

    private final Javalin app;
    private final HostPort listen;
    private final PrometheusMeterRegistry registry;
    private boolean closed;

    private LoginServer(Javalin app, HostPort listen, PrometheusMeterRegistry registry) {
        this.app = app;
        this.listen = listen;
        this.registry = registry;
    }

    /**
     * Starts serving; returns once the port is bound.
     *
     * @throws StartupException with a one-line message (e.g. "cannot listen on 127.0.0.1:7443: address already
     *                          in use") if the server cannot start
     */
    public static LoginServer start(LoginServerData data, LoginServerConfig cfg) {
        return start(data, cfg, Clock.systemUTC());
    }

    /** As {@link #start(LoginServerData, LoginServerConfig)} with an injected clock (certificate dates, lockouts). */
    static LoginServer start(LoginServerData data, LoginServerConfig cfg, Clock clock) {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        LoginService service = new LoginService(data, cfg, clock, registry);
        char[] storePassword = Keys.randomToken(18).toCharArray();
        KeyStore keyStore = keyStore(data, storePassword);
        HostPort listen = cfg.listen();

        Javalin app = Javalin.create(c -> {
            c.showJavalinBanner = false;
            c.startupWatcherEnabled = false;
            c.http.maxRequestSize = LoginApi.MAX_BODY_BYTES;
            c.jetty.addConnector((server, http) -> httpsConnector(server, http, keyStore, storePassword, listen));
        });
        app.post(LoginApi.LOGIN, ctx -> handle(ctx, service, LoginService.Endpoint.LOGIN,
                body -> service.login(body, ctx.ip())));
        app.post(LoginApi.RENEW, ctx -> handle(ctx, service, LoginService.Endpoint.RENEW,
                body -> service.renew(body, ctx.ip())));
        app.post(LoginApi.PROMOTE, ctx -> handle(ctx, service, LoginService.Endpoint.PROMOTE,
                body -> service.promote(body, ctx.ip())));
        app.get(LoginApi.HEALTH, ctx -> {
            ObjectNode n = JSON.createObjectNode();
            n.put("status", "ok");
            n.put("network", service.networkName());
            json(ctx, 200, n.toString());
        });
        app.get(LoginApi.METRICS, ctx -> ctx.status(200).contentType(PROMETHEUS_TYPE).result(registry.scrape()));
        app.error(404, ctx -> json(ctx, 404, error("not_found", "no such endpoint: " + ctx.method() + " " + ctx.path())));
        app.exception(Exception.class, (e, ctx) -> {
            LOG.error("{} {} failed", ctx.method(), ctx.path(), e);
            json(ctx, 500, error("server_error", "the login server failed: see its log"));
        });

        try {
            app.start();
        } catch (RuntimeException e) {
            try {
                app.stop();
            } catch (RuntimeException ignored) {
                // the start failure is what matters
            }
            throw startupFailure(listen, e);
        }
        LoginServer s = new LoginServer(app, listen, registry);
        LOG.info("login server for network '{}' listening on https://{}", service.networkName(), s.address());
        return s;
    }

    /** The bound port (the real one when the configuration asked for port 0). */
    public int port() {
        return app.port();
    }

    /** The configured listen host with the bound port. */
    public HostPort address() {
        return new HostPort(listen.host(), port());
    }

    /** Stops accepting connections; idempotent. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        try {
            app.stop();
        } catch (RuntimeException e) {
            LOG.warn("stopping the login server failed: {}", SqliteAccountStore.oneLine(e));
        }
        registry.close();
    }

    // ---------------------------------------------------------------- HTTP plumbing

    private static void handle(Context ctx, LoginService service, LoginService.Endpoint endpoint,
                               Function<byte[], LoginService.Reply> op) {
        LoginService.Reply reply;
        try {
            reply = op.apply(readBody(ctx));
        } catch (LoginService.BadRequest e) {
            reply = service.badRequest(endpoint, e.getMessage());
        } catch (RuntimeException e) {
            LOG.error("{} failed", ctx.path(), e);
            reply = service.serverError(endpoint);
        }
        switch (reply) {
            case LoginService.Issued(LoginApi.CertificateResponse r) -> {
                ctx.header("Cache-Control", "no-store");
                try {
                    json(ctx, 200, JSON.writeValueAsString(r));
                } catch (JsonProcessingException e) {
                    throw new IllegalStateException(e);
                }
            }
            case LoginService.Refused(int status, String code, String message, java.time.Duration retryAfter) -> {
                ObjectNode n = JSON.createObjectNode();
                n.put("error", code);
                n.put("message", message);
                if (retryAfter != null) {
                    n.put("retryAfterSeconds", retryAfter.toSeconds());
                    ctx.header("Retry-After", Long.toString(retryAfter.toSeconds()));
                }
                json(ctx, status, n.toString());
            }
        }
    }

    private static byte[] readBody(Context ctx) throws LoginService.BadRequest {
        String tooLarge = "request body is larger than " + LoginApi.MAX_BODY_BYTES + " bytes";
        if (ctx.req().getContentLengthLong() > LoginApi.MAX_BODY_BYTES) throw new LoginService.BadRequest(tooLarge);
        try {
            byte[] b = ctx.req().getInputStream().readNBytes(LoginApi.MAX_BODY_BYTES + 1);
            if (b.length > LoginApi.MAX_BODY_BYTES) throw new LoginService.BadRequest(tooLarge);
            return b;
        } catch (IOException e) {
            throw new LoginService.BadRequest("request body could not be read");
        }
    }

    private static void json(Context ctx, int status, String body) {
        ctx.status(status).contentType(JSON_TYPE).result(body);
    }

    private static String error(String code, String message) {
        ObjectNode n = JSON.createObjectNode();
        n.put("error", code);
        n.put("message", message);
        return n.toString();
    }

    private static ServerConnector httpsConnector(Server server, HttpConfiguration http, KeyStore keyStore,
                                                  char[] storePassword, HostPort listen) {
        SslContextFactory.Server ssl = new SslContextFactory.Server();
        ssl.setKeyStore(keyStore);
        ssl.setKeyStorePassword(new String(storePassword));
        ssl.setCertAlias("login");
        ssl.setIncludeProtocols("TLSv1.3");
        ssl.setSniRequired(false);
        ssl.setRenegotiationAllowed(false);
        http.setSecureScheme("https");
        http.setSendServerVersion(false);
        http.setSendXPoweredBy(false);
        // Clients trust the pinned key, not names: any host name (or none) is fine.
        http.addCustomizer(new SecureRequestCustomizer(false));
        ServerConnector c = new ServerConnector(server, new SslConnectionFactory(ssl, "http/1.1"),
                new HttpConnectionFactory(http));
        c.setHost(listen.host());
        c.setPort(listen.port());
        c.setIdleTimeout(IDLE_TIMEOUT_MS);
        return c;
    }

    private static KeyStore keyStore(LoginServerData data, char[] password) {
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("login", data.tlsKey(), password, new Certificate[] {data.tlsCertificate()});
            return ks;
        } catch (GeneralSecurityException | IOException e) {
            throw new StartupException("cannot load the TLS identity of " + data.dir() + ": "
                    + SqliteAccountStore.oneLine(e), e);
        }
    }

    private static StartupException startupFailure(HostPort listen, Throwable e) {
        String where = "cannot listen on " + listen;
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = String.valueOf(t.getMessage()).toLowerCase(java.util.Locale.ROOT);
            if (t instanceof UnresolvedAddressException || t instanceof java.net.UnknownHostException) {
                return new StartupException(where + ": host name '" + listen.host() + "' does not resolve", e);
            }
            if (t instanceof BindException || t instanceof SocketException) {
                if (m.contains("in use")) return new StartupException(where + ": address already in use", e);
                if (m.contains("assign")) {
                    return new StartupException(where + ": " + listen.host() + " is not an address of this host", e);
                }
                if (m.contains("permission")) {
                    return new StartupException(where + ": permission denied (ports below 1024 need privileges)", e);
                }
                return new StartupException(where + ": " + SqliteAccountStore.oneLine(t), e);
            }
        }
        return new StartupException("cannot start the login server on " + listen + ": " + SqliteAccountStore.oneLine(e), e);
    }
}
