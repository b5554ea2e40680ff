package org.parley.sim;

import org.parley.overlay.OverlayConfig;

/**
 * Simulation parameters.
 *
 * @param supernodes          supernodes at the start (replacements keep the population)
 * @param clients             clients
 * @param seed                seed of every random choice: the same seed gives the same figures
 * @param loss                probability that one message is lost (default 0.5%)
 * @param seedCount           seed supernodes named in the clients' network file (default 10)
 * @param megaFraction        share of mega-supernodes (default 1%, at least one from 20 supernodes up)
 * @param capacityFactor      total client capacity over the client count (default 2)
 * @param helloTimeoutMillis  a Hello without answer counts as a failed candidate after this (default 1 s, about
 *                            QUIC's first probe timeout: move on to the next candidate after one unanswered PTO)
 * @param lookupsPerSecond    client lookups per second over the whole network (default clients / 1000)
 * @param joinSpreadMillis    supernodes (other than the seeds) join spread over this (default 2 min)
 * @param clientsStartMillis  clients start at this virtual time after the epoch (default 3 min)
 * @param clientStartSpreadMillis clients start spread over this (default 5 min)
 * @param wireSampleEvery     every n-th message is checked through the codec (0 = never)
 * @param overlay             the overlay's parameters
 */
public record SimConfig(int supernodes, int clients, long seed, double loss, int seedCount, double megaFraction,
                        double capacityFactor, long helloTimeoutMillis, double lookupsPerSecond, long joinSpreadMillis,
                        long clientsStartMillis, long clientStartSpreadMillis, int wireSampleEvery,
                        OverlayConfig overlay) {
    public SimConfig {
        if (supernodes < 2) throw new IllegalArgumentException("need at least 2 supernodes");
        if (clients < 1) throw new IllegalArgumentException("need at least 1 client");
        if (!(loss >= 0 && loss < 1)) throw new IllegalArgumentException("loss must be in [0, 1)");
        if (seedCount < 1) throw new IllegalArgumentException("need at least one seed supernode");
        if (!(capacityFactor > 0)) throw new IllegalArgumentException("capacity factor must be positive");
        if (lookupsPerSecond < 0) throw new IllegalArgumentException("lookup rate must not be negative");
    }

    public static SimConfig of(int supernodes, int clients, long seed) {
        return new SimConfig(supernodes, clients, seed, 0.005, 10, 0.01, 2.0, 1000, clients / 1000.0, 120_000,
                180_000, 300_000, 997, OverlayConfig.defaults());
    }

    public SimConfig withLoss(double l) {
        return new SimConfig(supernodes, clients, seed, l, seedCount, megaFraction, capacityFactor, helloTimeoutMillis,
                lookupsPerSecond, joinSpreadMillis, clientsStartMillis, clientStartSpreadMillis, wireSampleEvery, overlay);
    }

    public SimConfig withHelloTimeoutMillis(long t) {
        return new SimConfig(supernodes, clients, seed, loss, seedCount, megaFraction, capacityFactor, t,
                lookupsPerSecond, joinSpreadMillis, clientsStartMillis, clientStartSpreadMillis, wireSampleEvery, overlay);
    }

    public SimConfig withLookupsPerSecond(double r) {
        return new SimConfig(supernodes, clients, seed, loss, seedCount, megaFraction, capacityFactor, helloTimeoutMillis,
                r, joinSpreadMillis, clientsStartMillis, clientStartSpreadMillis, wireSampleEvery, overlay);
    }

    public SimConfig withClientStart(long atMillis, long spreadMillis) {
        return new SimConfig(supernodes, clients, seed, loss, seedCount, megaFraction, capacityFactor, helloTimeoutMillis,
                lookupsPerSecond, joinSpreadMillis, atMillis, spreadMillis, wireSampleEvery, overlay);
    }

    public SimConfig withJoinSpreadMillis(long j) {
        return new SimConfig(supernodes, clients, seed, loss, seedCount, megaFraction, capacityFactor, helloTimeoutMillis,
                lookupsPerSecond, j, clientsStartMillis, clientStartSpreadMillis, wireSampleEvery, overlay);
    }

    public SimConfig withOverlay(OverlayConfig o) {
        return new SimConfig(supernodes, clients, seed, loss, seedCount, megaFraction, capacityFactor, helloTimeoutMillis,
                lookupsPerSecond, joinSpreadMillis, clientsStartMillis, clientStartSpreadMillis, wireSampleEvery, o);
    }
}
