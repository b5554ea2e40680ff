package org.parley.login;

/** The login server could not start (for example its port is taken); the message is one actionable line. */
public final class StartupException extends RuntimeException {
    public StartupException(String message) {
        super(message);
    }

    public StartupException(String message, Throwable cause) {
        super(message, cause);
    }
}
