package org.parley.protocol;

/** The one exception every decoder throws for bytes that are not a valid frame. */
public final class WireFormatException extends Exception {
    public WireFormatException(String message) {
        super(message, null, false, false);
    }
}
