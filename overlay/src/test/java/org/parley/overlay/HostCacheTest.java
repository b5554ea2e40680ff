package org.parley.overlay;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class HostCacheTest {
    static final long NOW = 1_700_000_000_000L;
    static final long HOUR = 3_600_000L;

    @Test
    void ranksRecentSuccessAndSpareCapacityFirstAndRecentFailuresLast() {
        HostCache c = new HostCache();
        c.learned("stale-success", 0, 0, NOW);
        c.success("stale-success", NOW - 48 * HOUR);
        c.learned("roomy", 1000, 0, NOW);
        c.learned("crowded", 1000, 950, NOW);
        c.success("fresh", NOW - 60_000);
        c.success("flaky", NOW - HOUR);
        c.failure("flaky", NOW - 10_000); // failed 10 s ago: quarantined
        c.success("steady", NOW - HOUR);  // same history without the failure
        c.learned("unknown", 0, 0, NOW);
        List<String> r = c.ranked(NOW);
        assertThat(r).hasSize(7);
        assertThat(r.get(0)).isEqualTo("fresh");
        assertThat(r.get(1)).isEqualTo("steady");
        assertThat(r.get(2)).isEqualTo("roomy");
        assertThat(r.indexOf("roomy")).isLessThan(r.indexOf("crowded"));
        assertThat(r.indexOf("stale-success")).isLessThan(r.indexOf("unknown"));
        assertThat(r.get(0)).isEqualTo("fresh");
        assertThat(r.get(6)).isEqualTo("flaky");
        // after the quarantine it is no longer forced last, but its failure still costs it
        List<String> later = c.ranked(NOW + HostCache.FAILURE_QUARANTINE_MILLIS);
        assertThat(later.indexOf("flaky")).isLessThan(later.size() - 1).isGreaterThan(later.indexOf("steady"));
        // a success lifts it again
        c.success("flaky", NOW + 1);
        assertThat(c.ranked(NOW + 2).get(0)).isEqualTo("flaky");
    }

    @Test
    void aFailingSeedIsRememberedAndTriedLastAndSuccessResetsFailures() {
        HostCache c = new HostCache();
        c.failure("seed-1", NOW);
        assertThat(c.size()).isOne();
        assertThat(c.attachOrder(List.of(), List.of("seed-1", "seed-2"), NOW + 1, 6)).containsExactly("seed-2");
        c = new HostCache();
        c.success("a", NOW);
        c.failure("a", NOW + 1);
        c.failure("a", NOW + 2);
        assertThat(c.entries().get(0).failures()).isEqualTo(2);
        c.success("a", NOW + 3);
        assertThat(c.entries().get(0).failures()).isZero();
        assertThat(c.entries().get(0).successes()).isEqualTo(2);
        assertThat(c.entries().get(0).lastSuccess()).isEqualTo(NOW + 3);
    }

    @Test
    void holdsAtMost200EvictingTheWorst() {
        HostCache c = new HostCache();
        for (int i = 0; i < HostCache.MAX; i++) c.learned("h" + i, 1000, i * 5, NOW); // h0 has the most room
        c.success("good", NOW);
        assertThat(c.size()).isEqualTo(HostCache.MAX);
        assertThat(c.ranked(NOW)).contains("good").doesNotContain("h199"); // the fullest made room
        c.learned("bad", 0, 0, NOW);
        c.failure("bad", NOW);
        c.failure("bad", NOW);
        c.failure("bad", NOW);
        for (int i = 0; i < 50; i++) c.learned("new" + i, 1000, 0, NOW);
        assertThat(c.size()).isEqualTo(HostCache.MAX);
        List<String> r = c.ranked(NOW);
        assertThat(r).doesNotContain("bad").contains("good", "h0", "new0", "new49");
        assertThat(r).doesNotHaveDuplicates();
        // re-learning a known host does not add it twice
        c.learned("good", 10, 5, NOW);
        assertThat(c.size()).isEqualTo(HostCache.MAX);
    }

    @Test
    void encodeDecodeRoundTrip() {
        HostCache c = new HostCache();
        Random rnd = new Random(1);
        for (int i = 0; i < 50; i++) {
            String a = "sn" + i + ".example:7000";
            c.learned(a, rnd.nextInt(3) == 0 ? 0 : 1 + rnd.nextInt(5000), rnd.nextInt(100), NOW);
            if (rnd.nextBoolean()) c.success(a, NOW - rnd.nextInt(1_000_000));
            if (rnd.nextBoolean()) c.failure(a, NOW - rnd.nextInt(1_000_000));
        }
        c.learned("[2001:db8::1]:7000", 10, 1, NOW);
        String text = c.encode();
        assertThat(text).startsWith("# parley host cache v1\n");
        HostCache d = HostCache.decode(text);
        assertThat(d.size()).isEqualTo(c.size());
        assertThat(d.encode()).isEqualTo(text);
        assertThat(d.ranked(NOW)).isEqualTo(c.ranked(NOW));
        assertThat(d.attachOrder(List.of(), List.of("seed:1"), NOW, 100)).isEqualTo(c.attachOrder(List.of(), List.of("seed:1"), NOW, 100));
    }

    @Test
    void decodeSkipsDamagedLines() {
        String text = String.join("\n",
                "# parley host cache v1",
                "good1:7000 3 0 1700000000000 0 100 5",
                "too few fields 1 2",
                "nonnumeric:7000 x 0 0 0 0 0",
                "overflow:7000 99999999999 0 0 0 0 0",
                "x".repeat(400) + " 1 0 0 0 0 0",
                "",
                "   ",
                "good2:7000 0 1 0 1700000000000 0 0\r",
                "good1:7000 9 9 9 9 9 9",                    // duplicate: first one wins
                "extra:7000 1 0 0 0 0 0 0",
                "\u0000\u0001binary garbage",
                "good3:7000 1 0 1700000000000 0 10 2");        // last line without newline
        HostCache c = HostCache.decode(text);
        assertThat(c.entries()).extracting(HostCache.Entry::address).containsExactly("good1:7000", "good2:7000", "good3:7000");
        assertThat(c.entries().get(0).successes()).isEqualTo(3);
        assertThat(HostCache.decode("").size()).isZero();
        assertThat(HostCache.decode("garbage").size()).isZero();
        // truncated mid-line (a crash while saving): the partial line is dropped, the rest is kept
        String saved = c.encode();
        assertThat(HostCache.decode(saved.substring(0, saved.length() - 6)).size()).isEqualTo(2);
        // an oversized file is capped
        StringBuilder big = new StringBuilder();
        for (int i = 0; i < 500; i++) big.append("h").append(i).append(":1 0 0 0 0 0 0\n");
        assertThat(HostCache.decode(big.toString()).size()).isEqualTo(HostCache.MAX);
    }

    @Test
    void attachOrderIsHintsThenCacheThenSeeds() {
        HostCache c = new HostCache();
        c.success("cached-best", NOW - 1000);
        c.learned("cached-roomy", 100, 0, NOW);
        c.success("cached-failed", NOW - HOUR);
        c.failure("cached-failed", NOW - 5_000);
        c.learned("hint-known", 0, 0, NOW);
        List<String> order = c.attachOrder(List.of("hint-new", "hint-known", "cached-failed"), List.of("seed1", "cached-best", "seed2"), NOW, 100);
        assertThat(order).containsExactly("hint-new", "hint-known", "cached-best", "cached-roomy", "seed1", "seed2");
        assertThat(c.attachOrder(List.of("hint-new"), List.of("seed1"), NOW, 2)).containsExactly("hint-new", "cached-best");
        // quarantine over: the failed host is tried again, after the better ones
        List<String> later = c.attachOrder(List.of(), List.of(), NOW + HostCache.FAILURE_QUARANTINE_MILLIS, 100);
        assertThat(later).contains("cached-failed");
        assertThat(later.indexOf("cached-failed")).isGreaterThan(later.indexOf("cached-best"));
    }

    @Test
    void whenEverythingFailedRecentlyTheQuarantinedAreStillTried() {
        HostCache c = new HostCache();
        for (String a : List.of("a", "b")) {
            c.success(a, NOW - HOUR);
            c.failure(a, NOW - 1000);
        }
        assertThat(c.attachOrder(List.of(), List.of(), NOW, 10)).containsExactlyInAnyOrder("a", "b");
        assertThat(c.attachOrder(List.of("a"), List.of("b"), NOW, 10)).containsExactly("a", "b");
        assertThat(new HostCache().attachOrder(List.of(), List.of(), NOW, 10)).isEmpty();
    }

    // ------------------------------------------------------------------ AttachPlanner

    static AttachPlanner planner(HostCache c, List<String> seeds, long seed) {
        return new AttachPlanner(c, seeds, new Random(seed), Duration.ofMillis(500), Duration.ofSeconds(30));
    }

    @Test
    void plannerTriesRedirectHintsFirstAndOnlyOnce() {
        HostCache c = new HostCache();
        c.success("cached", NOW - 1000);
        AttachPlanner p = planner(c, List.of("seed1", "seed2"), 1);
        assertThat(p.round(NOW)).containsExactly("cached", "seed1", "seed2");
        p.redirected("cached", 2000, List.of("alt1", "cached", "alt2", "alt1"), NOW);
        assertThat(p.hasHints()).isTrue();
        List<String> next = p.round(NOW + 10);
        assertThat(next.subList(0, 2)).containsExactly("alt1", "alt2");
        assertThat(next).contains("cached", "seed1").hasSizeLessThanOrEqualTo(AttachPlanner.ROUND_SIZE).doesNotHaveDuplicates();
        assertThat(p.hasHints()).isFalse();
        // the hints were learned into the cache, so they stay candidates, just not first
        assertThat(c.ranked(NOW)).contains("alt1", "alt2");
        p.attached("alt1", List.of("o1", "o2"), NOW + 20);
        assertThat(c.ranked(NOW + 21).get(0)).isEqualTo("alt1");
        assertThat(c.ranked(NOW + 21)).contains("o1", "o2");
    }

    @Test
    void plannerSkipsRecentlyFailedHosts() {
        HostCache c = new HostCache();
        c.success("a", NOW - HOUR);
        c.success("b", NOW - HOUR);
        AttachPlanner p = planner(c, List.of("seed"), 2);
        p.failed("a", NOW);
        assertThat(p.round(NOW + 1000)).containsExactly("b", "seed");
        assertThat(p.round(NOW + HostCache.FAILURE_QUARANTINE_MILLIS + 1)).containsExactly("b", "a", "seed");
    }

    @Test
    void delayFollowsRetryAfterWhenRedirectedElseGrowsWithJitter() {
        AttachPlanner p = planner(new HostCache(), List.of("seed"), 3);
        p.round(NOW);
        p.redirected("seed", 3_000, List.of("x"), NOW);
        p.redirected("x", 1_200, List.of(), NOW);
        assertThat(p.delayMillis()).as("the longest retry-after of the round").isEqualTo(3_000);
        p.round(NOW);
        p.redirected("seed", 10 * 60_000, List.of(), NOW);
        assertThat(p.delayMillis()).as("capped").isEqualTo(60_000);
        // rounds without redirects: full-jitter exponential backoff, 500 ms doubling to 30 s
        long ceiling = 500;
        for (int i = 0; i < 10; i++) {
            p.round(NOW);
            p.failed("seed", NOW);
            long d = p.delayMillis();
            assertThat(d).as("round %d", i).isBetween(ceiling / 2, ceiling);
            ceiling = Math.min(30_000, ceiling * 2);
        }
        // a success starts over
        p.attached("seed", List.of(), NOW);
        p.round(NOW);
        assertThat(p.delayMillis()).isBetween(250L, 500L);
        // and different clients do not retry in lockstep
        List<Long> fifth = new ArrayList<>();
        for (int s = 0; s < 30; s++) {
            AttachPlanner q = planner(new HostCache(), List.of("seed"), 100 + s);
            for (int i = 0; i < 4; i++) q.delayMillis();
            fifth.add(q.delayMillis());
        }
        assertThat(fifth.stream().distinct().count()).isGreaterThan(25);
    }
}
