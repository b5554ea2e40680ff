package org.parley.overlay;

/**
 * A supernode's capacity. Beyond any of these it redirects or answers "busy" with alternatives and a
 * retry-after; it never exits and never drops clients it already admitted because of load.
 *
 * @param maxClients           attached clients (default 10,000; a mega-supernode sets far more)
 * @param attachesPerSecond    new attachments per second, burst 2x (default 500): paces reconnect storms
 * @param lookupsPerSecond     client directory lookups per second, burst 2x (default 50,000)
 * @param relayBytesPerSecond  relay bandwidth (default 50 MB/s); new relay sessions are refused above it
 */
public record AdmissionConfig(int maxClients, int attachesPerSecond, int lookupsPerSecond, long relayBytesPerSecond) {
    public AdmissionConfig {
        if (maxClients < 1) throw new IllegalArgumentException("capacity must be at least 1 client");
        if (attachesPerSecond < 1) throw new IllegalArgumentException("attach rate must be at least 1 per second");
        if (lookupsPerSecond < 1) throw new IllegalArgumentException("lookup rate must be at least 1 per second");
        if (relayBytesPerSecond < 0) throw new IllegalArgumentException("relay bandwidth must not be negative");
    }

    public static AdmissionConfig defaults() {
        return new AdmissionConfig(10_000, 500, 50_000, 50_000_000L);
    }

    public AdmissionConfig withMaxClients(int n) {
        return new AdmissionConfig(n, attachesPerSecond, lookupsPerSecond, relayBytesPerSecond);
    }

    public AdmissionConfig withAttachesPerSecond(int n) {
        return new AdmissionConfig(maxClients, n, lookupsPerSecond, relayBytesPerSecond);
    }

    public AdmissionConfig withLookupsPerSecond(int n) {
        return new AdmissionConfig(maxClients, attachesPerSecond, n, relayBytesPerSecond);
    }

    public AdmissionConfig withRelayBytesPerSecond(long n) {
        return new AdmissionConfig(maxClients, attachesPerSecond, lookupsPerSecond, n);
    }
}
