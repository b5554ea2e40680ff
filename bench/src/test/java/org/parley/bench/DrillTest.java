package org.parley.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A small supernode failure drill end to end: 4 supernode processes, 60 bench clients with the daemon's attach
 * logic, one supernode (the most loaded) killed with SIGKILL. Every affected client must be attached to a
 * survivor and findable by others again within 30 s; no survivor may die or exceed its capacity. Skipped with a
 * message when supernode processes cannot be started here (no java launcher, or the test class path does not
 * hold org.parley.app.Main).
 */
class DrillTest {
    @TempDir Path tmp;

    @Test
    @Timeout(240)
    void killedSupernodesClientsAreBackAndFindableWithin30Seconds() throws Exception {
        String why = cannotStartSupernodes();
        if (why != null) System.err.println("drill test skipped: " + why);
        assumeTrue(why == null, () -> "drill test skipped: " + why);

        String before = System.getProperty("bench.results");
        System.setProperty("bench.results", tmp.resolve("results.jsonl").toString()); // supernode logs go next to it
        Cleanup cleanup = new Cleanup(null);
        try {
            DrillScenario.Config cfg = new DrillScenario.Config(4, 60, 1, 40, Duration.ofSeconds(5), Duration.ofSeconds(40),
                    2, 60, 2);
            DrillScenario.Result r = DrillScenario.run(cfg, Files.createDirectories(tmp.resolve("drill")), cleanup, System.out);
            DrillScenario.print(r);
            assertThat(r.affected()).as("clients attached to the killed supernode").isPositive();
            assertThat(r.reattachedInTarget()).as("affected clients re-attached within 30 s").isEqualTo(r.affected());
            assertThat(r.findableInTarget()).as("affected clients findable again within 30 s").isEqualTo(r.affected());
            assertThat(r.survivorsAlive()).as("surviving supernode processes alive").isTrue();
            assertThat(r.overCapacity()).as("a survivor went over its capacity").isFalse();
            assertThat(r.finalOnSurvivors()).as("clients attached to survivors afterwards").isEqualTo(cfg.clients());
            assertThat(r.finalFailed()).as("failed sample lookups afterwards").isZero();
            assertThat(r.unaffectedLost()).as("unaffected clients that lost their link").isZero();
        } finally {
            cleanup.runAll();
            if (before == null) System.clearProperty("bench.results");
            else System.setProperty("bench.results", before);
        }
    }

    /** Why supernode processes cannot be started from this JVM, or null. */
    static String cannotStartSupernodes() {
        Path java = Probe.jdkTool("java");
        if (!Files.isExecutable(java)) return "no java launcher at " + java;
        String cp = System.getProperty("java.class.path", "");
        boolean found = false;
        for (String e : cp.split(File.pathSeparator)) {
            if (e.isEmpty()) continue;
            Path p = Path.of(e);
            if (Files.isDirectory(p) && Files.exists(p.resolve("org/parley/app/Main.class"))) found = true;
            if (Files.isRegularFile(p) && e.endsWith(".jar")) {
                try (ZipFile z = new ZipFile(p.toFile())) {
                    if (z.getEntry("org/parley/app/Main.class") != null) found = true;
                } catch (Exception ignored) {
                    // not a jar we can read
                }
            }
            if (found) break;
        }
        if (!found) return "the class path of this JVM (java.class.path) does not hold org.parley.app.Main";
        try {
            Process p = new ProcessBuilder(List.of(java.toString(), "--enable-native-access=ALL-UNNAMED", "-cp", cp,
                    "org.parley.app.Main", "supernode", "run", "--help"))
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "'parley supernode run --help' did not finish within 60 s";
            }
            if (p.exitValue() != 0) return "'parley supernode run --help' exited with " + p.exitValue();
        } catch (Exception e) {
            return "cannot start a process: " + e;
        }
        return null;
    }
}
