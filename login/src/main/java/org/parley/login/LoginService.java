package org.parley.login;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.parley.identity.Keys;
import org.parley.identity.Role;
import org.parley.identity.LoginApi;
import org.parley.identity.UserNames;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The login and renewal logic behind the HTTP endpoints: request validation, rate limiting, password
 * checks, certificate issue, device records and metrics. Knows nothing about HTTP beyond status codes.
 */
final class LoginService {
    private static final Logger LOG = LoggerFactory.getLogger(LoginService.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern DEVICE_ID = Pattern.compile("[0-9a-f]{32}");
    private static final ECParameterSpec P256 = ((ECPublicKey) Keys.newDeviceKeyPair().getPublic()).getParams();
    private static final int MAX_TOKEN_CHARS = 256;
    private static final int MAX_KEY_CHARS = 1024;
    /** How long a login waits for a free Argon2 slot before answering "busy". */
    private static final long ARGON2_WAIT_SECONDS = 10;
    static final String WRONG_CREDENTIALS = "wrong user name or password";

    /** What the endpoint answers. */
    sealed interface Reply permits Issued, Refused {}

    record Issued(LoginApi.CertificateResponse response) implements Reply {}

    /** An error answer; {@code retryAfter} is set only for rate limiting. */
    record Refused(int status, String code, String message, Duration retryAfter) implements Reply {
        Refused(int status, String code, String message) {
            this(status, code, message, null);
        }
    }

    /** A request the server cannot read; the message is one line and safe to return to the client. */
    static final class BadRequest extends Exception {
        BadRequest(String message) {
            super(message, null, false, false);
        }
    }

    enum Endpoint {
        LOGIN("parley.login.attempts", "password logins by result", List.of("success", "invalid_credentials", "disabled", "client_too_old",
                "rate_limited", "bad_request", "busy", "server_error")),
        RENEW("parley.login.renewals", "refresh-token renewals by result", List.of("success", "invalid_credentials", "disabled", "revoked",
                "bad_request", "server_error")),
        PROMOTE("parley.login.promotions", "supernode certificates for promoted clients by result", List.of("success",
                "invalid_credentials", "disabled", "revoked", "not_allowed", "bad_request", "server_error"));

        final String meter;
        final String description;
        final List<String> results;

        Endpoint(String meter, String description, List<String> results) {
            this.meter = meter;
            this.description = description;
            this.results = results;
        }
    }

    private final LoginServerData data;
    private final LoginServerConfig cfg;
    private final Clock clock;
    private final RateLimiter limiter;
    private final String dummyHash = Passwords.dummyHash();
    private final Semaphore argon2Slots = new Semaphore(Math.max(2, Runtime.getRuntime().availableProcessors()));
    private final Map<Endpoint, Map<String, Counter>> counters = new EnumMap<>(Endpoint.class);
    private final Timer argon2Timer;

    LoginService(LoginServerData data, LoginServerConfig cfg, Clock clock, MeterRegistry registry) {
        this.data = data;
        this.cfg = cfg;
        this.clock = clock;
        this.limiter = new RateLimiter(clock, cfg.maxFailures(), cfg.failureWindow(), cfg.maxLockout());
        for (Endpoint e : Endpoint.values()) {
            Map<String, Counter> m = new HashMap<>();
            for (String r : e.results) m.put(r, Counter.builder(e.meter).description(e.description).tag("result", r)
                    .register(registry));
            counters.put(e, m);
        }
        this.argon2Timer = Timer.builder("parley.login.argon2")
                .description("Argon2id password verification time").register(registry);
        Gauge.builder("parley.login.ratelimit.keys", limiter, RateLimiter::size)
                .description("accounts and addresses with recent failed logins").register(registry);
    }

    String networkName() {
        return data.networkFile().name();
    }

    // ---------------------------------------------------------------- login

    Reply login(byte[] body, String remoteIp) {
        String user;
        String password;
        PublicKey key;
        int clientVersion;
        try {
            JsonNode n = object(body);
            user = text(n, "user", 64);
            password = text(n, "password", LoginApi.MAX_PASSWORD_CHARS);
            String keyText = text(n, "publicKey", MAX_KEY_CHARS);
            key = p256(keyText);
            clientVersion = nonNegativeInt(n, "clientVersion");
            String proof = text(n, "proof", 512);
            if (!LoginApi.verifyProof(key, data.networkFile().name(), user, keyText, proof)) {
                throw new BadRequest("field 'proof' is not a valid signature by the device key");
            }
            if (!UserNames.isValid(user)) UserNames.check(user);
        } catch (BadRequest | IllegalArgumentException e) {
            return badRequest(Endpoint.LOGIN, e.getMessage());
        }

        String acctKey = "acct:" + user;
        String addrKey = "addr:" + addressKey(remoteIp);
        Optional<Duration> wait = longest(limiter.blocked(acctKey), limiter.blocked(addrKey));
        if (wait.isPresent()) {
            count(Endpoint.LOGIN, "rate_limited");
            long secs = retrySeconds(wait.get());
            LOG.info("login refused (rate limited {} s): user={} addr={}", secs, user, remoteIp);
            return new Refused(429, "rate_limited", "too many failed logins: try again in " + secs + " s",
                    Duration.ofSeconds(secs));
        }

        Optional<String> hash = data.accounts().passwordHash(user);
        Boolean ok = verify(password, hash.orElse(dummyHash));
        if (ok == null) {
            count(Endpoint.LOGIN, "busy");
            return new Refused(503, "server_error", "login server is busy: try again shortly");
        }
        Optional<Account> account = ok && hash.isPresent() ? data.accounts().find(user) : Optional.empty();
        if (account.isEmpty()) {
            limiter.failure(acctKey);
            limiter.failure(addrKey);
            count(Endpoint.LOGIN, "invalid_credentials");
            LOG.info("login failed: user={} addr={}{}", user, remoteIp, hash.isPresent() ? "" : " (no such account)");
            if (limiter.blocked(acctKey).isPresent()) LOG.warn("account {} is locked after repeated failed logins", user);
            return new Refused(401, "invalid_credentials", WRONG_CREDENTIALS);
        }
        limiter.success(acctKey);
        Account a = account.get();
        if (a.disabled()) {
            count(Endpoint.LOGIN, "disabled");
            LOG.info("login refused: account {} is disabled (addr={})", user, remoteIp);
            return new Refused(403, "account_disabled", "account '" + user + "' is disabled");
        }
        if (clientVersion < a.policy().minClientVersion()) {
            count(Endpoint.LOGIN, "client_too_old");
            return new Refused(403, "client_too_old", "client version " + clientVersion
                    + " is too old: this network needs version " + a.policy().minClientVersion() + " or newer");
        }
        Instant now = clock.instant();
        String deviceId = Keys.deviceId(key);
        String refreshToken = Keys.randomToken(32);
        LoginApi.CertificateResponse r = issue(a, key, deviceId, refreshToken, now);
        data.accounts().upsertDevice(deviceId, user, key.getEncoded(), tokenHash(refreshToken), now);
        count(Endpoint.LOGIN, "success");
        LOG.info("login ok: user={} device={} addr={}", user, deviceId.substring(0, 8), remoteIp);
        return new Issued(r);
    }

    // ---------------------------------------------------------------- renew

    Reply renew(byte[] body, String remoteIp) {
        return refreshed(Endpoint.RENEW, body, remoteIp);
    }

    /**
     * A supernode certificate for a client's device key: authenticated like a renewal, allowed only when the
     * network's policy allows supernode duty ({@link LoginServerConfig#allowPromotion()}) and for user accounts.
     */
    Reply promote(byte[] body, String remoteIp) {
        return refreshed(Endpoint.PROMOTE, body, remoteIp);
    }

    private Reply refreshed(Endpoint e, byte[] body, String remoteIp) {
        String deviceId;
        String token;
        try {
            JsonNode n = object(body);
            deviceId = text(n, "deviceId", 64);
            token = text(n, "refreshToken", MAX_TOKEN_CHARS);
            if (!DEVICE_ID.matcher(deviceId).matches()) throw new BadRequest("deviceId is not 32 lower-case hex digits");
        } catch (BadRequest x) {
            return badRequest(e, x.getMessage());
        }
        String what = e == Endpoint.PROMOTE ? "promotion" : "renewal";
        String refused = "unknown device or wrong refresh token: log in with your password again";
        Optional<DeviceRow> row = data.accounts().findDevice(deviceId);
        if (row.isEmpty() || !MessageDigest.isEqual(tokenHash(token).getBytes(StandardCharsets.US_ASCII),
                row.get().refreshTokenHash().getBytes(StandardCharsets.US_ASCII))) {
            count(e, "invalid_credentials");
            LOG.info("{} failed: device={} addr={}", what, deviceId.substring(0, 8), remoteIp);
            return new Refused(401, "invalid_credentials", refused);
        }
        DeviceRow d = row.get();
        if (d.revoked()) {
            count(e, "revoked");
            LOG.info("{} refused: device {} of {} is revoked (addr={})", what, deviceId.substring(0, 8), d.user(), remoteIp);
            return new Refused(401, "invalid_credentials",
                    "this device was revoked: log in with your password again");
        }
        Optional<Account> account = data.accounts().find(d.user());
        if (account.isEmpty()) {
            count(e, "invalid_credentials");
            return new Refused(401, "invalid_credentials", refused);
        }
        Account a = account.get();
        if (a.disabled()) {
            count(e, "disabled");
            LOG.info("{} refused: account {} is disabled (device={})", what, a.user(), deviceId.substring(0, 8));
            return new Refused(403, "account_disabled", "account '" + a.user() + "' is disabled");
        }
        Role role = a.role();
        if (e == Endpoint.PROMOTE) {
            if (!cfg.allowPromotion() || a.role() != Role.USER) {
                count(e, "not_allowed");
                LOG.info("promotion refused: user={} device={} (network policy)", a.user(), deviceId.substring(0, 8));
                return new Refused(403, "promotion_not_allowed",
                        "this network's policy does not allow supernode duty for account '" + a.user() + "'");
            }
            role = Role.SUPERNODE;
        }
        Instant now = clock.instant();
        LoginApi.CertificateResponse r = issue(a, role, Keys.publicKey(d.publicKey()), deviceId, token, now);
        data.accounts().touchDevice(deviceId, now);
        count(e, "success");
        LOG.info("{} ok: user={} device={} addr={}", what, a.user(), deviceId.substring(0, 8), remoteIp);
        return new Issued(r);
    }

    // ---------------------------------------------------------------- shared

    Refused badRequest(Endpoint e, String message) {
        count(e, "bad_request");
        return new Refused(400, "bad_request", oneLine(message));
    }

    Refused serverError(Endpoint e) {
        count(e, "server_error");
        return new Refused(500, "server_error", "the login server failed: see its log");
    }

    private LoginApi.CertificateResponse issue(Account a, PublicKey key, String deviceId, String refreshToken,
                                               Instant now) {
        return issue(a, a.role(), key, deviceId, refreshToken, now);
    }

    private LoginApi.CertificateResponse issue(Account a, Role role, PublicKey key, String deviceId, String refreshToken,
                                               Instant now) {
        X509Certificate c = data.ca().issueDevice(a.user(), role, key, a.policy(), now.minusSeconds(60),
                now.plus(cfg.certificateLifetime()));
        try {
            return new LoginApi.CertificateResponse(Base64.getEncoder().encodeToString(c.getEncoded()), refreshToken,
                    c.getNotAfter().getTime(), a.user(), role.wireName(), deviceId);
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Argon2id check bounded to a few concurrent runs (each needs 19 MiB); null if no slot came free in time. */
    private Boolean verify(String password, String hash) {
        try {
            if (!argon2Slots.tryAcquire(ARGON2_WAIT_SECONDS, TimeUnit.SECONDS)) return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
        long t0 = System.nanoTime();
        try {
            return Passwords.verify(password, hash);
        } finally {
            argon2Timer.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
            argon2Slots.release();
        }
    }

    private void count(Endpoint e, String result) {
        counters.get(e).get(result).increment();
    }

    static String tokenHash(String token) {
        return HexFormat.of().formatHex(Keys.sha256(token.getBytes(StandardCharsets.UTF_8)));
    }

    private static JsonNode object(byte[] body) throws BadRequest {
        if (body == null || body.length == 0) throw new BadRequest("request body is empty: send a JSON object");
        JsonNode n;
        try {
            n = JSON.readTree(body);
        } catch (JacksonException e) {
            throw new BadRequest("request body is not valid JSON");
        } catch (java.io.IOException e) {
            throw new BadRequest("request body could not be read");
        }
        if (n == null || !n.isObject()) throw new BadRequest("request body is not a JSON object");
        return n;
    }

    private static String text(JsonNode n, String field, int maxChars) throws BadRequest {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) throw new BadRequest("field '" + field + "' is missing");
        if (!v.isTextual()) throw new BadRequest("field '" + field + "' must be a string");
        String s = v.textValue();
        if (s.isEmpty()) throw new BadRequest("field '" + field + "' is empty");
        if (s.length() > maxChars) throw new BadRequest("field '" + field + "' is longer than " + maxChars + " characters");
        return s;
    }

    private static int nonNegativeInt(JsonNode n, String field) throws BadRequest {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) throw new BadRequest("field '" + field + "' is missing");
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < 0) {
            throw new BadRequest("field '" + field + "' must be a non-negative integer");
        }
        return v.intValue();
    }

    /** Decodes base64 SPKI and requires an EC key on P-256. */
    static PublicKey p256(String base64) throws BadRequest {
        byte[] spki;
        try {
            spki = Base64.getDecoder().decode(base64);
        } catch (IllegalArgumentException e) {
            throw new BadRequest("field 'publicKey' is not base64");
        }
        PublicKey k;
        try {
            k = KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(spki));
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new BadRequest("field 'publicKey' is not an EC P-256 public key");
        }
        if (!(k instanceof ECPublicKey ec) || !sameCurve(ec.getParams(), P256)) {
            throw new BadRequest("field 'publicKey' is not an EC P-256 public key");
        }
        return k;
    }

    private static boolean sameCurve(ECParameterSpec a, ECParameterSpec b) {
        return a.getCurve().equals(b.getCurve()) && a.getOrder().equals(b.getOrder())
                && a.getGenerator().equals(b.getGenerator()) && a.getCofactor() == b.getCofactor();
    }

    /** IPv4 addresses count alone; IPv6 addresses by their /64, which one subscriber usually holds whole. */
    static String addressKey(String ip) {
        if (ip == null || ip.isEmpty()) return "unknown";
        if (ip.indexOf(':') < 0) return ip;
        try {
            InetAddress a = InetAddress.getByName(ip.startsWith("[") ? ip.substring(1, ip.length() - 1) : ip);
            if (a instanceof Inet6Address) {
                byte[] b = a.getAddress();
                return HexFormat.of().formatHex(b, 0, 8) + "::/64";
            }
            return a.getHostAddress();
        } catch (java.net.UnknownHostException | RuntimeException e) {
            return ip;
        }
    }

    private static Optional<Duration> longest(Optional<Duration> a, Optional<Duration> b) {
        if (a.isEmpty()) return b;
        if (b.isEmpty()) return a;
        return a.get().compareTo(b.get()) >= 0 ? a : b;
    }

    private static long retrySeconds(Duration d) {
        long s = (d.toMillis() + 999) / 1000;
        return Math.max(1, s);
    }

    private static String oneLine(String m) {
        if (m == null) return "bad request";
        int nl = m.indexOf('\n');
        return (nl >= 0 ? m.substring(0, nl) : m).strip();
    }
}
