package dev.daemonkit.benchmarks.timers;

import dev.daemonkit.api.Timers;
import dev.daemonkit.internal.timers.ScopedTimers;
import dev.daemonkit.internal.transport.LogScope;
import dev.daemonkit.timers.EventLoopTimerWheels;
import dev.daemonkit.timers.HierarchicalTimerWheel;
import dev.daemonkit.timers.Timeout;
import dev.daemonkit.timers.TimerScope;
import dev.daemonkit.timers.TimerWheelSettings;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.HashedWheelTimer;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.agrona.DeadlineTimerWheel;

/**
 * One timer implementation under test, doing whole batches of a workload so that timers living on
 * an event loop are driven from inside it, exactly like a handler would; the others run the same
 * batch on the benchmark thread. Handles are kept in arrays so a workload allocates only what the
 * timer itself allocates.
 */
abstract class Subject implements AutoCloseable {

    static final Runnable NOOP = () -> {};

    /** Deadlines for the reschedule workload: a pool of durations so that the loop allocates none. */
    final Duration[] randomDelays = new Duration[4096];

    final long[] randomDelayNanos = new long[4096];
    final int[] randomIndexes = new int[65536];

    Subject() {
        SplittableRandom r = new SplittableRandom(42);
        for (int i = 0; i < randomDelays.length; i++) {
            randomDelayNanos[i] = TimeUnit.SECONDS.toNanos(1) + r.nextLong(TimeUnit.SECONDS.toNanos(59));
            randomDelays[i] = Duration.ofNanos(randomDelayNanos[i]);
        }
    }

    static Subject create(String name) {
        return switch (name) {
            case "daemonkit" -> new Daemonkit();
            case "daemonkit-loop" -> new DaemonkitLoop();
            case "daemonkit-api" -> new DaemonkitApi(false);
            case "daemonkit-api-conn" -> new DaemonkitApi(true);
            case "agrona" -> new Agrona();
            case "hwt-default" -> new Hwt(new HashedWheelTimer());
            case "hwt-1ms" ->
                new Hwt(new HashedWheelTimer(new DefaultThreadFactory("hwt"), 1, TimeUnit.MILLISECONDS, 4096));
            case "stpe" -> new Stpe();
            case "netty-loop" -> new NettyLoop();
            default -> throw new IllegalArgumentException("unknown timer " + name);
        };
    }

    /** Schedules {@code n} timers that stay pending for the whole run (deadlines 10 to 20 minutes away). */
    abstract void fill(int n);

    /**
     * {@code n} times: schedule a timer, then cancel it; the i-th of a call is {@code delays[i & mask]}
     * away ({@code delayNanos} holds the same in nanoseconds, for the timers that take a long). Both
     * arrays have a power-of-two length.
     */
    abstract int scheduleCancel(int n, Duration[] delays, long[] delayNanos);

    /**
     * {@code n} times: push a random one of the filled timers to a random deadline, or to the latest one.
     * The i-th timer and deadline of a call are entry {@link #nextBatch}{@code (n) + i} of
     * {@link #randomIndexes} and {@link #randomDelays} (masked).
     */
    abstract int reschedule(int n, boolean latest, Duration latestDelay);

    /**
     * Where the next reschedule batch starts in {@link #randomIndexes} and {@link #randomDelays}: each
     * batch goes on where the one before ended, so every fork of every subject walks the same timers
     * with the same deadlines in the same order, each entry again 65,536 operations later.
     *
     * <p>Batches used to start at the clock's time ({@code nanoTime >>> 4}, which wraps every
     * 1.05 ms), which made the set of timers a fork touched depend on how long its batches took: a
     * batch of ~66, 75, 87, 95, 105 or 131 us (1.05 ms divided by a whole number) restarts at only
     * a few offsets. Simulated with those start times (batch times +-1 %), 64 batches touched
     * 11k-20k of the 65,536 entries at such batch times and 29k-47k at others (64,000 now). A fork
     * slowed by a neighbour, or a subject a little faster than another, then worked on a set of
     * timers a few times smaller or larger than another's, while the 100k timers are several times
     * the L2: a difference the figures cannot tell apart from the timer's own cost.
     */
    private int cursor;

    /** The first entry of a batch of {@code n}: on the benchmark thread, before a loop subject hands it over. */
    final int nextBatch(int n) {
        int first = cursor;
        cursor = first + n;
        return first;
    }

    void prepareIndexes(int filled) {
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < randomIndexes.length; i++) {
            randomIndexes[i] = r.nextInt(filled);
        }
    }

    static long fillDelayNanos(SplittableRandom r) {
        return TimeUnit.MINUTES.toNanos(10) + r.nextLong(TimeUnit.MINUTES.toNanos(10));
    }

    @Override
    public void close() throws Exception {}

    /** Runs {@code call} on {@code loop} and waits for it. */
    static <T> T on(EventLoop loop, Callable<T> call) {
        try {
            return loop.submit(call).get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    // ---------------------------------------------------------------------------------------------

    static final class Daemonkit extends Subject {
        final HierarchicalTimerWheel wheel =
                new HierarchicalTimerWheel(TimerWheelSettings.defaults(), System::nanoTime);
        Timeout[] handles;

        @Override
        void fill(int n) {
            handles = new Timeout[Math.max(n, 1)];
            SplittableRandom r = new SplittableRandom(1);
            for (int i = 0; i < n; i++) {
                handles[i] = wheel.schedule(Duration.ofNanos(fillDelayNanos(r)), NOOP);
            }
            prepareIndexes(Math.max(n, 1));
        }

        @Override
        int scheduleCancel(int n, Duration[] delays, long[] delayNanos) {
            int mask = delays.length - 1;
            int c = 0;
            for (int i = 0; i < n; i++) {
                if (wheel.schedule(delays[i & mask], NOOP).cancel()) {
                    c++;
                }
            }
            return c;
        }

        @Override
        int reschedule(int n, boolean latest, Duration latestDelay) {
            return rescheduleAll(handles, randomIndexes, randomDelays, nextBatch(n), n, latest, latestDelay);
        }
    }

    static int rescheduleAll(
            Timeout[] handles,
            int[] indexes,
            Duration[] delays,
            int base,
            int n,
            boolean latest,
            Duration latestDelay) {
        int c = 0;
        for (int i = 0; i < n; i++) {
            int k = base + i;
            Timeout t = handles[indexes[k & (indexes.length - 1)]];
            if (t.reschedule(latest ? latestDelay : delays[k & (delays.length - 1)])) {
                c++;
            }
        }
        return c;
    }

    static final class DaemonkitLoop extends Subject {
        final MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        final EventLoop loop = group.next();
        final EventLoopTimerWheels wheels = EventLoopTimerWheels.create(group, TimerWheelSettings.defaults());
        final TimerScope scope = wheels.newScope("bench");
        Timeout[] handles;

        @Override
        void fill(int n) {
            handles = new Timeout[Math.max(n, 1)];
            on(loop, () -> {
                SplittableRandom r = new SplittableRandom(1);
                for (int i = 0; i < n; i++) {
                    handles[i] = scope.schedule(Duration.ofNanos(fillDelayNanos(r)), NOOP);
                }
                return null;
            });
            prepareIndexes(Math.max(n, 1));
        }

        @Override
        int scheduleCancel(int n, Duration[] delays, long[] delayNanos) {
            return on(loop, () -> {
                int mask = delays.length - 1;
                int c = 0;
                for (int i = 0; i < n; i++) {
                    if (scope.schedule(delays[i & mask], NOOP).cancel()) {
                        c++;
                    }
                }
                return c;
            });
        }

        @Override
        int reschedule(int n, boolean latest, Duration latestDelay) {
            int base = nextBatch(n);
            return on(loop, () -> rescheduleAll(handles, randomIndexes, randomDelays, base, n, latest, latestDelay));
        }

        @Override
        public void close() {
            wheels.close();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /**
     * What a plugin calls: the API's {@link Timers} of a daemon ({@code daemon.timers()}), or of one
     * connection ({@code daemon.timers(channel)}: a child scope counted in the daemon's), used from
     * inside its event loop with the daemon's logging context, exactly as the framework wires it.
     */
    static final class DaemonkitApi extends Subject {
        final MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        final EventLoop loop = group.next();
        final EventLoopTimerWheels wheels =
                EventLoopTimerWheels.create(group, TimerWheelSettings.defaults(), ScopedTimers.NODES);
        final Timers timers;
        dev.daemonkit.api.Timeout[] handles;

        DaemonkitApi(boolean connection) {
            // Wired as the launcher does (FrameworkServices, InstanceContext).
            TimerScope scope = wheels.newScope("bench");
            timers = connection
                    ? ScopedTimers.ofConnection(scope, loop, LogScope.of("bench", "7f000001-1", "127.0.0.1:40000"))
                    : ScopedTimers.ofDaemon(scope, LogScope.of("bench"));
        }

        @Override
        void fill(int n) {
            handles = new dev.daemonkit.api.Timeout[Math.max(n, 1)];
            on(loop, () -> {
                SplittableRandom r = new SplittableRandom(1);
                for (int i = 0; i < n; i++) {
                    handles[i] = timers.schedule(Duration.ofNanos(fillDelayNanos(r)), NOOP);
                }
                return null;
            });
            prepareIndexes(Math.max(n, 1));
        }

        @Override
        int scheduleCancel(int n, Duration[] delays, long[] delayNanos) {
            return on(loop, () -> {
                int mask = delays.length - 1;
                int c = 0;
                for (int i = 0; i < n; i++) {
                    if (timers.schedule(delays[i & mask], NOOP).cancel()) {
                        c++;
                    }
                }
                return c;
            });
        }

        @Override
        int reschedule(int n, boolean latest, Duration latestDelay) {
            int base = nextBatch(n);
            return on(loop, () -> {
                int c = 0;
                for (int i = 0; i < n; i++) {
                    int k = base + i;
                    dev.daemonkit.api.Timeout t = handles[randomIndexes[k & (randomIndexes.length - 1)]];
                    if (t.reschedule(latest ? latestDelay : randomDelays[k & (randomDelays.length - 1)])) {
                        c++;
                    }
                }
                return c;
            });
        }

        @Override
        public void close() {
            wheels.close();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    static final class Agrona extends Subject {
        // Agrona wants a power-of-two resolution: 2^20 ns (1.05 ms), and 1024 ticks per turn.
        final DeadlineTimerWheel wheel = new DeadlineTimerWheel(TimeUnit.NANOSECONDS, System.nanoTime(), 1 << 20, 1024);
        long[] ids;

        @Override
        void fill(int n) {
            ids = new long[Math.max(n, 1)];
            SplittableRandom r = new SplittableRandom(1);
            for (int i = 0; i < n; i++) {
                ids[i] = wheel.scheduleTimer(System.nanoTime() + fillDelayNanos(r));
            }
            prepareIndexes(Math.max(n, 1));
        }

        @Override
        int scheduleCancel(int n, Duration[] delays, long[] delayNanos) {
            int mask = delayNanos.length - 1;
            int c = 0;
            for (int i = 0; i < n; i++) {
                if (wheel.cancelTimer(wheel.scheduleTimer(System.nanoTime() + delayNanos[i & mask]))) {
                    c++;
                }
            }
            return c;
        }

        @Override
        int reschedule(int n, boolean latest, Duration latestDelay) {
            // No reschedule in Agrona: cancel and schedule again, as its users do.
            long latestNanos = latestDelay.toNanos();
            int base = nextBatch(n);
            int c = 0;
            for (int i = 0; i < n; i++) {
                int k = base + i;
                int j = randomIndexes[k & (randomIndexes.length - 1)];
                if (wheel.cancelTimer(ids[j])) {
                    c++;
                }
                ids[j] = wheel.scheduleTimer(System.nanoTime()
                        + (latest ? latestNanos : randomDelayNanos[k & (randomDelayNanos.length - 1)]));
            }
            return c;
        }
    }

    static final class Hwt extends Subject {
        final HashedWheelTimer timer;
        io.netty.util.Timeout[] handles;

        Hwt(HashedWheelTimer timer) {
            this.timer = timer;
            timer.start();
        }

        @Override
        void fill(int n) {
            handles = new io.netty.util.Timeout[Math.max(n, 1)];
            SplittableRandom r = new SplittableRandom(1);
            for (int i = 0; i < n; i++) {
                handles[i] = timer.newTimeout(t -> {}, fillDelayNanos(r), TimeUnit.NANOSECONDS);
            }
            prepareIndexes(Math.max(n, 1));
        }

        @Override
        int scheduleCancel(int n, Duration[] delays, long[] delayNanos) {
            int mask = delayNanos.length - 1;
            int c = 0;
            for (int i = 0; i < n; i++) {
                if (timer.newTimeout(t -> {}, delayNanos[i & mask], TimeUnit.NANOSECONDS)
                        .cancel()) {
                    c++;
                }
            }
            return c;
        }

        @Override
        int reschedule(int n, boolean latest, Duration latestDelay) {
            long latestNanos = latestDelay.toNanos();
            int base = nextBatch(n);
            int c = 0;
            for (int i = 0; i < n; i++) {
                int k = base + i;
                int j = randomIndexes[k & (randomIndexes.length - 1)];
                if (handles[j].cancel()) {
                    c++;
                }
                handles[j] = timer.newTimeout(
                        t -> {},
                        latest ? latestNanos : randomDelayNanos[k & (randomDelayNanos.length - 1)],
                        TimeUnit.NANOSECONDS);
            }
            return c;
        }

        @Override
        public void close() {
            timer.stop();
        }
    }

    static final class Stpe extends Subject {
        final ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1);
        ScheduledFuture<?>[] handles;

        Stpe() {
            // Without this a cancelled task stays queued until its deadline: the JDK's own leak.
            executor.setRemoveOnCancelPolicy(true);
        }

        @Override
        void fill(int n) {
            handles = new ScheduledFuture<?>[Math.max(n, 1)];
            SplittableRandom r = new SplittableRandom(1);
            for (int i = 0; i < n; i++) {
                handles[i] = executor.schedule(NOOP, fillDelayNanos(r), TimeUnit.NANOSECONDS);
            }
            prepareIndexes(Math.max(n, 1));
        }

        @Override
        int scheduleCancel(int n, Duration[] delays, long[] delayNanos) {
            int mask = delayNanos.length - 1;
            int c = 0;
            for (int i = 0; i < n; i++) {
                if (executor.schedule(NOOP, delayNanos[i & mask], TimeUnit.NANOSECONDS)
                        .cancel(false)) {
                    c++;
                }
            }
            return c;
        }

        @Override
        int reschedule(int n, boolean latest, Duration latestDelay) {
            long latestNanos = latestDelay.toNanos();
            int base = nextBatch(n);
            int c = 0;
            for (int i = 0; i < n; i++) {
                int k = base + i;
                int j = randomIndexes[k & (randomIndexes.length - 1)];
                if (handles[j].cancel(false)) {
                    c++;
                }
                handles[j] = executor.schedule(
                        NOOP,
                        latest ? latestNanos : randomDelayNanos[k & (randomDelayNanos.length - 1)],
                        TimeUnit.NANOSECONDS);
            }
            return c;
        }

        @Override
        public void close() {
            executor.shutdownNow();
        }
    }

    static final class NettyLoop extends Subject {
        final MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        final EventLoop loop = group.next();
        io.netty.util.concurrent.ScheduledFuture<?>[] handles;

        @Override
        void fill(int n) {
            handles = new io.netty.util.concurrent.ScheduledFuture<?>[Math.max(n, 1)];
            on(loop, () -> {
                SplittableRandom r = new SplittableRandom(1);
                for (int i = 0; i < n; i++) {
                    handles[i] = loop.schedule(NOOP, fillDelayNanos(r), TimeUnit.NANOSECONDS);
                }
                return null;
            });
            prepareIndexes(Math.max(n, 1));
        }

        @Override
        int scheduleCancel(int n, Duration[] delays, long[] delayNanos) {
            return on(loop, () -> {
                int mask = delayNanos.length - 1;
                int c = 0;
                for (int i = 0; i < n; i++) {
                    if (loop.schedule(NOOP, delayNanos[i & mask], TimeUnit.NANOSECONDS)
                            .cancel(false)) {
                        c++;
                    }
                }
                return c;
            });
        }

        @Override
        int reschedule(int n, boolean latest, Duration latestDelay) {
            long latestNanos = latestDelay.toNanos();
            int base = nextBatch(n);
            return on(loop, () -> {
                int c = 0;
                for (int i = 0; i < n; i++) {
                    int k = base + i;
                    int j = randomIndexes[k & (randomIndexes.length - 1)];
                    if (handles[j].cancel(false)) {
                        c++;
                    }
                    handles[j] = loop.schedule(
                            NOOP,
                            latest ? latestNanos : randomDelayNanos[k & (randomDelayNanos.length - 1)],
                            TimeUnit.NANOSECONDS);
                }
                return c;
            });
        }

        @Override
        public void close() {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
