package org.parley.protocol;

/**
 * Why a call ended or a device stopped ringing: the {@code reason} of {@link Frame.CallReject},
 * {@link Frame.CallCancel} and {@link Frame.CallHangup}, and the end reason every device reports. Unknown wire codes
 * decode to {@link #UNKNOWN} (a newer peer's reason), never to an error.
 */
public enum CallReason {
    UNKNOWN(0),
    /** The callee declined. */
    DECLINED(1),
    /** The callee device is in another call. */
    BUSY(2),
    /** Nobody answered within the ring timeout. */
    NO_ANSWER(3),
    /** The caller gave up before an answer. */
    CANCELLED(4),
    /** Another device of the callee answered first. */
    ANSWERED_ELSEWHERE(5),
    /** A connected call was ended by a user. */
    HANGUP(6),
    /** The called user has no online device. */
    OFFLINE(7),
    /** No device of the callee said it was ringing in time. */
    UNREACHABLE(8),
    /** Media or signalling failed (no path, peer gone silent). */
    FAILED(9);

    public final int code;

    CallReason(int code) {
        this.code = code;
    }

    public static CallReason of(int code) {
        for (CallReason r : values()) if (r.code == code) return r;
        return UNKNOWN;
    }

    /** Lower-case name for CLI and API output, e.g. "answered_elsewhere". */
    public String wireName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
