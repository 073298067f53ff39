package dev.daemonkit.samples.presence;

import dev.daemonkit.api.Timeout;
import dev.daemonkit.api.Timers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/** Timers and a clock that move only when the test says so: {@link #advance}. Single-threaded. */
final class ManualTimers implements Timers, LongSupplier {
    private long now = 1_000_000_000L;
    private final List<Task> tasks = new ArrayList<>();

    @Override
    public long getAsLong() {
        return now;
    }

    /** Moves the clock and runs every one-shot task whose deadline has come. */
    void advance(Duration d) {
        now += d.toNanos();
        for (Task t : List.copyOf(tasks)) {
            if (t.pending && t.deadline <= now) {
                t.pending = false;
                tasks.remove(t);
                t.task.run();
            }
        }
    }

    @Override
    public Timeout schedule(Duration delay, Runnable task) {
        Task t = new Task(task, now + delay.toNanos());
        tasks.add(t);
        return t;
    }

    @Override
    public Timeout scheduleAtFixedRate(Duration initialDelay, Duration period, Runnable task) {
        throw new UnsupportedOperationException("the presence sessions use one-shot timers only");
    }

    @Override
    public Timeout scheduleWithFixedDelay(Duration initialDelay, Duration delay, Runnable task) {
        throw new UnsupportedOperationException("the presence sessions use one-shot timers only");
    }

    @Override
    public int pending() {
        return (int) tasks.stream().filter(t -> t.pending).count();
    }

    private final class Task implements Timeout {
        final Runnable task;
        long deadline;
        boolean pending = true;

        Task(Runnable task, long deadline) {
            this.task = task;
            this.deadline = deadline;
        }

        @Override
        public boolean cancel() {
            boolean was = pending;
            pending = false;
            tasks.remove(this);
            return was;
        }

        @Override
        public boolean reschedule(Duration delay) {
            if (!pending) {
                return false;
            }
            deadline = now + delay.toNanos();
            return true;
        }

        @Override
        public boolean isPending() {
            return pending;
        }
    }
}
