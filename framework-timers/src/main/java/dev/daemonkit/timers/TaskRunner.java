package dev.daemonkit.timers;

/**
 * How the tasks of a {@link TimerScope} are run, e.g. inside their owner's logging context. Given
 * to the scope once instead of wrapping every task, so scheduling allocates nothing for it.
 *
 * <p>Called on the wheel's thread, once per run of a task; it must call {@code task.run()} exactly
 * once before it returns. What it throws is logged like a task's exception.
 */
@FunctionalInterface
public interface TaskRunner {

    void run(Runnable task);
}
