package org.parley.sim;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class DeterminismTest {
    private static ScenarioResult run(long seed) {
        SimConfig cfg = SimConfig.of(40, 2_000, seed).withClientStart(60_000, 60_000).withJoinSpreadMillis(30_000);
        return Scenarios.outage2010(cfg, 2).withoutWallClock();
    }

    @Test
    void theSameSeedGivesTheSameFigures() {
        ScenarioResult a = run(42), b = run(42);
        assertThat(a).isEqualTo(b);
        assertThat(a.events()).isPositive();
        assertThat(a.phase("after").lookups()).isPositive();
    }

    @Test
    void anotherSeedGivesOtherFigures() {
        assertThat(run(42)).isNotEqualTo(run(43));
    }
}
