package org.parley.identity;

/**
 * A login or renewal failed. {@link #code()} is the login API's error code (e.g. invalid_credentials,
 * account_disabled, rate_limited, unreachable, untrusted_server, bad_request); the message is one line.
 */
public final class LoginException extends Exception {
    private final String code;
    private final long retryAfterSeconds;

    public LoginException(String code, String message, long retryAfterSeconds) {
        super(message);
        this.code = code;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public LoginException(String code, String message) {
        this(code, message, 0);
    }

    public String code() {
        return code;
    }

    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }

    /** True when retrying later may succeed (network trouble or rate limiting), false for a definite refusal. */
    public boolean transientFailure() {
        return code.equals("unreachable") || code.equals("rate_limited") || code.equals("server_error");
    }
}
