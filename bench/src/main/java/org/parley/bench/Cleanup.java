package org.parley.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.atomic.AtomicBoolean;
import org.parley.app.DemoNetwork;

/**
 * Everything the benchmark must undo, run in reverse order of registration: at the end of a scenario, at the
 * end of the program, and from a shutdown hook (Ctrl-C, SIGTERM). Processes and folders are also listed in a
 * "leftovers" file so that bench/run.sh can remove them if this JVM is killed outright.
 */
final class Cleanup {
    interface Action {
        void run() throws Exception;
    }

    /** One registered action; closing it runs the action once and unregisters it. */
    final class Handle implements AutoCloseable {
        private final String what;
        private final Action action;
        private final AtomicBoolean done = new AtomicBoolean();

        private Handle(String what, Action action) {
            this.what = what;
            this.action = action;
        }

        @Override
        public void close() {
            if (!done.compareAndSet(false, true)) return;
            synchronized (Cleanup.this) {
                handles.remove(this);
            }
            try {
                action.run();
            } catch (Exception | Error e) {
                System.err.println("bench: cleanup of " + what + " failed: " + e);
            }
        }
    }

    private final Deque<Handle> handles = new ArrayDeque<>();
    private final Path leftovers;

    Cleanup(Path leftovers) {
        this.leftovers = leftovers;
        Runtime.getRuntime().addShutdownHook(new Thread(this::runAll, "bench-cleanup"));
    }

    synchronized Handle add(String what, Action action) {
        Handle h = new Handle(what, action);
        handles.push(h);
        return h;
    }

    /** Registers a temporary folder (deleted on cleanup) and records it for run.sh. */
    Handle folder(Path dir) {
        note("dir " + dir.toAbsolutePath());
        return add("folder " + dir, () -> DemoNetwork.deleteTree(dir));
    }

    /** Records a process id that run.sh kills if this JVM dies without cleaning up. */
    void notePid(long pid) {
        note("pid " + pid);
    }

    private synchronized void note(String line) {
        if (leftovers == null) return;
        try {
            Files.createDirectories(leftovers.toAbsolutePath().getParent());
            Files.writeString(leftovers, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            System.err.println("bench: cannot write " + leftovers + ": " + e.getMessage());
        }
    }

    void runAll() {
        while (true) {
            Handle h;
            synchronized (this) {
                h = handles.peek();
            }
            if (h == null) break;
            h.close();
        }
        if (leftovers != null) {
            try {
                Files.deleteIfExists(leftovers);
            } catch (IOException ignored) {
                // run.sh will look at it
            }
        }
    }
}
