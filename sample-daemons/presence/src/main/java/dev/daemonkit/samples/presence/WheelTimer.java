package dev.daemonkit.samples.presence;

import dev.daemonkit.api.Timers;
import io.netty.util.Timeout;
import io.netty.util.Timer;
import io.netty.util.TimerTask;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Netty's {@link Timer}, as Lettuce wants it for command timeouts, on the daemon's timer wheel: instead of the
 * {@code HashedWheelTimer} thread Lettuce would start. Its timers are the daemon's, cancelled when it stops.
 */
final class WheelTimer implements Timer {
    private final Timers timers;

    WheelTimer(Timers timers) {
        this.timers = timers;
    }

    @Override
    public Timeout newTimeout(TimerTask task, long delay, TimeUnit unit) {
        Handle h = new Handle(this, task);
        h.scheduled = timers.schedule(Duration.ofNanos(Math.max(0, unit.toNanos(delay))), h);
        return h;
    }

    @Override
    public Set<Timeout> stop() {
        return Set.of(); // the wheel is the daemon's: it stops with it
    }

    private static final class Handle implements Timeout, Runnable {
        private final WheelTimer timer;
        private final TimerTask task;
        volatile dev.daemonkit.api.Timeout scheduled;
        private volatile boolean expired;
        private volatile boolean cancelled;

        Handle(WheelTimer timer, TimerTask task) {
            this.timer = timer;
            this.task = task;
        }

        @Override
        public void run() {
            if (cancelled) {
                return;
            }
            expired = true;
            try {
                task.run(this);
            } catch (Exception e) {
                throw new IllegalStateException("a Lettuce timer task failed", e);
            }
        }

        @Override
        public Timer timer() {
            return timer;
        }

        @Override
        public TimerTask task() {
            return task;
        }

        @Override
        public boolean isExpired() {
            return expired;
        }

        @Override
        public boolean isCancelled() {
            return cancelled;
        }

        @Override
        public boolean cancel() {
            if (expired || cancelled) {
                return false;
            }
            cancelled = true;
            dev.daemonkit.api.Timeout t = scheduled;
            if (t != null) {
                t.cancel();
            }
            return true;
        }
    }
}
