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
    /**
     * POST {@link RenewRequest} -> 200 {@link CertificateResponse} with role "supernode" for the same device key
     * (promotion of an eligible client to supernode duty); 401 invalid_credentials; 403 account_disabled;
     * 403 promotion_not_allowed when the network's policy does not allow it.
     */
    public static final String PROMOTE = "/v1/promote";
    /** GET -> 200 {"status":"ok","network":NAME}. */
    public static final String HEALTH = "/v1/health";
    /** GET -> Prometheus text format. */
    public static final String METRICS = "/metrics";
    /** Largest request body the server reads. */
    public static final int MAX_BODY_BYTES = 16 * 1024;
    public static final int MAX_PASSWORD_CHARS = 1024;

    private LoginApi() {}

    /**
     * @param publicKey base64 X.509 SubjectPublicKeyInfo of the device's P-256 key
     * @param proof     base64 SHA256withECDSA signature by that key over {@link #proofMessage}: proves the
     *                  caller holds the private key, so nobody can enrol (and take over) another device's key
     */
    public record LoginRequest(String user, String password, String publicKey, int clientVersion, String proof) {}

    /** The bytes a device signs to prove possession of its key at login. */
    public static byte[] proofMessage(String network, String user, String publicKeyBase64) {
        return ("parley-login-proof-v1\n" + network + "\n" + user + "\n" + publicKeyBase64)
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    /** Signs the proof of possession. */
    public static String proof(java.security.PrivateKey key, String network, String user, String publicKeyBase64) {
        try {
            java.security.Signature s = java.security.Signature.getInstance("SHA256withECDSA");
            s.initSign(key);
            s.update(proofMessage(network, user, publicKeyBase64));
            return java.util.Base64.getEncoder().encodeToString(s.sign());
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign the login proof: " + e.getMessage(), e);
        }
    }

    /** Checks a proof of possession; false for any malformed or wrong signature. */
    public static boolean verifyProof(java.security.PublicKey key, String network, String user, String publicKeyBase64,
                                      String proof) {
        try {
            java.security.Signature s = java.security.Signature.getInstance("SHA256withECDSA");
            s.initVerify(key);
            s.update(proofMessage(network, user, publicKeyBase64));
            return s.verify(java.util.Base64.getDecoder().decode(proof));
        } catch (java.security.GeneralSecurityException | IllegalArgumentException e) {
            return false;
        }
    }

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
