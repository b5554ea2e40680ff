package org.parley.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chat-sync scenario at a small size, end to end: login server, supernode process and two daemon processes;
 * bob's store lacks the newest 100 of 1,000 events of a group conversation signed by both devices. Bob must end
 * with every event and nothing rejected, and a sync of the then identical histories must take one round trip with
 * no SyncRange message and under 1 KB each way. No ejabberd, no history cache. Skipped with a message when daemon
 * processes cannot be started from this JVM's class path (as {@link DrillTest}).
 */
class ChatSyncScenarioTest {
    @TempDir Path tmp;

    @Test
    @Timeout(150)
    void bobCatchesUpAndAnIdenticalHistoryTakesOneRoundTrip() throws Exception {
        String why = DrillTest.cannotStartSupernodes();
        if (why != null) System.err.println("chat-sync test skipped: " + why);
        assumeTrue(why == null, () -> "chat-sync test skipped: " + why);

        Cleanup cleanup = new Cleanup(null);
        try {
            ChatSyncScenario.Config cfg = new ChatSyncScenario.Config(1000, 100, List.of(10), 1, 256,
                    List.of("catchup", "identical"), 1, false, null);
            Results results = new Results(tmp.resolve("results.jsonl"), "test");
            ChatSyncScenario.Result r = ChatSyncScenario.run(cfg, Files.createDirectories(tmp.resolve("chat-sync")), cleanup,
                    results, System.out);
            ChatSyncScenario.print(r, System.out);

            assertThat(r.runs()).hasSize(1);
            ChatSyncScenario.CaseRun c = r.runs().get(0);
            assertThat(c.converged()).as("bob's store reached every event").isTrue();
            assertThat(c.bobEvents()).as("events bob's daemon reports").isEqualTo(1000);
            assertThat(c.aliceEvents()).as("events alice's daemon reports").isEqualTo(1000);
            assertThat(c.rejectedBob() + c.rejectedAlice()).as("rejected events").isZero();
            assertThat(c.ratio()).as("sync bytes / bytes of the missing events").isBetween(1.0, 1.5);

            assertThat(r.identical()).hasSize(1);
            ChatSyncScenario.IdenticalRun i = r.identical().get(0);
            assertThat(i.rangeMessages()).as("SyncRange messages for identical histories").isZero();
            assertThat(i.roundTrips()).as("round trips for identical histories").isEqualTo(1);
            assertThat(i.bobOut()).as("bytes bob -> alice").isPositive().isLessThan(1024);
            assertThat(i.bobIn()).as("bytes alice -> bob").isPositive().isLessThan(1024);
        } finally {
            cleanup.runAll();
        }
    }
}
