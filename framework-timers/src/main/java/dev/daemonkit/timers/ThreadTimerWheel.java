package dev.daemonkit.timers;

import dev.daemonkit.timers.internal.LatenessRecorder;
import dev.daemonkit.timers.internal.LatenessWindow;
import dev.daemonkit.timers.internal.TimerNode;
import dev.daemonkit.timers.internal.TimerOwner;
import dev.daemonkit.timers.internal.Wheel;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A timer wheel with its own thread, for code that runs outside the event loops. The thread sleeps
 * until the next tick with work (never ticking idly) and runs the tasks, so tasks must be short;
 * other threads hand their calls to it through a lock-free queue.
 *
 * <p>Thread-safe. Close it to stop the thread; pending timers are then dropped without running.
 */
public final class ThreadTimerWheel implements Timers, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ThreadTimerWheel.class);

    private static final VarHandle SLEEPING;

    static {
        try {
            SLEEPING = MethodHandles.lookup().findVarHandle(ThreadTimerWheel.class, "sleeping", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Thread thread;
    private final Wheel wheel;
    private final TimerOwner owner;
    private final LatenessRecorder recorder = new LatenessRecorder();
    private final LatenessWindow window = new LatenessWindow();
    /**
     * Calls handed over to the wheel thread, in order: a {@link TimerNode} to link (a timer scheduled
     * from another thread, queued as itself rather than in a lambda), or a {@link Runnable} to run.
     */
    private final Queue<Object> inbox = new ConcurrentLinkedQueue<>();

    private volatile boolean sleeping;
    private volatile boolean running = true;
    /**
     * When the sleeping wheel thread wakes by itself; written by it before its last look at the
     * inbox, read by schedulers, so a timer due later than that need not wake it (it drains the
     * inbox when it wakes anyway): a burst of schedules then costs one wake-up, not one each.
     */
    private volatile long wakeAtNanos = Long.MAX_VALUE;

    /** Starts the wheel's thread, a daemon thread named {@code name}. */
    public ThreadTimerWheel(String name, TimerWheelSettings settings) {
        Objects.requireNonNull(name, "name");
        this.wheel = new Wheel(Objects.requireNonNull(settings, "settings"), System::nanoTime, new Wheel.Host() {
            @Override
            public boolean inHostThread() {
                return Thread.currentThread() == thread;
            }

            @Override
            public void execute(Runnable task) {
                handOver(task);
            }

            @Override
            public void wakeAt(long deadlineNanos) {
                wakeAtNanos = deadlineNanos;
            }
        });
        this.owner = new TimerOwner(wheel, null, name, recorder);
        this.thread = new Thread(this::loop, name);
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public Timeout schedule(Duration delay, Runnable task) {
        return submit(Wheel.nanos(delay), task, 0, false);
    }

    @Override
    public Timeout scheduleAtFixedRate(Duration initialDelay, Duration period, Runnable task) {
        return submit(Wheel.nanos(initialDelay), task, Scopes.period(period), true);
    }

    @Override
    public Timeout scheduleWithFixedDelay(Duration initialDelay, Duration delay, Runnable task) {
        return submit(Wheel.nanos(initialDelay), task, Scopes.period(delay), false);
    }

    private Timeout submit(long delayNanos, Runnable task, long periodNanos, boolean fixedRate) {
        Objects.requireNonNull(task, "task");
        if (Thread.currentThread() == thread) {
            return wheel.schedule(owner, delayNanos, task, periodNanos, fixedRate);
        }
        long delay = Wheel.clampDelay(delayNanos);
        long due = System.nanoTime() + delay;
        TimerNode node = periodNanos == 0
                ? wheel.newHandedOverNode(owner, task, due, delay)
                : Wheel.newNode(owner, task, due, periodNanos, fixedRate);
        inbox.offer(node);
        // The wheel thread publishes when it wakes, and sets sleeping, before its last look at the
        // inbox: either it sees this timer, or we see when it will look next.
        if (sleeping && due < wakeAtNanos) {
            wake();
        }
        return node;
    }

    private void handOver(Runnable task) {
        inbox.offer(task);
        if (sleeping) {
            wake();
        }
    }

    /** Unparks the sleeping thread once: the schedulers of a burst do not all pay for an unpark. */
    private void wake() {
        if (SLEEPING.compareAndSet(this, true, false)) {
            LockSupport.unpark(thread);
        }
    }

    private void loop() {
        while (running) {
            Object handed;
            while ((handed = inbox.poll()) != null) {
                try {
                    if (handed instanceof TimerNode node) {
                        wheel.linkHandedOver(node);
                    } else {
                        ((Runnable) handed).run();
                    }
                } catch (Throwable e) {
                    log.warn("timer wheel '{}': a handed-over call threw; the wheel goes on", owner.name(), e);
                }
            }
            wheel.expire(System.nanoTime());
            sleeping = true;
            if (inbox.isEmpty() && running) {
                long wakeAt = wakeAtNanos;
                if (wakeAt == Long.MAX_VALUE) {
                    LockSupport.park(this);
                } else {
                    long nanos = wakeAt - System.nanoTime();
                    if (nanos > 0) {
                        LockSupport.parkNanos(this, nanos);
                    }
                }
            }
            sleeping = false;
        }
        // Closed: drop every pending timer and its task at once, so nothing the tasks reference is
        // kept alive by a wheel that will never run again.
        wheel.close(owner);
        inbox.clear();
    }

    @Override
    public int pending() {
        return owner.pending();
    }

    /** Lateness of expiries in the last 30 to 60 seconds. */
    public LatenessSnapshot lateness() {
        return window.snapshot(List.of(recorder));
    }

    /**
     * Stops the thread and waits for it (unless called from a task); pending timers never fire and
     * their tasks are released. Idempotent.
     */
    @Override
    public void close() {
        running = false;
        LockSupport.unpark(thread);
        if (Thread.currentThread() != thread) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
