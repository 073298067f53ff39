package dev.daemonkit.samples.presence;

import io.netty.util.concurrent.AbstractScheduledEventExecutor;
import io.netty.util.concurrent.DefaultPromise;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.netty.util.concurrent.Promise;
import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.TimeUnit;

/**
 * An event loop whose turns the test runs, on the test's thread: {@link #runTurn} does what one turn
 * of Netty's loop does with its tasks (takes in the scheduled tasks that are due, then runs every
 * task, including those queued meanwhile). It never terminates.
 */
final class ManualLoop extends AbstractScheduledEventExecutor {
    private final Queue<Runnable> tasks = new ArrayDeque<>();
    private final Promise<?> termination = new DefaultPromise<Void>(ImmediateEventExecutor.INSTANCE);

    /** Runs one turn; returns how many tasks ran. */
    int runTurn() {
        long now = getCurrentTimeNanos();
        for (Runnable r; (r = pollScheduledTask(now)) != null; ) {
            tasks.add(r);
        }
        int ran = 0;
        for (Runnable r; (r = tasks.poll()) != null; ran++) {
            r.run();
        }
        return ran;
    }

    /** Runs turns until nothing is left to do, at most {@code max}; returns how many ran. */
    int runTurns(int max) {
        int n = 0;
        while (n < max && (!tasks.isEmpty() || hasScheduledTasks())) {
            runTurn();
            n++;
        }
        return n;
    }

    @Override
    public void execute(Runnable task) {
        tasks.add(task);
    }

    @Override
    public boolean inEventLoop(Thread thread) {
        return true;
    }

    @Override
    public boolean isShuttingDown() {
        return false;
    }

    @Override
    public Future<?> shutdownGracefully(long quietPeriod, long timeout, TimeUnit unit) {
        return termination;
    }

    @Override
    public Future<?> terminationFuture() {
        return termination;
    }

    @Override
    @Deprecated
    public void shutdown() {}

    @Override
    public boolean isShutdown() {
        return false;
    }

    @Override
    public boolean isTerminated() {
        return false;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
        return false;
    }
}
