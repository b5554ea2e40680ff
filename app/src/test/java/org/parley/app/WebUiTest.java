package org.parley.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The web UI in a real browser: starts alice, bob and carol's daemons and runs web-tests/ui-test.mjs, where
 * playwright-core drives Debian's Chromium (headless) through alice's and bob's UIs (sign-in, contacts and presence,
 * live messages, unread counts and read markers, a group, an oversize message refused, working offline and catching
 * up). Screenshots are kept in app/target/web-screenshots. Skipped, saying what is missing, where node, chromium or
 * the npm packages are absent; {@code .ci/run} installs all three.
 */
@Timeout(300)
class WebUiTest {
    private static final Path TESTS = Path.of("..", "web-tests").toAbsolutePath().normalize();
    private static final Path CHROMIUM = Path.of(System.getenv().getOrDefault("PARLEY_CHROMIUM", "/usr/bin/chromium"));
    @TempDir Path dir;

    private static boolean onPath(String command) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, command))) return true;
        }
        return false;
    }

    /** The major version of {@code node} on PATH, or -1. */
    private static int nodeMajor() {
        try {
            Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
            String v = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip();
            if (!p.waitFor(10, TimeUnit.SECONDS)) p.destroyForcibly();
            return Integer.parseInt(v.replaceFirst("^v(\\d+).*", "$1"));
        } catch (Exception e) {
            return -1;
        }
    }

    @Test
    void twoUsersChatInTheBrowserIncludingAGroupAndAnOfflineSpell() throws Exception {
        assumeTrue(onPath("node"), "skipped: node is not installed (apt-get install nodejs npm; .ci/run does this)");
        int node = nodeMajor();
        assumeTrue(node >= 20, "skipped: playwright-core needs Node.js 20 or newer, found " + (node < 0 ? "an unusable node" : "version " + node));
        assumeTrue(Files.isExecutable(CHROMIUM), "skipped: no Chromium at " + CHROMIUM
                + " (apt-get install chromium, or set PARLEY_CHROMIUM; .ci/run does this)");
        assumeTrue(Files.isDirectory(TESTS.resolve("node_modules/playwright-core")),
                "skipped: playwright-core is not installed (npm ci --prefix web-tests; .ci/run does this)");

        Path shots = Path.of("target", "web-screenshots").toAbsolutePath();
        try (DemoNetwork net = DemoNetwork.start(dir, List.of("alice", "bob", "carol"), true)) {
            assertThat(net.awaitAttached(Duration.ofSeconds(20))).isTrue();
            ObjectMapper json = new ObjectMapper();
            ObjectNode cfg = json.createObjectNode();
            cfg.put("chromium", CHROMIUM.toString());
            cfg.put("screenshots", shots.toString());
            for (String u : List.of("alice", "bob")) {
                var api = json.readTree(Files.readString(net.home(u).resolve(org.parley.client.LocalApi.API_FILE)));
                cfg.putObject(u).put("url", api.path("url").asText()).put("token", api.path("token").asText())
                        .put("ui", api.path("ui").asText());
            }
            Path file = dir.resolve("ui-test.json");
            Files.writeString(file, cfg.toString());

            Process p = new ProcessBuilder("node", TESTS.resolve("ui-test.mjs").toString(), file.toString())
                    .directory(TESTS.toFile()).redirectErrorStream(true).start();
            List<String> out = new ArrayList<>();
            Thread reader = Thread.ofVirtual().start(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String l; (l = r.readLine()) != null; ) {
                        System.out.println(l);
                        out.add(l);
                    }
                } catch (java.io.IOException ignored) {
                    // process ended
                }
            });
            boolean done = p.waitFor(240, TimeUnit.SECONDS);
            if (!done) p.destroyForcibly();
            reader.join(5000);
            assertThat(done).as("browser test finished in time; output:\n%s", String.join("\n", out)).isTrue();
            assertThat(p.exitValue()).as("browser test output (screenshots in %s):\n%s", shots, String.join("\n", out)).isZero();
            assertThat(out).contains("[ui-test] PASS");
            try (var s = Files.list(shots)) {
                assertThat(s.filter(f -> f.toString().endsWith(".png")).count()).isGreaterThanOrEqualTo(8);
            }
        }
    }
}
