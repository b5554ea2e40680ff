package org.parley.overlay;

/** Time and timers for pure logic: the simulator's virtual clock or a real executor. */
public interface Scheduler {
    /** Milliseconds since the epoch (virtual or real). */
    long now();

    /** Runs {@code task} after {@code delayMillis} on the node's thread. */
    Cancellable after(long delayMillis, Runnable task);

    interface Cancellable {
        void cancel();
    }
}
