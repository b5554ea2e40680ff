package org.parley.sim;

import java.util.List;

/**
 * The figures of one scenario run.
 *
 * @param scenario             short name (churn, outage2010, outage2007, partition)
 * @param note                 how the scenario was run (documented deviations included)
 * @param supernodes           supernodes at the start
 * @param clients              clients
 * @param seed                 the seed
 * @param phases               lookup figures per measuring window
 * @param attach               attach figures per cohort of clients
 * @param peakLoad             max over supernodes of peak attached / capacity
 * @param overCapacity         supernodes that ever had more clients attached than their capacity
 * @param peakAttachRate       max over supernodes of peak admits in one second / configured attach rate
 * @param peakLookupRate       max over supernodes of peak lookups in one second / configured lookup rate
 * @param redirects            Redirect answers clients received
 * @param busy                 Busy answers clients received
 * @param recordsChecked       online clients checked at the end (published at least 1 min before)
 * @param recordsLost          of those, clients whose current record no lookup (from up to 3 supernodes) found
 * @param recordsStale         of the lost, those found only with an older sequence
 * @param messages             messages sent over the links
 * @param messagesPerSecond    messages per virtual second, whole run
 * @param overlayTimeouts      overlay requests that timed out
 * @param storeRejections      records the overlay's validator refused
 * @param wireChecked          frames checked through the codec
 * @param wireErrors           of those, frames that did not survive encode/decode
 * @param virtualSeconds       virtual time simulated
 * @param wallSeconds          wall-clock time taken
 * @param events               events processed
 * @param supernodesAtEnd      supernodes up at the end
 * @param supernodesCrashed    supernodes that crashed during the run
 * @param publishP50Millis     client publish round trip (Publish to Published), median
 * @param publishP99Millis     same, 99th percentile
 * @param publishMaxMillis     same, maximum
 * @param publishesFailed      publishes no holder accepted
 */
public record ScenarioResult(String scenario, String note, int supernodes, int clients, long seed,
                             List<PhaseFigures> phases, List<AttachFigures> attach, double peakLoad, int overCapacity,
                             double peakAttachRate, double peakLookupRate, long redirects, long busy,
                             long recordsChecked, long recordsLost, long recordsStale, long messages,
                             double messagesPerSecond, long overlayTimeouts, long storeRejections, long wireChecked,
                             long wireErrors, long virtualSeconds, double wallSeconds, long events,
                             int supernodesAtEnd, int supernodesCrashed, long publishP50Millis,
                             long publishP99Millis, long publishMaxMillis, long publishesFailed) {
    public ScenarioResult {
        phases = List.copyOf(phases);
        attach = List.copyOf(attach);
    }

    /** The same figures without the wall-clock time (which varies from run to run). */
    public ScenarioResult withoutWallClock() {
        return new ScenarioResult(scenario, note, supernodes, clients, seed, phases, attach, peakLoad, overCapacity,
                peakAttachRate, peakLookupRate, redirects, busy, recordsChecked, recordsLost, recordsStale, messages,
                messagesPerSecond, overlayTimeouts, storeRejections, wireChecked, wireErrors, virtualSeconds, 0, events,
                supernodesAtEnd, supernodesCrashed, publishP50Millis, publishP99Millis, publishMaxMillis, publishesFailed);
    }

    public PhaseFigures phase(String name) {
        for (PhaseFigures p : phases) if (p.name().equals(name)) return p;
        throw new IllegalArgumentException("no phase " + name + " in " + scenario);
    }

    public AttachFigures cohort(String name) {
        for (AttachFigures a : attach) if (a.cohort().equals(name)) return a;
        throw new IllegalArgumentException("no cohort " + name + " in " + scenario);
    }

    /** Lookup figures of one measuring window. */
    public record PhaseFigures(String name, long fromSecond, long toSecond, long lookups, long succeeded,
                               long notFound, long stale, long busy, long timedOut, long requesterCut,
                               double successPercent, int hopsP50, int hopsP99, int hopsMax, long latencyP50Millis,
                               long latencyP99Millis, double messagesPerSecond) {}

    /**
     * How fast a cohort of clients got attached.
     *
     * @param cohort       name
     * @param members      clients in it
     * @param attached     of those, attached by the end
     * @param p99Seconds   seconds from the reference moment until 99% were attached (-1 if never)
     * @param allSeconds   seconds until all were attached (-1 if some never did)
     * @param reference    what the times count from
     */
    public record AttachFigures(String cohort, int members, int attached, double p99Seconds, double allSeconds,
                                String reference) {}
}
