package dev.daemonkit.internal.lifecycle;

import dev.daemonkit.internal.plugins.FrameworkThreads;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Supplier;

/**
 * The launcher's one control thread: start, stop, restart, reload, hot deploy and supervision all run
 * on it, so they never race each other. Callers on other threads hand work to it and wait, or get a
 * future.
 */
final class ControlThread {
    private final ScheduledExecutorService executor = FrameworkThreads.singleScheduled("daemonkit-control");

    /** The thread as an executor, for the parts that schedule on it (restarts, plugin folder looks). */
    ScheduledExecutorService executor() {
        return executor;
    }

    /** Runs {@code work} on the control thread and waits for it; exceptions are rethrown as they are. */
    <T> T call(Callable<T> work) {
        try {
            return executor.submit(work).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    /** Runs {@code work} on the control thread; its future completes the returned one. */
    <T> CompletableFuture<T> async(Supplier<CompletableFuture<T>> work) {
        try {
            return CompletableFuture.supplyAsync(work, executor).thenCompose(f -> f);
        } catch (RejectedExecutionException e) {
            return CompletableFuture.failedFuture(new IllegalStateException("the launcher is stopping"));
        }
    }

    boolean isShutdown() {
        return executor.isShutdown();
    }

    void shutdownNow() {
        executor.shutdownNow();
    }
}
