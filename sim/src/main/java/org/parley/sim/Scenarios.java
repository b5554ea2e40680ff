package org.parley.sim;

/**
 * The standard scenarios. Each brings the overlay up (supernodes join over the first 2 virtual minutes, clients
 * start from minute 3 over 5 minutes), runs its event, measures, checks every record at the end and returns the
 * figures.
 */
public final class Scenarios {
    /** Median supernode lifetime in the churn scenario. */
    public static final long SUPERNODE_MEDIAN_LIFE_MILLIS = 5 * 3_600_000L + 30 * 60_000L;
    /** Virtual time of the event in the outage and partition scenarios. */
    public static final long EVENT_AT_MILLIS = 12 * 60_000L;
    /** Restart window of the 2007 storm: see the note of {@link #outage2007}. */
    public static final long RESTART_WINDOW_MILLIS = 30_000;
    public static final long PARTITION_MILLIS = 5 * 60_000L;

    private Scenarios() {}

    private static long min(double m) {
        return (long) (m * 60_000);
    }

    /** Target of lookup hops p99: log2 of the supernode count. */
    public static double hopsLimit(int supernodes) {
        return Math.log(supernodes) / Math.log(2);
    }

    /**
     * Steady churn: supernode lifetimes exponential with median 5.5 h (a crashed one is replaced by a fresh one
     * joining 10-60 s later), clients leave after a mean 4 h session and come back after a mean 10 min; churn
     * starts at minute 8, measuring from minute 15 for {@code minutes}.
     */
    public static ScenarioResult churn(SimConfig cfg, double minutes) {
        Simulation sim = new Simulation(cfg);
        long warm = min(15);
        long end = warm + min(minutes);
        sim.bringUp();
        sim.phase("steady", warm, end);
        sim.engine().at(sim.at(min(8)), () -> {
            sim.startLookups();
            sim.supernodeChurn(SUPERNODE_MEDIAN_LIFE_MILLIS);
            sim.clientChurn(4 * 3_600_000L, 10 * 60_000L);
        });
        sim.runUntil(end);
        sim.checkRecords();
        return sim.result("churn", "supernode lifetime exp. median 5.5 h (replaced), client sessions mean 4 h / offline mean 10 min; measured "
                + fmt(minutes) + " min after a 15 min warm-up");
    }

    /**
     * The 2010 outage: 30% of the supernodes (mega ones in proportion) crash at once at minute 12; the others take
     * the reconnect storm. Lookups are measured from 60 s after the crash for {@code minutes} after it.
     */
    public static ScenarioResult outage2010(SimConfig cfg, double minutes) {
        Simulation sim = new Simulation(cfg);
        long t = EVENT_AT_MILLIS;
        long end = t + min(minutes);
        sim.bringUp();
        sim.phase("before", min(9), t - 10_000);
        sim.phase("storm", t, t + 60_000);
        sim.phase("after", t + 60_000, end);
        sim.engine().at(sim.at(min(8.5)), sim::startLookups);
        int[] crashed = {0};
        sim.engine().at(sim.at(t), () -> crashed[0] = sim.crashFraction(0.30, "affected"));
        sim.runUntil(end);
        sim.checkRecords();
        return sim.result("outage2010", "30% of supernodes (" + crashed[0] + ", megas in proportion) crash at once at t="
                + t / 1000 + " s; 'after' measured from crash + 60 s");
    }

    /**
     * The 2007 outage: every client drops and reconnects. Each restarts at a uniform moment of a 30 s window
     * (a 60 s window would make "all attached within 60 s" impossible for the last ones) and is back 0.5-2 s later.
     */
    public static ScenarioResult outage2007(SimConfig cfg, double minutes) {
        Simulation sim = new Simulation(cfg);
        long t = EVENT_AT_MILLIS;
        long end = t + min(minutes);
        sim.bringUp();
        sim.phase("before", min(9), t - 10_000);
        sim.phase("storm", t, t + 60_000);
        sim.phase("after", t + 60_000, end);
        sim.engine().at(sim.at(min(8.5)), sim::startLookups);
        sim.engine().at(sim.at(t), () -> sim.restartStorm(RESTART_WINDOW_MILLIS, "restarted"));
        sim.runUntil(end);
        sim.checkRecords();
        return sim.result("outage2007", "every client restarts at a uniform moment of a 30 s window from t=" + t / 1000
                + " s (not 60 s: the last ones could not be attached within 60 s), back 0.5-2 s later");
    }

    /**
     * A partition that heals: supernodes and clients split into two random halves for 5 minutes from minute 12.
     * Lookups measured before, during, in the 2 minutes after healing and from 2 minutes after healing on.
     */
    public static ScenarioResult partition(SimConfig cfg, double minutes) {
        Simulation sim = new Simulation(cfg);
        long t = EVENT_AT_MILLIS;
        long heal = t + PARTITION_MILLIS;
        long end = heal + min(minutes);
        sim.bringUp();
        sim.phase("before", min(9), t - 10_000);
        sim.phase("split", t, heal);
        sim.phase("healing", heal, heal + 120_000);
        sim.phase("after", heal + 120_000, end);
        sim.engine().at(sim.at(min(8.5)), sim::startLookups);
        sim.engine().at(sim.at(t), () -> sim.partition("cut-off"));
        sim.engine().at(sim.at(heal), sim::heal);
        sim.runUntil(end);
        sim.checkRecords();
        return sim.result("partition", "two random halves cut apart at t=" + t / 1000 + " s for 5 min; 'after' from heal + 2 min");
    }

    static String fmt(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }
}
