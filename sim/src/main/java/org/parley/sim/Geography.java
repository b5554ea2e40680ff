package org.parley.sim;

import java.util.random.RandomGenerator;

/**
 * Where nodes are and how long a message takes between two places: five regions with one-way base latencies of
 * 6 to 150 ms and a small jitter (up to 2 ms plus 5% of the base).
 */
public final class Geography {
    /** Region names, in index order. */
    public static final String[] REGIONS = {"na-east", "na-west", "europe", "asia", "south-america"};
    private static final double[] WEIGHTS = {0.25, 0.15, 0.30, 0.20, 0.10};
    private static final int[][] ONE_WAY_MS = {
            {8, 35, 45, 110, 65},
            {35, 8, 75, 75, 95},
            {45, 75, 6, 120, 105},
            {110, 75, 120, 10, 150},
            {65, 95, 105, 150, 12},
    };

    private Geography() {}

    /** A random region, weighted by where users are. */
    public static int pickRegion(RandomGenerator rnd) {
        double x = rnd.nextDouble();
        for (int i = 0; i < WEIGHTS.length; i++) {
            x -= WEIGHTS[i];
            if (x < 0) return i;
        }
        return WEIGHTS.length - 1;
    }

    /** Base one-way latency between two regions, in ms. */
    public static int baseMillis(int from, int to) {
        return ONE_WAY_MS[from][to];
    }

    /** One message's one-way latency: base plus jitter. */
    public static int oneWayMillis(int from, int to, RandomGenerator rnd) {
        int base = ONE_WAY_MS[from][to];
        return base + rnd.nextInt(3 + base / 20);
    }
}
