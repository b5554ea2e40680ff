package org.parley.app;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.util.ContextInitializer;
import ch.qos.logback.core.joran.spi.JoranException;
import java.net.URL;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.nio.file.Path;
import org.parley.identity.HostPort;
import org.parley.identity.Role;
import org.parley.login.LoginServer;
import org.parley.login.LoginServerConfig;
import org.parley.login.LoginServerData;
import org.slf4j.LoggerFactory;

/**
 * Runs {@link Main#run} in-process with its own standard input and captured standard output and error.
 *
 * <p>System.out/System.err are swapped for streams that route writes by thread: the thread running the
 * command (and threads it starts) write into the capture, every other thread (servers started by the test
 * itself, a demo network's daemons) keeps writing to the real streams. So the capture holds exactly what
 * a user of the command would see, not the log lines of servers that would live in other processes.
 */
final class CliTestSupport {
    private CliTestSupport() {}

    /** What a command printed and returned. */
    record Result(int code, String out, String err) {
        List<String> errLines() {
            return err.lines().toList();
        }

        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout ---\n" + out + "\n--- stderr ---\n" + err;
        }
    }

    private static final class Capture {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
    }

    private static final InheritableThreadLocal<Capture> CAPTURE = new InheritableThreadLocal<>();

    private static final class Router extends OutputStream {
        private final PrintStream real;
        private final boolean err;

        Router(PrintStream real, boolean err) {
            this.real = real;
            this.err = err;
        }

        private OutputStream target() {
            Capture c = CAPTURE.get();
            if (c == null) return real;
            return err ? c.err : c.out;
        }

        @Override
        public void write(int b) {
            OutputStream t = target();
            synchronized (t) {
                try {
                    t.write(b);
                } catch (IOException e) {
                    // ByteArrayOutputStream and PrintStream do not throw
                }
            }
        }

        @Override
        public void write(byte[] b, int off, int len) {
            OutputStream t = target();
            synchronized (t) {
                try {
                    t.write(b, off, len);
                } catch (IOException e) {
                    // ByteArrayOutputStream and PrintStream do not throw
                }
            }
        }

        @Override
        public void flush() {
            try {
                target().flush();
            } catch (IOException e) {
                // ignore
            }
        }
    }

    /** Runs the command in this thread. */
    static Result run(String stdin, String... args) {
        try {
            return run(Duration.ofSeconds(120), stdin, args);
        } catch (TimeoutException e) {
            throw new AssertionError("parley " + String.join(" ", args) + " did not finish in time");
        }
    }

    /**
     * Runs the command in a separate thread and waits at most {@code timeout} for it (for commands that
     * would block if they did not fail). The thread is interrupted on timeout.
     */
    static synchronized Result run(Duration timeout, String stdin, String... args) throws TimeoutException {
        PrintStream realOut = System.out;
        PrintStream realErr = System.err;
        InputStream realIn = System.in;
        Capture c = new Capture();
        PrintStream out = new PrintStream(new Router(realOut, false), true, StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(new Router(realErr, true), true, StandardCharsets.UTF_8);
        System.setIn(new ByteArrayInputStream((stdin == null ? "" : stdin).getBytes(StandardCharsets.UTF_8)));
        System.setOut(out);
        System.setErr(err);
        Thread[] runner = new Thread[1];
        CompletableFuture<Integer> f = new CompletableFuture<>();
        try {
            Thread t = new Thread(() -> {
                CAPTURE.set(c);
                try {
                    f.complete(Main.run(args));
                } catch (Throwable ex) {
                    f.completeExceptionally(ex);
                } finally {
                    System.out.flush();
                    System.err.flush();
                    CAPTURE.remove();
                }
            }, "cli-" + (args.length > 0 ? args[0] : "none"));
            t.setDaemon(true);
            runner[0] = t;
            t.start();
            int code;
            try {
                code = f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            } catch (ExecutionException e) {
                throw new AssertionError("Main.run threw instead of returning an exit code: " + e.getCause(), e.getCause());
            } catch (TimeoutException e) {
                runner[0].interrupt();
                throw new TimeoutException("parley " + String.join(" ", args) + " still running after " + timeout
                        + "; output so far:\n" + text(c.out) + "\n" + text(c.err));
            }
            return new Result(code, text(c.out), text(c.err));
        } finally {
            System.setOut(realOut);
            System.setErr(realErr);
            System.setIn(realIn);
        }
    }

    private static String text(ByteArrayOutputStream b) {
        synchronized (b) {
            return b.toString(StandardCharsets.UTF_8);
        }
    }

    /**
     * The command failed with {@code code}, printed exactly one non-empty line "parley: ..." on stderr
     * that contains every fragment (case-insensitive), and no stack trace on either stream.
     */
    static String assertOneLineError(Result r, int code, String... fragments) {
        assertThat(r.code()).as("exit code of %s", r).isEqualTo(code);
        assertNoStackTrace(r);
        List<String> lines = r.errLines();
        assertThat(lines).as("stderr lines of %s", r).hasSize(1);
        String line = lines.get(0);
        assertThat(line).as("stderr of %s", r).startsWith("parley: ");
        assertThat(line.substring("parley: ".length()).trim()).as("stderr of %s", r).isNotEmpty();
        for (String f : fragments) assertThat(line).as("stderr of %s", r).containsIgnoringCase(f);
        return line;
    }

    static void assertNoStackTrace(Result r) {
        assertThat(r.out()).as("stdout of %s", r).doesNotContain("Exception").doesNotContain("\tat ");
        assertThat(r.err()).as("stderr of %s", r).doesNotContain("Exception").doesNotContain("\tat ");
    }

    // ------------------------------------------------------------------ logging

    private static Logger root() {
        return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    }

    /** The "run" commands raise the root level to INFO for the whole JVM; tests put it back. */
    static Level rootLevel() {
        return root().getLevel();
    }

    static void rootLevel(Level l) {
        root().setLevel(l);
    }

    static Level level(String logger) {
        return ((Logger) LoggerFactory.getLogger(logger)).getLevel();
    }

    static void level(String logger, Level l) {
        ((Logger) LoggerFactory.getLogger(logger)).setLevel(l);
    }

    /**
     * Switches logback to the program's own configuration (src/main/resources/logback.xml: WARN, Javalin
     * silent, no stack traces), so that in-process commands log what the installed program would log.
     */
    static void useProductionLogging() {
        LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
        URL main = CliTestSupport.class.getResource("/logback.xml");
        if (main == null) throw new IllegalStateException("logback.xml of the program is not on the class path");
        ctx.reset();
        try {
            JoranConfigurator j = new JoranConfigurator();
            j.setContext(ctx);
            j.doConfigure(main);
        } catch (JoranException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Back to the default configuration of the test class path (logback-test.xml if present). */
    static void restoreTestLogging() {
        LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
        ctx.reset();
        try {
            new ContextInitializer(ctx).autoConfig();
        } catch (JoranException e) {
            throw new IllegalStateException(e);
        }
    }

    // ------------------------------------------------------------------ in-process login server

    /** A login server folder and its running server on 127.0.0.1 (free port), with network.json updated. */
    static final class LoginFixture implements AutoCloseable {
        final LoginServerData data;
        final LoginServer server;

        private LoginFixture(LoginServerData data, LoginServer server) {
            this.data = data;
            this.server = server;
        }

        static LoginFixture start(Path dir) {
            LoginServerData d = LoginServerData.init(dir, "t", new HostPort("127.0.0.1", 0));
            try {
                LoginServer s = LoginServer.start(d, LoginServerConfig.defaults(d.networkFile())
                        .withListen(new HostPort("127.0.0.1", 0)));
                d.setLoginServerAddress(new HostPort("127.0.0.1", s.port()));
                return new LoginFixture(d, s);
            } catch (RuntimeException e) {
                d.close();
                throw e;
            }
        }

        Path networkFile() {
            return data.networkFilePath();
        }

        void add(String user, Role role, String password) {
            data.accounts().add(user, role, password.toCharArray());
        }

        /** Stops the HTTPS server (the folder stays open). */
        void stopServer() {
            server.close();
        }

        @Override
        public void close() {
            server.close();
            data.close();
        }
    }

    // ------------------------------------------------------------------ ports

    static int freeTcpPort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(false);
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return s.getLocalPort();
        }
    }

    static int freeUdpPort() throws IOException {
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            return s.getLocalPort();
        }
    }
}
