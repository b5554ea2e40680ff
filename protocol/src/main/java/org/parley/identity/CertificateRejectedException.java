package org.parley.identity;

/** A certificate failed offline verification; {@link #reason()} says why in one word, the message in one line. */
public final class CertificateRejectedException extends Exception {
    public enum Reason { FOREIGN_CA, EXPIRED, NOT_YET_VALID, MALFORMED, WRONG_USER, WRONG_ROLE, WRONG_NETWORK }

    private final Reason reason;

    public CertificateRejectedException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
