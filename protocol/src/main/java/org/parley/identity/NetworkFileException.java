package org.parley.identity;

/** The network file is missing, unreadable or invalid; the message is one actionable line. */
public final class NetworkFileException extends RuntimeException {
    public NetworkFileException(String message) {
        super(message);
    }
}
