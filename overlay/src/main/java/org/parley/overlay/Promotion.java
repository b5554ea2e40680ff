package org.parley.overlay;

/**
 * When a client becomes a supernode, and back. A client is promoted only if the network's policy allows it, the
 * user opted in, it has been up for {@link PromotionPolicy#minUptimeMillis()}, supernodes other than its own
 * confirmed by dialing back that it is publicly reachable, and it has spare upstream bandwidth. It is demoted
 * when any of these stops holding for {@link PromotionPolicy#demoteAfterMillis()} (hysteresis, so that a short
 * dip does not flap). Supernode duty on a user's machine is capped: see {@link #dutyCapacity}.
 */
public final class Promotion {
    /**
     * @param networkAllows     the login server's policy for the account allows supernode duty
     * @param optedIn           the user opted in
     * @param minUptimeMillis   up this long before promotion (default 30 min)
     * @param minConfirmations  distinct supernodes that must reach it by dial-back (default 2)
     * @param minSpareKbps      spare upstream bandwidth needed (default 1,000 kbit/s)
     * @param dutyShare         share of upstream bandwidth and of one core supernode duty may use (default 0.25)
     * @param demoteAfterMillis how long a node may stop qualifying before it is demoted (default 2 min)
     */
    public record PromotionPolicy(boolean networkAllows, boolean optedIn, long minUptimeMillis, int minConfirmations,
                                  int minSpareKbps, double dutyShare, long demoteAfterMillis) {
        public PromotionPolicy {
            if (minUptimeMillis < 0 || minConfirmations < 1 || minSpareKbps < 0 || demoteAfterMillis < 0) {
                throw new IllegalArgumentException("promotion thresholds must be non-negative (at least one confirmation)");
            }
            if (!(dutyShare > 0 && dutyShare <= 1)) throw new IllegalArgumentException("duty share must be in (0, 1]");
        }

        public static PromotionPolicy defaults(boolean networkAllows, boolean optedIn) {
            return new PromotionPolicy(networkAllows, optedIn, 30 * 60_000L, 2, 1000, 0.25, 120_000L);
        }
    }

    /** What the node observes about itself. */
    public record Observation(long uptimeMillis, int dialBackConfirmations, int spareUpKbps, boolean inCall) {}

    public enum Role { CLIENT, SUPERNODE }

    private PromotionPolicy policy;
    private Role role = Role.CLIENT;
    private long notQualifyingSince = -1;
    private String reason = "not evaluated yet";

    public Promotion(PromotionPolicy policy) {
        this.policy = policy;
    }

    public Role role() {
        return role;
    }

    public PromotionPolicy policy() {
        return policy;
    }

    /**
     * Replaces the policy (the login server changed the account's policy, or the user opted in or out); the next
     * {@link #evaluate} demotes at once if duty is no longer allowed.
     */
    public void updatePolicy(PromotionPolicy policy) {
        this.policy = java.util.Objects.requireNonNull(policy);
    }

    /** Why the node has its current role (one line). */
    public String reason() {
        return reason;
    }

    /** Re-evaluates; returns the role the node should have now. */
    public Role evaluate(Observation o, long now) {
        String why = disqualifier(o);
        if (role == Role.CLIENT) {
            if (why == null) {
                role = Role.SUPERNODE;
                notQualifyingSince = -1;
                reason = "promoted: reachable, up " + o.uptimeMillis() / 60_000 + " min, " + o.spareUpKbps() + " kbit/s spare";
            } else {
                reason = why;
            }
            return role;
        }
        if (why == null) {
            notQualifyingSince = -1;
            reason = "serving as a supernode";
        } else if (!policy.networkAllows() || !policy.optedIn()) {
            role = Role.CLIENT; // policy or consent withdrawn: at once
            reason = "demoted: " + why;
        } else {
            if (notQualifyingSince < 0) notQualifyingSince = now;
            if (now - notQualifyingSince >= policy.demoteAfterMillis()) {
                role = Role.CLIENT;
                reason = "demoted: " + why;
                notQualifyingSince = -1;
            } else {
                reason = "serving as a supernode; " + why;
            }
        }
        return role;
    }

    private String disqualifier(Observation o) {
        if (!policy.networkAllows()) return "the network's policy does not allow supernode duty for this account";
        if (!policy.optedIn()) return "the user has not opted in to supernode duty";
        if (o.dialBackConfirmations() < policy.minConfirmations()) {
            return "not confirmed publicly reachable (" + o.dialBackConfirmations() + " of " + policy.minConfirmations() + " dial-backs)";
        }
        if (o.uptimeMillis() < policy.minUptimeMillis()) return "up for " + o.uptimeMillis() / 60_000 + " min, needs " + policy.minUptimeMillis() / 60_000;
        if (o.spareUpKbps() < policy.minSpareKbps()) return "only " + o.spareUpKbps() + " kbit/s spare upstream";
        return null;
    }

    /**
     * Admission limits for supernode duty on a user's machine: relay bandwidth and client counts scaled to
     * {@link PromotionPolicy#dutyShare()} of the upstream, lookups to that share of a core; while the user is in
     * a call, duty shrinks to a tenth so that it never hurts the user's own media.
     */
    public AdmissionConfig dutyCapacity(int upKbps, boolean inCall) {
        double share = policy.dutyShare() * (inCall ? 0.1 : 1.0);
        long relayBytes = (long) (upKbps * 1000L / 8 * share);
        int clients = (int) Math.max(1, Math.min(2000, upKbps * share / 2)); // ~2 kbit/s of signalling per client
        int lookups = (int) Math.max(10, 20_000 * share);
        int attaches = (int) Math.max(1, Math.min(100, clients / 10));
        return new AdmissionConfig(clients, attaches, lookups, relayBytes);
    }
}
