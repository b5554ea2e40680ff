package org.parley.supernode;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TokenBucketTest {
    @Test
    void allowsTheBurstThenTheRate() {
        long t = 1_000_000_000L;
        TokenBucket b = new TokenBucket(10, 20, t);
        int taken = 0;
        while (b.tryTake(t)) taken++;
        assertThat(taken).isEqualTo(20);
        t += 500_000_000L; // half a second refills 5
        int later = 0;
        while (b.tryTake(t)) later++;
        assertThat(later).isEqualTo(5);
        t += 100_000_000_000L; // long idle: capped at the burst
        int capped = 0;
        while (b.tryTake(t)) capped++;
        assertThat(capped).isEqualTo(20);
    }

    @Test
    void timeGoingBackwardsAddsNothing() {
        TokenBucket b = new TokenBucket(1000, 1, 5_000_000_000L);
        assertThat(b.tryTake(5_000_000_000L)).isTrue();
        assertThat(b.tryTake(1_000_000_000L)).isFalse();
        // and coming back to the present does not count the jump as idle time
        assertThat(b.tryTake(5_000_000_000L)).isFalse();
    }
}
