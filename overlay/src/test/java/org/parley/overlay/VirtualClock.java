package org.parley.overlay;

import java.util.PriorityQueue;

/** A deterministic single-threaded scheduler: virtual time advances only when the test runs it. */
final class VirtualClock implements Scheduler {
    private static final class Task implements Scheduler.Cancellable {
        final long at;
        final long seq;
        final Runnable r;
        boolean cancelled;

        Task(long at, long seq, Runnable r) {
            this.at = at;
            this.seq = seq;
            this.r = r;
        }

        @Override
        public void cancel() {
            cancelled = true;
        }
    }

    private final PriorityQueue<Task> queue = new PriorityQueue<>((a, b) -> a.at != b.at ? Long.compare(a.at, b.at) : Long.compare(a.seq, b.seq));
    private long now;
    private long seq;
    private long executed;

    VirtualClock(long start) {
        this.now = start;
    }

    @Override
    public long now() {
        return now;
    }

    @Override
    public Scheduler.Cancellable after(long delayMillis, Runnable task) {
        if (delayMillis < 0) throw new AssertionError("negative delay " + delayMillis);
        Task t = new Task(now + delayMillis, seq++, task);
        queue.add(t);
        return t;
    }

    /** Runs every task due up to {@code until} (inclusive) and leaves the clock there. */
    void runUntil(long until) {
        while (!queue.isEmpty() && queue.peek().at <= until) {
            Task t = queue.poll();
            if (t.cancelled) continue;
            now = t.at;
            executed++;
            t.r.run();
        }
        now = Math.max(now, until);
    }

    void runFor(long millis) {
        runUntil(now + millis);
    }

    /** Advances time without running anything (for pure-logic classes that take the time as an argument). */
    void advance(long millis) {
        now += millis;
    }

    int pendingTasks() {
        int n = 0;
        for (Task t : queue) if (!t.cancelled) n++;
        return n;
    }

    long executed() {
        return executed;
    }
}
