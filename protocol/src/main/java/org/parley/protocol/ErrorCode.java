package org.parley.protocol;

/** Protocol error codes carried in {@link Frame.Error}. Numbers are stable wire values. */
public enum ErrorCode {
    BAD_FRAME(1), UNSUPPORTED_VERSION(2), NOT_FOUND(3), OFFLINE(4), TOO_LARGE(5), RATE_LIMITED(6),
    OVER_CAPACITY(7), UNAUTHORIZED(8), BAD_REQUEST(9), INTERNAL(10);

    public final int code;

    ErrorCode(int code) {
        this.code = code;
    }

    public static ErrorCode of(int code) {
        for (ErrorCode c : values()) if (c.code == code) return c;
        return INTERNAL;
    }
}
