package org.parley.overlay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.parley.overlay.Promotion.Observation;
import org.parley.overlay.Promotion.PromotionPolicy;
import org.parley.overlay.Promotion.Role;

class PromotionTest {
    static final long MIN = 60_000;
    static final PromotionPolicy POLICY = PromotionPolicy.defaults(true, true); // 30 min, 2 dial-backs, 1000 kbit/s, 2 min
    static final Observation GOOD = new Observation(30 * MIN, 2, 1000, false);

    @Test
    void promotesOnlyWhenEveryConditionHolds() {
        assertThat(new Promotion(POLICY).evaluate(GOOD, 0)).isEqualTo(Role.SUPERNODE);
        Observation[] oneShort = {
                new Observation(30 * MIN - 1, 2, 1000, false),
                new Observation(30 * MIN, 1, 1000, false),
                new Observation(30 * MIN, 0, 1000, false),
                new Observation(30 * MIN, 2, 999, false),
        };
        String[] why = {"up for", "dial-backs", "dial-backs", "spare upstream"};
        for (int i = 0; i < oneShort.length; i++) {
            Promotion p = new Promotion(POLICY);
            for (long t = 0; t < 10 * MIN; t += MIN) assertThat(p.evaluate(oneShort[i], t)).isEqualTo(Role.CLIENT);
            assertThat(p.role()).isEqualTo(Role.CLIENT);
            assertThat(p.reason()).contains(why[i]).doesNotContain("\n");
        }
        Observation great = new Observation(100 * 60 * MIN, 10, 100_000, false);
        Promotion noPolicy = new Promotion(PromotionPolicy.defaults(false, true));
        assertThat(noPolicy.evaluate(great, 0)).isEqualTo(Role.CLIENT);
        assertThat(noPolicy.reason()).contains("policy");
        Promotion noConsent = new Promotion(PromotionPolicy.defaults(true, false));
        assertThat(noConsent.evaluate(great, 0)).isEqualTo(Role.CLIENT);
        assertThat(noConsent.reason()).contains("opted in");
        Promotion p = new Promotion(POLICY);
        assertThat(p.reason()).isNotBlank();
        p.evaluate(great, 0);
        assertThat(p.role()).isEqualTo(Role.SUPERNODE);
        assertThat(p.reason()).startsWith("promoted");
    }

    @Test
    void demotesOnlyAfterNotQualifyingForTheHysteresisTime() {
        Promotion p = new Promotion(POLICY);
        assertThat(p.evaluate(GOOD, 0)).isEqualTo(Role.SUPERNODE);
        Observation dip = new Observation(40 * MIN, 2, 200, false); // bandwidth dip
        long t = 10 * MIN;
        assertThat(p.evaluate(dip, t)).isEqualTo(Role.SUPERNODE);
        assertThat(p.reason()).contains("spare upstream");
        assertThat(p.evaluate(dip, t + POLICY.demoteAfterMillis() - 1)).isEqualTo(Role.SUPERNODE);
        // recovering resets the clock
        assertThat(p.evaluate(GOOD, t + POLICY.demoteAfterMillis() - 1)).isEqualTo(Role.SUPERNODE);
        long t2 = t + POLICY.demoteAfterMillis();
        assertThat(p.evaluate(dip, t2)).isEqualTo(Role.SUPERNODE);
        assertThat(p.evaluate(new Observation(40 * MIN, 1, 5000, false), t2 + POLICY.demoteAfterMillis() / 2))
                .as("a different failing condition continues the same spell").isEqualTo(Role.SUPERNODE);
        assertThat(p.evaluate(dip, t2 + POLICY.demoteAfterMillis())).isEqualTo(Role.CLIENT);
        assertThat(p.reason()).startsWith("demoted");
        // and promoted again when it qualifies again, with a fresh hysteresis spell afterwards
        assertThat(p.evaluate(GOOD, t2 + 3 * POLICY.demoteAfterMillis())).isEqualTo(Role.SUPERNODE);
        long t3 = t2 + 4 * POLICY.demoteAfterMillis();
        assertThat(p.evaluate(dip, t3)).isEqualTo(Role.SUPERNODE);
        assertThat(p.evaluate(dip, t3 + POLICY.demoteAfterMillis() - 1)).isEqualTo(Role.SUPERNODE);
        assertThat(p.evaluate(dip, t3 + POLICY.demoteAfterMillis())).isEqualTo(Role.CLIENT);
    }

    @Test
    void demotesAtOnceWhenPolicyOrConsentIsWithdrawn() {
        for (PromotionPolicy withdrawn : new PromotionPolicy[] {PromotionPolicy.defaults(false, true), PromotionPolicy.defaults(true, false)}) {
            Promotion p = new Promotion(POLICY);
            assertThat(p.evaluate(GOOD, 0)).isEqualTo(Role.SUPERNODE);
            assertThat(p.evaluate(GOOD, MIN)).isEqualTo(Role.SUPERNODE);
            p.updatePolicy(withdrawn);
            assertThat(p.policy()).isEqualTo(withdrawn);
            assertThat(p.evaluate(GOOD, MIN + 1)).isEqualTo(Role.CLIENT);
            assertThat(p.reason()).startsWith("demoted").containsAnyOf("policy", "opted in");
            // it stays a client however good it looks, until the policy allows duty again
            assertThat(p.evaluate(GOOD, 100 * MIN)).isEqualTo(Role.CLIENT);
            p.updatePolicy(POLICY);
            assertThat(p.evaluate(GOOD, 101 * MIN)).isEqualTo(Role.SUPERNODE);
        }
        // also in the middle of a hysteresis spell
        Promotion p = new Promotion(POLICY);
        p.evaluate(GOOD, 0);
        p.evaluate(new Observation(40 * MIN, 2, 0, false), MIN);
        p.updatePolicy(PromotionPolicy.defaults(true, false));
        assertThat(p.evaluate(new Observation(40 * MIN, 2, 0, false), MIN + 1)).isEqualTo(Role.CLIENT);
    }

    @Test
    void dutyCapacityIsAShareOfTheUplinkAndShrinksDuringACall() {
        Promotion p = new Promotion(POLICY);
        AdmissionConfig idle = p.dutyCapacity(10_000, false);
        AdmissionConfig call = p.dutyCapacity(10_000, true);
        assertThat(idle.relayBytesPerSecond()).isEqualTo(10_000L * 1000 / 8 / 4); // a quarter of 10 Mbit/s
        assertThat(idle.maxClients()).isEqualTo(1250);
        assertThat(call.relayBytesPerSecond()).isEqualTo(idle.relayBytesPerSecond() / 10);
        assertThat(call.maxClients()).isEqualTo(125);
        for (int up : new int[] {0, 1, 100, 1000, 5000, 50_000, 1_000_000, Integer.MAX_VALUE}) {
            AdmissionConfig a = p.dutyCapacity(up, false);
            AdmissionConfig b = p.dutyCapacity(up, true);
            assertThat(b.relayBytesPerSecond()).as("%d kbit/s", up).isLessThanOrEqualTo(a.relayBytesPerSecond());
            assertThat(b.maxClients()).isLessThanOrEqualTo(a.maxClients()).isPositive();
            assertThat(b.lookupsPerSecond()).isLessThan(a.lookupsPerSecond());
            assertThat(b.attachesPerSecond()).isLessThanOrEqualTo(a.attachesPerSecond()).isPositive();
            assertThat(a.relayBytesPerSecond()).isBetween(0L, (long) up * 1000 / 8); // never more than the uplink
            assertThat(a.maxClients()).isBetween(1, 2000);
            if (up >= 100_000) assertThat(b.relayBytesPerSecond()).isLessThan(a.relayBytesPerSecond());
        }
    }

    @Test
    void policyRejectsNonsense() {
        assertThatThrownBy(() -> new PromotionPolicy(true, true, -1, 2, 1000, 0.25, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PromotionPolicy(true, true, 0, 0, 1000, 0.25, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PromotionPolicy(true, true, 0, 1, 1000, 0, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PromotionPolicy(true, true, 0, 1, 1000, 1.5, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PromotionPolicy(true, true, 0, 1, 1000, Double.NaN, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Promotion(POLICY).updatePolicy(null)).isInstanceOf(NullPointerException.class);
    }
}
