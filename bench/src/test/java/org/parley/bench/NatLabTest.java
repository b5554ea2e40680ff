package org.parley.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The NAT lab suite: real client daemons in network namespaces behind real iptables NATs, a real
 * supernode with its relay on the lab's "internet". Every pair of NAT types must deliver messages and
 * end up on the expected path (direct where the NATs allow hole punching, relayed otherwise); a direct
 * path that dies moves to the relay without loss or duplicates and comes back when the link returns.
 * Needs root; skipped with a message elsewhere.
 */
class NatLabTest {
    @TempDir Path tmp;

    private record Row(NatLab.Pair pair, String pathA, String pathB, long readyMillis, long deliveredMillis, String error) {
        boolean ok() {
            return error == null && pair.expected().equals(pathA) && pair.expected().equals(pathB);
        }
    }

    @Test
    @Timeout(900)
    void everyNatPairDeliversOnTheExpectedPathAndSurvivesPathLoss() throws Exception {
        Path root = NatLab.findRoot();
        Optional<String> why = NatLab.unavailable(root);
        if (why.isPresent()) System.err.println("NAT lab skipped: " + why.get());
        assumeTrue(why.isEmpty(), () -> "NAT lab skipped: " + why.get());
        try (NatLab lab = new NatLab(root, tmp.resolve("lab"))) {
            lab.start();
            List<Row> rows = new ArrayList<>();
            for (NatLab.Pair p : NatLab.matrix()) rows.add(runPair(lab, p));
            String table = table(rows);
            System.out.println(table);
            assertThat(rows).as("NAT pair matrix:%n%s", table).allMatch(Row::ok);

            pathLoss(lab, "full1", "port1");
        }
    }

    private Row runPair(NatLab lab, NatLab.Pair p) {
        try {
            JsonNode m = lab.send(p.a(), p.b(), "hello " + p.b() + " from " + p.a());
            long sent = m.path("sentAtMillis").asLong();
            lab.awaitDelivered(p.a(), p.b(), m.path("id").asText(), Duration.ofSeconds(30));
            long deliveredAfter = System.currentTimeMillis() - sent; // upper bound: includes polling
            // the session settles on the expected path; a relayed pair must not flip to direct either
            NatLab.await(Duration.ofSeconds(20), p + " on " + p.expected(),
                    () -> NatLab.onPath(p.expected()).test(lab.session(p.a(), p.b())));
            JsonNode r = lab.send(p.b(), p.a(), "hello back");
            lab.awaitDelivered(p.b(), p.a(), r.path("id").asText(), Duration.ofSeconds(30));
            NatLab.await(Duration.ofSeconds(20), p + " on " + p.expected() + " at " + p.b(),
                    () -> NatLab.onPath(p.expected()).test(lab.session(p.b(), p.a())));
            JsonNode sa = lab.session(p.a(), p.b());
            JsonNode sb = lab.session(p.b(), p.a());
            long ready = sa.path("sinceMillis").asLong() - sent;
            return new Row(p, sa.path("path").asText(), sb.path("path").asText(), ready, deliveredAfter, null);
        } catch (Throwable t) {
            String pa = "?";
            String pb = "?";
            try {
                JsonNode sa = lab.session(p.a(), p.b());
                JsonNode sb = lab.session(p.b(), p.a());
                pa = sa == null ? "none" : sa.path("path").asText();
                pb = sb == null ? "none" : sb.path("path").asText();
            } catch (Exception ignored) {
                // report what we have
            }
            return new Row(p, pa, pb, -1, -1, t.getMessage());
        }
    }

    private static String table(List<Row> rows) {
        StringBuilder b = new StringBuilder(String.format("%-14s %-15s %-15s %-15s %9s %12s  %s%n", "pair", "expected",
                "path at a", "path at b", "ready ms", "delivered ms", "result"));
        for (Row r : rows) {
            b.append(String.format("%-14s %-15s %-15s %-15s %9d %12d  %s%n", r.pair(), r.pair().expected(), r.pathA(),
                    r.pathB(), r.readyMillis(), r.deliveredMillis(), r.ok() ? "ok" : "FAIL " + (r.error() == null ? "" : r.error())));
        }
        return b.toString();
    }

    /** The direct path between a and b dies and comes back: relay in between, nothing lost, nothing twice. */
    private void pathLoss(NatLab lab, String a, String b) throws Exception {
        assertThat(lab.session(a, b).path("path").asText()).startsWith("direct");
        int changesBefore = lab.session(a, b).path("pathChanges").asInt();
        lab.block(a, b);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            ids.add(lab.send(a, b, "during the outage " + i).path("id").asText());
            Thread.sleep(300);
        }
        NatLab.await(Duration.ofSeconds(30), a + " falls back to the relay", () -> NatLab.onPath("relayed").test(lab.session(a, b)));
        for (int i = 0; i < 5; i++) ids.add(lab.send(a, b, "on the relay " + i).path("id").asText());
        for (String id : ids) lab.awaitDelivered(a, b, id, Duration.ofSeconds(30));
        lab.unblock(a, b);
        NatLab.await(Duration.ofSeconds(60), a + " back on the direct path",
                () -> NatLab.onPath("direct-punched").test(lab.session(a, b)));
        for (int i = 0; i < 5; i++) ids.add(lab.send(a, b, "direct again " + i).path("id").asText());
        for (String id : ids) lab.awaitDelivered(a, b, id, Duration.ofSeconds(30));
        List<String> received = new ArrayList<>();
        for (JsonNode m : lab.history(b, a)) if (m.path("sender").asText().equals(a)) received.add(m.path("id").asText());
        assertThat(received).doesNotHaveDuplicates().containsAll(ids);
        assertThat(lab.session(a, b).path("pathChanges").asInt()).isGreaterThanOrEqualTo(changesBefore + 2);
        System.out.println("path loss " + a + "<->" + b + ": direct -> relayed -> direct, " + ids.size()
                + " messages delivered once each, path changes " + lab.session(a, b).path("pathChanges").asInt());
    }
}
