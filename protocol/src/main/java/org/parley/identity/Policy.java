package org.parley.identity;

/**
 * Account policy bound into a device certificate by the login server and enforced offline by peers.
 *
 * @param plan             commercial plan name (informational; "free" by default)
 * @param minClientVersion lowest client protocol version the network accepts
 * @param allowedHours     UTC hours during which the device may attach, "HH-HH" (default "00-24")
 * @param bandwidthClass   "normal" or "low" (low-bandwidth mode for thin links)
 */
public record Policy(String plan, int minClientVersion, String allowedHours, String bandwidthClass) {
    public static final Policy DEFAULT = new Policy("free", 1, "00-24", "normal");

    public Policy {
        if (plan == null || plan.isBlank()) throw new IllegalArgumentException("policy plan is empty");
        if (minClientVersion < 0) throw new IllegalArgumentException("policy minClientVersion is negative");
        if (allowedHours == null || !allowedHours.matches("([01][0-9]|2[0-4])-([01][0-9]|2[0-4])")) {
            throw new IllegalArgumentException("policy allowedHours must look like 08-18");
        }
        if (!"normal".equals(bandwidthClass) && !"low".equals(bandwidthClass)) {
            throw new IllegalArgumentException("policy bandwidthClass must be normal or low");
        }
    }

    /** True if a device may be attached at the given UTC hour (0-23). */
    public boolean allowsHour(int hour) {
        int from = Integer.parseInt(allowedHours.substring(0, 2)) % 24;
        int to = Integer.parseInt(allowedHours.substring(3, 5)) % 24;
        if (from == to) return true; // "00-00" style windows mean the whole day
        return from < to ? hour >= from && hour < to : hour >= from || hour < to;
    }
}
