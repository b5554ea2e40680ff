package org.parley.supernode;

import java.time.Clock;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.parley.overlay.Scheduler;

/** The overlay's {@link Scheduler} in production: one single-threaded executor and the wall clock. */
final class ExecutorScheduler implements Scheduler {
    private final ScheduledExecutorService exec;
    private final Clock clock;

    ExecutorScheduler(ScheduledExecutorService exec, Clock clock) {
        this.exec = exec;
        this.clock = clock;
    }

    @Override
    public long now() {
        return clock.millis();
    }

    @Override
    public Cancellable after(long delayMillis, Runnable task) {
        try {
            ScheduledFuture<?> f = exec.schedule(task, delayMillis, TimeUnit.MILLISECONDS);
            return () -> f.cancel(false);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            return () -> { };
        }
    }
}
