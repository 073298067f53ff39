package dev.daemonkit.timers;

import dev.daemonkit.timers.internal.LatenessRecorder;
import dev.daemonkit.timers.internal.LatenessWindow;
import dev.daemonkit.timers.internal.TimerOwner;
import dev.daemonkit.timers.internal.Wheel;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * A hierarchical timing wheel driven by an explicit clock: nothing fires until the owner calls
 * {@link #expire()}, which runs every task whose deadline tick has started by the clock's time.
 * Schedule, cancel and reschedule are O(1) whatever the delay; see {@code docs/timers.md}.
 *
 * <p>Single-threaded: every method, and every {@link Timeout} it returns, must be used from one
 * thread, the one that calls {@link #expire()}. Tests drive it with a hand-moved clock; the event
 * loops and {@link ThreadTimerWheel} use the same structure with hand-over from other threads.
 */
public final class HierarchicalTimerWheel implements Timers {

    private final Wheel wheel;
    private final TimerOwner owner;
    private final LatenessRecorder recorder = new LatenessRecorder();
    private final LatenessWindow window = new LatenessWindow();

    /**
     * @param nanoClock monotonic time in nanoseconds, {@code System::nanoTime} or a hand-moved clock;
     *                  read when scheduling and expiring
     */
    public HierarchicalTimerWheel(TimerWheelSettings settings, LongSupplier nanoClock) {
        this(settings, nanoClock, "wheel");
    }

    /** @param name named in the log when a task throws */
    public HierarchicalTimerWheel(TimerWheelSettings settings, LongSupplier nanoClock, String name) {
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(nanoClock, "nanoClock");
        this.wheel = new Wheel(settings, nanoClock, new Wheel.Host() {
            @Override
            public boolean inHostThread() {
                return true; // single-threaded by contract
            }

            @Override
            public void execute(Runnable task) {
                task.run();
            }

            @Override
            public void wakeAt(long deadlineNanos) {
                // The owner polls nextDeadlineNanos().
            }
        });
        this.owner = new TimerOwner(wheel, null, name, recorder);
    }

    @Override
    public Timeout schedule(Duration delay, Runnable task) {
        return wheel.schedule(owner, Wheel.nanos(delay), Objects.requireNonNull(task, "task"), 0, false);
    }

    @Override
    public Timeout scheduleAtFixedRate(Duration initialDelay, Duration period, Runnable task) {
        return wheel.schedule(
                owner, Wheel.nanos(initialDelay), Objects.requireNonNull(task, "task"), Scopes.period(period), true);
    }

    @Override
    public Timeout scheduleWithFixedDelay(Duration initialDelay, Duration delay, Runnable task) {
        return wheel.schedule(
                owner, Wheel.nanos(initialDelay), Objects.requireNonNull(task, "task"), Scopes.period(delay), false);
    }

    /** Runs every task due by the clock's current time; returns how many ran. */
    public int expire() {
        return wheel.expire(wheel.nowNanos());
    }

    /**
     * Clock time at which {@link #expire()} next has work to do (a timer to fire, or timers to move
     * down a level), or {@link Long#MAX_VALUE} when the wheel holds nothing.
     */
    public long nextDeadlineNanos() {
        return wheel.nextWakeNanos();
    }

    @Override
    public int pending() {
        return wheel.pending();
    }

    /** Slots that hold at least one timer, over all levels: 0 when the wheel holds nothing at all. */
    public int occupiedSlots() {
        return wheel.occupiedSlots();
    }

    /** Lateness of expiries in the last 30 to 60 seconds. */
    public LatenessSnapshot lateness() {
        return window.snapshot(List.of(recorder));
    }
}
