package org.parley.sim;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The four standard scenarios with their targets. Default scale: {@value #DEFAULT_SUPERNODES} supernodes and
 * {@value #DEFAULT_CLIENTS} clients, so that the four fit the test budget of this 2-core machine; the full scale
 * (1,000 and 100,000) runs with {@code -Dparley.sim.supernodes=1000 -Dparley.sim.clients=100000} or through
 * {@code sim/run.sh}. {@code -Dparley.sim.seed} and {@code -Dparley.sim.churnMinutes} change the seed and the
 * measured churn time.
 */
class ScenariosTest {
    static final int DEFAULT_SUPERNODES = 300;
    static final int DEFAULT_CLIENTS = 30_000;
    static final int SUPERNODES = Integer.getInteger("parley.sim.supernodes", DEFAULT_SUPERNODES);
    static final int CLIENTS = Integer.getInteger("parley.sim.clients", DEFAULT_CLIENTS);
    static final long SEED = Long.getLong("parley.sim.seed", 1);
    static final int CHURN_MINUTES = Integer.getInteger("parley.sim.churnMinutes", 60);

    private static SimConfig cfg() {
        return SimConfig.of(SUPERNODES, CLIENTS, SEED);
    }

    private static void common(ScenarioResult r) {
        System.out.print(FiguresTable.text(r));
        System.out.println(Targets.verdict(r));
        assertThat(r.overCapacity()).as("supernodes over capacity").isZero();
        assertThat(r.peakLoad()).as("peak attached / capacity").isLessThanOrEqualTo(1.0);
        assertThat(r.wireErrors()).as("frames that are not wire-valid").isZero();
        assertThat(r.cohort("start").allSeconds()).as("every client attached after its start").isGreaterThan(0);
    }

    @Test
    void steadyChurn() {
        ScenarioResult r = Scenarios.churn(cfg(), CHURN_MINUTES);
        common(r);
        ScenarioResult.PhaseFigures p = r.phase("steady");
        assertThat(r.supernodesCrashed()).as("supernodes crashed").isPositive();
        assertThat(p.lookups()).isGreaterThan(1000);
        assertThat(p.successPercent()).as("lookup success %").isGreaterThanOrEqualTo(99.9);
        assertThat((double) p.hopsP99()).as("hops p99").isLessThanOrEqualTo(Scenarios.hopsLimit(SUPERNODES));
    }

    @Test
    void outage2010() {
        ScenarioResult r = Scenarios.outage2010(cfg(), 10);
        common(r);
        ScenarioResult.AttachFigures a = r.cohort("affected");
        assertThat(a.members()).isPositive();
        assertThat(a.allSeconds()).as("seconds until all affected clients re-attached").isBetween(0.0, 30.0);
        assertThat(r.phase("after").successPercent()).as("lookup success % from 60 s after the crash").isGreaterThanOrEqualTo(99.9);
        assertThat(r.recordsLost()).as("records lost").isZero();
    }

    @Test
    void outage2007() {
        ScenarioResult r = Scenarios.outage2007(cfg(), 10);
        common(r);
        ScenarioResult.AttachFigures a = r.cohort("restarted");
        assertThat(a.members()).isEqualTo(CLIENTS);
        assertThat(a.allSeconds()).as("seconds from the storm start until all clients attached").isBetween(0.0, 60.0);
    }

    @Test
    void partitionThatHeals() {
        ScenarioResult r = Scenarios.partition(cfg(), 10);
        common(r);
        assertThat(r.phase("after").successPercent()).as("lookup success % from 2 min after healing").isGreaterThanOrEqualTo(99.9);
        assertThat(r.recordsLost()).as("records lost").isZero();
    }
}
