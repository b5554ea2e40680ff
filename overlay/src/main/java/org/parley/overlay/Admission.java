package org.parley.overlay;

import java.util.random.RandomGenerator;

/**
 * Admission control: token buckets for attachments and lookups, a ceiling on attached clients and on relay
 * bandwidth. Pure logic; the caller passes the time. Answers are "yes" or "no + how long to wait", never
 * "shut down": a supernode under a storm keeps serving what it admitted and turns the rest away cheaply.
 */
public final class Admission {
    private final AdmissionConfig cfg;
    private final RandomGenerator rnd;
    private double attachTokens, lookupTokens;
    private long attachAt, lookupAt;
    private long redirects, busy, peakClients;

    public Admission(AdmissionConfig cfg, RandomGenerator rnd, long now) {
        this.cfg = cfg;
        this.rnd = rnd;
        this.attachTokens = cfg.attachesPerSecond();
        this.lookupTokens = cfg.lookupsPerSecond();
        this.attachAt = now;
        this.lookupAt = now;
    }

    public AdmissionConfig config() {
        return cfg;
    }

    /** May one more client attach, with {@code attached} attached now? */
    public boolean admitClient(int attached, long now) {
        if (attached >= cfg.maxClients()) {
            redirects++;
            return false;
        }
        double rate = cfg.attachesPerSecond();
        attachTokens = Math.min(rate * 2, attachTokens + (now - attachAt) * rate / 1000.0);
        attachAt = now;
        if (attachTokens < 1) {
            redirects++;
            return false;
        }
        attachTokens -= 1;
        peakClients = Math.max(peakClients, attached + 1);
        return true;
    }

    /** May one more client lookup run now? */
    public boolean allowLookup(long now) {
        double rate = cfg.lookupsPerSecond();
        lookupTokens = Math.min(rate * 2, lookupTokens + (now - lookupAt) * rate / 1000.0);
        lookupAt = now;
        if (lookupTokens < 1) {
            busy++;
            return false;
        }
        lookupTokens -= 1;
        return true;
    }

    /** May a new relay session start while the relay forwards {@code bytesPerSecondNow}? */
    public boolean allowRelay(long bytesPerSecondNow) {
        if (bytesPerSecondNow >= cfg.relayBytesPerSecond()) {
            busy++;
            return false;
        }
        return true;
    }

    /**
     * How long a turned-away client should wait before coming back here: longer the fuller we are, jittered so
     * that a storm's clients do not return in lockstep.
     */
    public int retryAfterMillis(int attached) {
        double fill = Math.min(1.0, attached / (double) cfg.maxClients());
        int base = (int) (1000 + 4000 * fill); // 1 s when pacing an empty node, 5 s when full
        return base / 2 + rnd.nextInt(base / 2 + 1);
    }

    public long redirects() {
        return redirects;
    }

    public long busy() {
        return busy;
    }

    public long peakClients() {
        return peakClients;
    }
}
