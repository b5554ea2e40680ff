package org.parley.identity;

/**
 * The login server's HTTPS/JSON API, shared by server and client so that paths and fields live in one
 * place. All bodies are JSON objects; errors are {@code {"error": CODE, "message": TEXT}} with the HTTP
 * status given below, and {@code retryAfterSeconds} (plus a Retry-After header) when rate limited.
 */
public final class LoginApi {
    /** POST {@link LoginRequest} -> 200 {@link CertificateResponse}; 401 invalid_credentials; 403 account_disabled; 429 rate_limited; 400 bad_request. */
    public static final String LOGIN = "/v1/login";
    /** POST {@link RenewRequest} -> 200 {@link CertificateResponse}; 401 invalid_credentials; 403 account_disabled. */
    public static final String RENEW = "/v1/renew";
    /** GET -> 200 {"status":"ok","network":NAME}. */
    public static final String HEALTH = "/v1/health";
    /** GET -> Prometheus text format. */
    public static final String METRICS = "/metrics";
    /** Largest request body the server reads. */
    public static final int MAX_BODY_BYTES = 16 * 1024;
    public static final int MAX_PASSWORD_CHARS = 1024;

    private LoginApi() {}

    /** @param publicKey base64 X.509 SubjectPublicKeyInfo of the device's P-256 key */
    public record LoginRequest(String user, String password, String publicKey, int clientVersion) {}

    public record RenewRequest(String deviceId, String refreshToken) {}

    /**
     * @param certificate  base64 DER device certificate
     * @param refreshToken secret that renews the certificate for this device key without the password
     * @param expiresAt    certificate expiry, epoch milliseconds
     */
    public record CertificateResponse(String certificate, String refreshToken, long expiresAt, String user,
                                      String role, String deviceId) {}

    public record ErrorResponse(String error, String message, Long retryAfterSeconds) {}
}
