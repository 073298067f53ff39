package dev.daemonkit.timers.internal;

/** A wheel's host for tests that drive the wheel by hand: always on its thread, tasks run at once, no wake-ups. */
final class InlineHost implements Wheel.Host {
    @Override
    public boolean inHostThread() {
        return true;
    }

    @Override
    public void execute(Runnable task) {
        task.run();
    }

    @Override
    public void wakeAt(long deadlineNanos) {}
}
