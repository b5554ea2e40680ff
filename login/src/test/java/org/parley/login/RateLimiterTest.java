package org.parley.login;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class RateLimiterTest {
    private final MutableClock clock = new MutableClock(Instant.parse("2025-01-01T00:00:00Z"));
    private final RateLimiter limiter = new RateLimiter(clock, 5, Duration.ofMinutes(15), Duration.ofMinutes(15));

    private void fail(String key, int times) {
        for (int i = 0; i < times; i++) limiter.failure(key);
    }

    @Test
    void fourFailuresDoNotLock() {
        fail("acct:alice", 4);
        assertThat(limiter.blocked("acct:alice")).isEmpty();
    }

    @Test
    void fifthFailureLocksForOneSecondThenBackoffDoubles() {
        fail("acct:alice", 5);
        assertThat(limiter.blocked("acct:alice")).contains(Duration.ofSeconds(1));
        clock.advance(Duration.ofMillis(400));
        assertThat(limiter.blocked("acct:alice")).contains(Duration.ofMillis(600));
        clock.advance(Duration.ofMillis(600));
        assertThat(limiter.blocked("acct:alice")).isEmpty();

        limiter.failure("acct:alice");
        assertThat(limiter.blocked("acct:alice")).contains(Duration.ofSeconds(2));
        clock.advance(Duration.ofSeconds(2));
        limiter.failure("acct:alice");
        assertThat(limiter.blocked("acct:alice")).contains(Duration.ofSeconds(4));
        clock.advance(Duration.ofSeconds(4));
        limiter.failure("acct:alice");
        assertThat(limiter.blocked("acct:alice")).contains(Duration.ofSeconds(8));
    }

    @Test
    void lockoutIsCappedAtMaxLockout() {
        fail("addr:10.0.0.1", 30);
        assertThat(limiter.blocked("addr:10.0.0.1")).contains(Duration.ofMinutes(15));
        clock.advance(Duration.ofMinutes(15));
        assertThat(limiter.blocked("addr:10.0.0.1")).isEmpty();
    }

    @Test
    void failuresOutsideTheWindowAreForgotten() {
        fail("acct:bob", 4);
        clock.advance(Duration.ofMinutes(15));
        limiter.failure("acct:bob");
        assertThat(limiter.blocked("acct:bob")).isEmpty();
        fail("acct:bob", 3);
        assertThat(limiter.blocked("acct:bob")).isEmpty();
        limiter.failure("acct:bob");
        assertThat(limiter.blocked("acct:bob")).contains(Duration.ofSeconds(1));
    }

    @Test
    void failuresSpreadOverTheWindowStillCount() {
        for (int i = 0; i < 5; i++) {
            limiter.failure("acct:carol");
            clock.advance(Duration.ofMinutes(3));
        }
        // the five failures happened within 12 minutes of each other
        assertThat(limiter.blocked("acct:carol")).isEmpty(); // the 1 s lock from the fifth has expired
        limiter.failure("acct:carol");
        assertThat(limiter.blocked("acct:carol")).contains(Duration.ofSeconds(2));
    }

    @Test
    void escalationResetsOnceTheRecordGoesStale() {
        fail("acct:dave", 8); // locks of 1, 2, 4, 8 s
        assertThat(limiter.blocked("acct:dave")).contains(Duration.ofSeconds(8));
        clock.advance(Duration.ofMinutes(16));
        assertThat(limiter.blocked("acct:dave")).isEmpty();
        assertThat(limiter.size()).isZero();
        fail("acct:dave", 5);
        assertThat(limiter.blocked("acct:dave")).contains(Duration.ofSeconds(1));
    }

    @Test
    void successClearsTheKey() {
        fail("acct:erin", 5);
        assertThat(limiter.blocked("acct:erin")).isPresent();
        limiter.success("acct:erin");
        assertThat(limiter.blocked("acct:erin")).isEmpty();
        fail("acct:erin", 4);
        assertThat(limiter.blocked("acct:erin")).isEmpty();
    }

    @Test
    void keysAreIndependent() {
        fail("acct:frank", 5);
        assertThat(limiter.blocked("acct:frank")).isPresent();
        assertThat(limiter.blocked("acct:grace")).isEmpty();
        assertThat(limiter.blocked("addr:10.0.0.2")).isEmpty();
    }

    @Test
    void memoryIsBoundedAndStaleEntriesAreEvictedFirst() {
        RateLimiter small = new RateLimiter(clock, 5, Duration.ofMinutes(15), Duration.ofMinutes(15), 3);
        for (int i = 0; i < 5; i++) small.failure("locked");
        clock.advance(Duration.ofSeconds(1)); // the 1 s lock expired but the record is not stale yet
        for (int i = 0; i < 5; i++) small.failure("locked");
        assertThat(small.blocked("locked")).isPresent();
        for (int i = 0; i < 1000; i++) {
            small.failure("spray-" + i);
            assertThat(small.size()).isLessThanOrEqualTo(3);
        }
        assertThat(small.size()).isEqualTo(3);
        // with no stale entries to drop, the least recently failed key goes: the locked one was first
        assertThat(small.blocked("locked")).isEmpty();

        RateLimiter other = new RateLimiter(clock, 5, Duration.ofMinutes(15), Duration.ofMinutes(15), 3);
        other.failure("old-1");
        other.failure("old-2");
        clock.advance(Duration.ofMinutes(10));
        for (int i = 0; i < 5; i++) other.failure("victim");
        clock.advance(Duration.ofMinutes(6)); // old-1 and old-2 are stale now; victim is not
        other.failure("new-1");
        assertThat(other.size()).as("both stale records dropped, not just one").isEqualTo(2);
        other.failure("new-2");
        assertThat(other.size()).isEqualTo(3);
        other.failure("victim"); // a sixth failure locks at once only if the first five were remembered
        assertThat(other.blocked("victim")).as("the victim's record survived").contains(Duration.ofSeconds(2));
    }

    @Test
    void rejectsNonsenseSettings() {
        assertThatThrownBy(() -> new RateLimiter(clock, 0, Duration.ofMinutes(1), Duration.ofMinutes(1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RateLimiter(clock, 5, Duration.ZERO, Duration.ofMinutes(1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RateLimiter(clock, 5, Duration.ofMinutes(1), Duration.ofMillis(10)))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
