package org.parley.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class SimMainTest {
    private static String[] args(String s) {
        return s.isEmpty() ? new String[0] : s.split(" ");
    }

    private static int run(String a, ByteArrayOutputStream out, ByteArrayOutputStream err) {
        PrintStream o = System.out, e = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            return SimMain.run(args(a));
        } finally {
            System.setOut(o);
            System.setErr(e);
        }
    }

    @Test
    void badArgumentsExitWithTwoAndOneLineWithoutStackTrace() {
        for (String bad : new String[] {"", "--scenario nope", "--scenario churn --supernodes -3", "--scenario churn --clients x",
                "--scenario churn --minutes", "stray", "--scenario churn --frobnicate 1"}) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
            assertThat(run(bad, out, err)).as(bad).isEqualTo(2);
            String e = err.toString(StandardCharsets.UTF_8);
            assertThat(e).startsWith("sim: ").doesNotContain("Exception").doesNotContain("\tat ");
            assertThat(e.lines().count()).isEqualTo(2); // the message and the usage line
        }
    }

    @Test
    void parsesTheOptions() throws Exception {
        SimMain.Args a = SimMain.parse(args("--scenario all --supernodes 50 --clients 1_000 --seed 9 --minutes 1.5"));
        assertThat(a.scenarios()).containsExactly("churn", "outage2010", "outage2007", "partition");
        assertThat(a.supernodes()).isEqualTo(50);
        assertThat(a.clients()).isEqualTo(1000);
        assertThat(a.seed()).isEqualTo(9);
        assertThat(a.minutes()).isEqualTo(1.5);
        assertThatThrownBy(() -> SimMain.parse(args("--supernodes 10"))).hasMessageContaining("--scenario is required");
    }

    @Test
    void runsASmallScenarioAndPrintsTheTable() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int rc = run("--scenario outage2007 --supernodes 30 --clients 600 --seed 2 --minutes 2", out, err);
        assertThat(rc).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("== outage2007: 30 supernodes, 600 clients", "targets");
    }
}
