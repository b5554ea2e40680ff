package org.parley.sim;

import org.parley.overlay.Scheduler;

/**
 * The virtual-time event loop: a binary heap ordered by time, then by sequence number (so events at the same
 * millisecond run in the order they were scheduled). Single-threaded; {@link #now()} is virtual milliseconds
 * since the epoch, starting at {@link #EPOCH}. Cancelled events stay in the heap and are skipped when due.
 */
public final class Engine implements Scheduler {
    /** Virtual time zero: 2026-01-01T00:00:00Z. */
    public static final long EPOCH = 1_767_225_600_000L;

    /** A scheduled task; cancelling it makes it a no-op. */
    static final class Event implements Scheduler.Cancellable {
        final long time;
        final long seq;
        Runnable task;

        Event(long time, long seq, Runnable task) {
            this.time = time;
            this.seq = seq;
            this.task = task;
        }

        @Override
        public void cancel() {
            task = null;
        }

    }

    // the heap keeps times and sequence numbers in primitive arrays next to the events: comparisons stay in cache
    private Event[] heap = new Event[4096];
    private long[] times = new long[4096];
    private long[] seqs = new long[4096];
    private int size;
    private long now = EPOCH;
    private long seq;
    private long processed;

    @Override
    public long now() {
        return now;
    }

    /** Virtual milliseconds since {@link #EPOCH}. */
    public long elapsed() {
        return now - EPOCH;
    }

    @Override
    public Cancellable after(long delayMillis, Runnable task) {
        return at(now + Math.max(0, delayMillis), task);
    }

    /** Runs {@code task} at virtual time {@code time} (not before now). */
    public Cancellable at(long time, Runnable task) {
        long t = Math.max(time, now);
        long s = seq++;
        Event e = new Event(t, s, task);
        if (size == heap.length) {
            heap = java.util.Arrays.copyOf(heap, size * 2);
            times = java.util.Arrays.copyOf(times, size * 2);
            seqs = java.util.Arrays.copyOf(seqs, size * 2);
        }
        int i = size++;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            long pt = times[parent];
            if (pt < t || (pt == t && seqs[parent] < s)) break;
            heap[i] = heap[parent];
            times[i] = pt;
            seqs[i] = seqs[parent];
            i = parent;
        }
        heap[i] = e;
        times[i] = t;
        seqs[i] = s;
        return e;
    }

    private Event pop() {
        Event top = heap[0];
        int n = --size;
        Event last = heap[n];
        long lt = times[n], ls = seqs[n];
        heap[n] = null;
        if (n > 0) {
            int i = 0;
            int half = n >>> 1;
            while (i < half) {
                int child = 2 * i + 1;
                int right = child + 1;
                long ct = times[child], cs = seqs[child];
                if (right < n) {
                    long rt = times[right];
                    if (rt < ct || (rt == ct && seqs[right] < cs)) {
                        child = right;
                        ct = rt;
                        cs = seqs[right];
                    }
                }
                if (lt < ct || (lt == ct && ls < cs)) break;
                heap[i] = heap[child];
                times[i] = ct;
                seqs[i] = cs;
                i = child;
            }
            heap[i] = last;
            times[i] = lt;
            seqs[i] = ls;
        }
        return top;
    }

    /** Runs every event due up to and including {@code time}, then sets the clock to {@code time}. */
    public void runUntil(long time) {
        while (size > 0 && times[0] <= time) {
            Event e = pop();
            Runnable t = e.task;
            if (t == null) continue;
            e.task = null;
            now = e.time;
            processed++;
            t.run();
        }
        if (time > now) now = time;
    }

    /** Runs for {@code millis} of virtual time. */
    public void runFor(long millis) {
        runUntil(now + millis);
    }

    /** Events run so far (cancelled ones not counted). */
    public long processed() {
        return processed;
    }

    /** Events waiting (cancelled ones included until they are due). */
    public int queued() {
        return size;
    }
}
