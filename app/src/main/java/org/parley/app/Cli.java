package org.parley.app;

import ch.qos.logback.classic.Level;
import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.concurrent.CountDownLatch;
import org.parley.identity.HostPort;
import org.slf4j.LoggerFactory;

/** Helpers shared by the commands. */
final class Cli {
    private Cli() {}

    /** Reads a password: hidden prompt on a terminal, otherwise the first line of standard input. */
    static char[] readPassword(String prompt) {
        Console console = System.console();
        if (console != null && System.in != null && isTerminal()) {
            char[] pw = console.readPassword("%s", prompt);
            if (pw == null || pw.length == 0) throw new UserError("no password given");
            return pw;
        }
        try {
            BufferedReader r = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String line = r.readLine();
            if (line == null || line.isEmpty()) throw new UserError("expected the password on standard input");
            return line.toCharArray();
        } catch (IOException e) {
            throw new UserError("cannot read the password from standard input");
        }
    }

    private static boolean isTerminal() {
        Console c = System.console();
        try {
            return c != null && (boolean) Console.class.getMethod("isTerminal").invoke(c);
        } catch (ReflectiveOperationException e) {
            return c != null;
        }
    }

    static HostPort hostPort(String s, String what) {
        try {
            return HostPort.parse(s);
        } catch (IllegalArgumentException e) {
            throw new UserError(what + ": " + e.getMessage());
        }
    }

    /** Parses 90s, 15m, 24h, 7d or ISO-8601 (PT24H). */
    static Duration duration(String s, String what) {
        try {
            if (s.matches("\\d+[smhd]")) {
                long n = Long.parseLong(s.substring(0, s.length() - 1));
                return switch (s.charAt(s.length() - 1)) {
                    case 's' -> Duration.ofSeconds(n);
                    case 'm' -> Duration.ofMinutes(n);
                    case 'h' -> Duration.ofHours(n);
                    default -> Duration.ofDays(n);
                };
            }
            return Duration.parse(s);
        } catch (DateTimeParseException | NumberFormatException e) {
            throw new UserError(what + ": '" + s + "' is not a duration (use e.g. 90s, 15m, 24h or PT24H)");
        }
    }

    static void logLevel(Level level) {
        ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).setLevel(level);
    }

    /** Blocks until the JVM is asked to stop (Ctrl-C, SIGTERM), then runs {@code onStop}. */
    static void awaitShutdown(Runnable onStop) {
        CountDownLatch done = new CountDownLatch(1);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            done.countDown();
            try {
                onStop.run();
            } finally {
                stopped.countDown();
            }
        }, "parley-shutdown"));
        try {
            done.await();
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("[\\r\\n]+", " ").trim();
    }
}
