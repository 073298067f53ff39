package dev.daemonkit.timers;

import dev.daemonkit.timers.internal.TimerNodeFactory;
import dev.daemonkit.timers.internal.Wheel;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One event loop's wheel and its driver. The loop advances the wheel itself: while anything is
 * linked, exactly one Netty task is scheduled for the next tick with work, and it re-arms itself;
 * when nothing is linked, nothing is scheduled. No thread of its own and no periodic tick.
 */
final class LoopWheel implements Wheel.Host, Runnable {

    private static final Logger log = LoggerFactory.getLogger(LoopWheel.class);

    final EventExecutor loop;
    final int index;
    final Wheel wheel;
    private ScheduledFuture<?> armed;
    private long armedAtNanos = Long.MAX_VALUE;

    /** @param settings null for the marker of "not on any loop of the group", which has no wheel */
    LoopWheel(EventExecutor loop, int index, TimerWheelSettings settings, TimerNodeFactory nodes) {
        this.loop = loop;
        this.index = index;
        this.wheel = settings == null ? null : new Wheel(settings, System::nanoTime, this, nodes);
    }

    @Override
    public boolean inHostThread() {
        return loop.inEventLoop();
    }

    /** Timers scheduled in a task or event wait for its end to be linked, with one clock read for all. */
    @Override
    public boolean defersLinks() {
        return true;
    }

    @Override
    public void execute(Runnable task) {
        try {
            loop.execute(task);
        } catch (RejectedExecutionException shutDown) {
            // The loop is gone, and its wheel with it: nothing left to hand over to.
            log.debug("event loop {} is shut down; dropped a timer hand-over", loop);
        }
    }

    @Override
    public void wakeAt(long deadlineNanos) {
        if (deadlineNanos == armedAtNanos) {
            return;
        }
        if (armed != null) {
            armed.cancel(false);
            armed = null;
        }
        armedAtNanos = deadlineNanos;
        if (deadlineNanos != Long.MAX_VALUE) {
            try {
                armed = loop.schedule(this, Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException shutDown) {
                armedAtNanos = Long.MAX_VALUE;
            }
        }
    }

    /** The armed Netty task: called by the loop at the deadline it was armed for. */
    @Override
    public void run() {
        armed = null;
        armedAtNanos = Long.MAX_VALUE;
        wheel.expire(System.nanoTime());
    }

    /** Loop thread: whether a Netty task is scheduled to advance this wheel. */
    boolean isArmed() {
        return armed != null;
    }

    /** Loop thread: stops the driver. */
    void disarm() {
        wakeAt(Long.MAX_VALUE);
    }
}
