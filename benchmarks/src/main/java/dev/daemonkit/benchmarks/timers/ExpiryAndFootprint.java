package dev.daemonkit.benchmarks.timers;

import dev.daemonkit.api.Timers;
import dev.daemonkit.internal.timers.ScopedTimers;
import dev.daemonkit.internal.transport.LogScope;
import dev.daemonkit.internal.transport.LoopTimerSlack;
import dev.daemonkit.timers.EventLoopTimerWheels;
import dev.daemonkit.timers.ThreadTimerWheel;
import dev.daemonkit.timers.TimerScope;
import dev.daemonkit.timers.TimerWheelSettings;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.HashedWheelTimer;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;
import org.HdrHistogram.Histogram;
import org.agrona.DeadlineTimerWheel;
import org.agrona.collections.Long2LongHashMap;

/**
 * The workloads JMH is the wrong tool for, one timer at a time in this JVM:
 * <ul>
 *   <li>footprint: schedule until 1M are pending (time taken, and heap retained per pending timer,
 *       from the heap in use after full GCs, less the benchmark's own handle array);</li>
 *   <li>expiry: 100k timers at random 1..1000 ms; lateness of each task against its exact deadline
 *       (p50/p99/max, and how many ran early), and process CPU while they expire;</li>
 *   <li>idle: process CPU per second with nothing pending, and with 1M pending 10 to 20 minutes away.</li>
 * </ul>
 * Usage: {@code java -Xms2g -Xmx2g -XX:+AlwaysPreTouch -cp benchmarks.jar
 * dev.daemonkit.benchmarks.timers.ExpiryAndFootprint [footprint|expiry|idle] [timer...]}
 */
public final class ExpiryAndFootprint {

    static final List<String> ALL = List.of(
            "daemonkit-thread",
            "daemonkit-thread-256",
            "daemonkit-loop",
            "daemonkit-api-epoll",
            "daemonkit-api-epoll-kernel-slack",
            "daemonkit-api-epoll-500us",
            "daemonkit-api-epoll-1024",
            "daemonkit-api-nio",
            "agrona",
            "hwt-default",
            "hwt-1ms",
            "stpe",
            "netty-loop",
            "netty-loop-epoll");

    /**
     * The loop threads' timer slack a launcher gives its event loops when the config names none
     * ({@code daemonkit.timers.loop-slack}: 1 us where the kernel's default is 50 us).
     */
    static Duration launcherLoopSlack() {
        return com.typesafe.config.ConfigFactory.defaultReference().getDuration("daemonkit.timers.loop-slack");
    }

    /**
     * The wheel settings a launcher runs its event loops' wheels with when the config names none
     * ({@code daemonkit.timers} in framework-core's reference.conf: 512 slots, where the library's own
     * {@link TimerWheelSettings#defaults()} has 1024), so that "daemonkit-api-epoll" measures the deployed path.
     */
    static TimerWheelSettings launcherDefaults() {
        com.typesafe.config.Config timers =
                com.typesafe.config.ConfigFactory.defaultReference().getConfig("daemonkit.timers");
        return TimerWheelSettings.defaults()
                .withTick(timers.getDuration("tick"))
                .withWheelSize(timers.getInt("wheel-size"));
    }

    /** What each workload needs of a timer: schedule from the main thread, run tasks on the timer's thread. */
    interface Timer extends AutoCloseable {
        /**
         * Schedules {@code n} timers at the given delays; tasks run {@code task.accept(i)}. Each
         * deadline is taken ({@code due[i]}, if given) just before its timer is scheduled, so time
         * spent scheduling the others never counts as lateness.
         */
        void scheduleAll(long[] delaysNanos, long[] due, IntConsumer task) throws Exception;

        default void scheduleAll(long[] delaysNanos, IntConsumer task) throws Exception {
            scheduleAll(delaysNanos, new long[delaysNanos.length], task);
        }

        /**
         * The wheel's own lateness figures, measured from the start of each timer's tick (so without
         * the rounding of the deadline up to the tick): what the loop's wake-ups and turns add; null
         * for timers that do not report it.
         */
        default dev.daemonkit.timers.LatenessSnapshot fromTick() {
            return null;
        }

        @Override
        void close() throws Exception;
    }

    public static void main(String[] args) throws Exception {
        String what = args.length > 0 ? args[0] : "all";
        List<String> timers = args.length > 1 ? List.of(args).subList(1, args.length) : ALL;
        System.out.printf(
                "JVM %s, heap max %d MB, %d cpus%n",
                System.getProperty("java.vm.version"),
                Runtime.getRuntime().maxMemory() >> 20,
                Runtime.getRuntime().availableProcessors());
        if (what.equals("footprint") || what.equals("all")) {
            for (String t : timers) {
                footprint(t);
            }
        }
        if (what.equals("expiry") || what.equals("all")) {
            expiry(timers);
        }
        if (what.equals("ticks")) {
            for (String t : timers) {
                ticks(t);
            }
        }
        if (what.equals("idle") || what.equals("all")) {
            idleBaseline();
            for (String t : timers) {
                idle(t);
            }
        }
    }

    /**
     * Runs {@code scheduleOne} for 0..n-1 on the loop, 1000 per loop task: one task scheduling all
     * 100k would hold the loop for 5-50 ms, so the timers due meanwhile would measure the harness's
     * burst, not the timer (0.5-5 % of them: the whole p99).
     */
    static void onLoopInBatches(EventLoop loop, int n, IntConsumer scheduleOne) {
        for (int from = 0; from < n; from += 1000) {
            int start = from;
            int end = Math.min(n, from + 1000);
            Subject.on(loop, () -> {
                for (int i = start; i < end; i++) {
                    scheduleOne.accept(i);
                }
                return null;
            });
        }
    }

    static Timer create(String name) {
        return switch (name) {
            case "daemonkit-thread", "daemonkit-thread-256" ->
                new Timer() {
                    // The default has as many slots per level as Agrona's wheel below (1024), so neither
                    // wheel cascades timers of up to 1 s; -256 (the default before) cascades those beyond 256 ms.
                    final ThreadTimerWheel wheel = new ThreadTimerWheel(
                            "daemonkit-wheel",
                            name.endsWith("-256")
                                    ? TimerWheelSettings.defaults().withWheelSize(256)
                                    : TimerWheelSettings.defaults());

                    @Override
                    public void scheduleAll(long[] delays, long[] due, IntConsumer task) {
                        for (int i = 0; i < delays.length; i++) {
                            int id = i;
                            due[i] = System.nanoTime() + delays[i];
                            wheel.schedule(Duration.ofNanos(delays[i]), () -> task.accept(id));
                        }
                    }

                    @Override
                    public void close() {
                        wheel.close();
                    }
                };
            case "daemonkit-loop" ->
                new Timer() {
                    final MultiThreadIoEventLoopGroup group =
                            new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
                    final EventLoop loop = group.next();
                    final EventLoopTimerWheels wheels =
                            EventLoopTimerWheels.create(group, TimerWheelSettings.defaults());
                    final TimerScope scope = wheels.newScope("bench");

                    @Override
                    public void scheduleAll(long[] delays, long[] due, IntConsumer task) {
                        onLoopInBatches(loop, delays.length, i -> {
                            int id = i;
                            due[i] = System.nanoTime() + delays[i];
                            scope.schedule(Duration.ofNanos(delays[i]), () -> task.accept(id));
                        });
                    }

                    @Override
                    public void close() {
                        wheels.close();
                        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
                    }
                };
            case "daemonkit-api-epoll",
                    "daemonkit-api-epoll-kernel-slack",
                    "daemonkit-api-epoll-500us",
                    "daemonkit-api-epoll-1024",
                    "daemonkit-api-nio" ->
                new Timer() {
                    // The deployed path: a daemon's Timers (ScopedTimers, in its logging context) used
                    // from inside its event loop, on the launcher's default transport, whose loop threads
                    // run with the launcher's timer slack. -kernel-slack: the kernel's default slack instead.
                    final MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(
                            1,
                            new LoopTimerSlack(name.endsWith("-kernel-slack") ? Duration.ZERO : launcherLoopSlack())
                                    .threads(new DefaultThreadFactory("bench-loop")),
                            name.contains("epoll") ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
                    final EventLoop loop = group.next();
                    // -500us: `daemonkit.timers.tick = 0.5 ms`; a timer waits for the start of the tick its
                    // deadline falls in, so the tick bounds its lateness as much as the loop does. -1024: 1024
                    // slots per level, so no timer of up to 1 s is cascaded (a cascade moves a whole slot's
                    // timers in one tick, and the loop's next ticks wait for it).
                    final EventLoopTimerWheels wheels = EventLoopTimerWheels.create(
                            group,
                            name.endsWith("-500us")
                                    ? launcherDefaults().withTick(Duration.ofNanos(500_000))
                                    : name.endsWith("-1024")
                                            ? TimerWheelSettings.defaults().withWheelSize(1024)
                                            : launcherDefaults(),
                            ScopedTimers.NODES);
                    final TimerScope scope = wheels.newScope("bench");
                    final Timers timers = ScopedTimers.ofDaemon(scope, LogScope.of("bench"));

                    @Override
                    public dev.daemonkit.timers.LatenessSnapshot fromTick() {
                        return scope.lateness();
                    }

                    @Override
                    public void scheduleAll(long[] delays, long[] due, IntConsumer task) {
                        onLoopInBatches(loop, delays.length, i -> {
                            int id = i;
                            due[i] = System.nanoTime() + delays[i];
                            timers.schedule(Duration.ofNanos(delays[i]), () -> task.accept(id));
                        });
                    }

                    @Override
                    public void close() {
                        wheels.close();
                        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
                    }
                };
            case "netty-loop", "netty-loop-epoll" ->
                new Timer() {
                    // Netty's own scheduler (exact deadlines in a heap): the anchor of the loop subjects.
                    final MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(
                            1, name.endsWith("epoll") ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
                    final EventLoop loop = group.next();

                    @Override
                    public void scheduleAll(long[] delays, long[] due, IntConsumer task) {
                        onLoopInBatches(loop, delays.length, i -> {
                            int id = i;
                            due[i] = System.nanoTime() + delays[i];
                            loop.schedule(() -> task.accept(id), delays[i], TimeUnit.NANOSECONDS);
                        });
                    }

                    @Override
                    public void close() {
                        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
                    }
                };
            case "hwt-default", "hwt-1ms" ->
                new Timer() {
                    final HashedWheelTimer timer = name.equals("hwt-default")
                            ? new HashedWheelTimer()
                            : new HashedWheelTimer(new DefaultThreadFactory("hwt"), 1, TimeUnit.MILLISECONDS, 4096);

                    @Override
                    public void scheduleAll(long[] delays, long[] due, IntConsumer task) {
                        for (int i = 0; i < delays.length; i++) {
                            int id = i;
                            due[i] = System.nanoTime() + delays[i];
                            timer.newTimeout(t -> task.accept(id), delays[i], TimeUnit.NANOSECONDS);
                        }
                    }

                    @Override
                    public void close() {
                        timer.stop();
                    }
                };
            case "stpe" ->
                new Timer() {
                    final ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1);

                    @Override
                    public void scheduleAll(long[] delays, long[] due, IntConsumer task) {
                        executor.setRemoveOnCancelPolicy(true);
                        for (int i = 0; i < delays.length; i++) {
                            int id = i;
                            due[i] = System.nanoTime() + delays[i];
                            executor.schedule(() -> task.accept(id), delays[i], TimeUnit.NANOSECONDS);
                        }
                    }

                    @Override
                    public void close() {
                        executor.shutdownNow();
                    }
                };
            case "agrona" ->
                new Timer() {
                    // Agrona has no thread and no callback: a driver thread polls it once per tick, as an Agent would.
                    final DeadlineTimerWheel wheel =
                            new DeadlineTimerWheel(TimeUnit.NANOSECONDS, System.nanoTime(), 1 << 20, 1024);
                    final Long2LongHashMap idToIndex = new Long2LongHashMap(-1);
                    volatile boolean running = true;
                    Thread driver;

                    @Override
                    public void scheduleAll(long[] delays, long[] due, IntConsumer task) {
                        for (int i = 0; i < delays.length; i++) {
                            due[i] = System.nanoTime() + delays[i];
                            idToIndex.put(wheel.scheduleTimer(due[i]), i);
                        }
                        driver = new Thread(
                                () -> {
                                    DeadlineTimerWheel.TimerHandler handler = (unit, t, timerId) -> {
                                        task.accept((int) idToIndex.get(timerId));
                                        return true;
                                    };
                                    while (running) {
                                        long n = System.nanoTime();
                                        while (wheel.currentTickTime() <= n && running) {
                                            wheel.poll(n, handler, Integer.MAX_VALUE);
                                        }
                                        long sleep = wheel.currentTickTime() - System.nanoTime();
                                        if (sleep > 0) {
                                            LockSupport.parkNanos(sleep);
                                        }
                                    }
                                },
                                "agrona-driver");
                        driver.start();
                    }

                    @Override
                    public void close() throws InterruptedException {
                        running = false;
                        if (driver != null) {
                            driver.join();
                        }
                    }
                };
            default -> throw new IllegalArgumentException("unknown timer " + name);
        };
    }

    static long usedHeapAfterGc() {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        for (int i = 0; i < 4; i++) {
            System.gc();
        }
        return memory.getHeapMemoryUsage().getUsed();
    }

    static void footprint(String name) throws Exception {
        int n = 1_000_000;
        SplittableRandom r = new SplittableRandom(3);
        if (name.equals("agrona-raw") || name.equals("agrona")) {
            // Agrona keeps ids in its own arrays and has no callback: schedule into it directly.
            DeadlineTimerWheel wheel = new DeadlineTimerWheel(TimeUnit.NANOSECONDS, System.nanoTime(), 1 << 20, 1024);
            long before = usedHeapAfterGc();
            long start = System.nanoTime();
            long now = System.nanoTime();
            for (int i = 0; i < n; i++) {
                wheel.scheduleTimer(now + Subject.fillDelayNanos(r));
            }
            long took = System.nanoTime() - start;
            long after = usedHeapAfterGc();
            System.out.printf(
                    "[footprint] %-16s 1M pending in %4d ms (%5.1f ns/timer), retained %5.1f B/timer (no callback)%n",
                    name, took / 1_000_000, (double) took / n, (double) (after - before) / n);
            if (wheel.timerCount() != n) {
                throw new IllegalStateException("agrona lost timers");
            }
            return;
        }
        String subjectName = name.startsWith("daemonkit-thread")
                ? "daemonkit"
                : name.startsWith("daemonkit-api-") && !name.equals("daemonkit-api-conn") ? "daemonkit-api" : name;
        try (Subject subject = Subject.create(subjectName)) {
            long before = usedHeapAfterGc();
            long start = System.nanoTime();
            subject.fill(n);
            long took = System.nanoTime() - start;
            if (name.startsWith("hwt")) {
                Thread.sleep(1500);
            }
            long after = usedHeapAfterGc();
            // The benchmark keeps every handle in an array (4 B a reference): not the timer's memory.
            double perTimer = (double) (after - before - 4L * n) / n;
            System.out.printf(
                    "[footprint] %-16s 1M pending in %4d ms (%5.1f ns/timer), retained %5.1f B/timer (shared callback)%n",
                    name.equals("daemonkit-thread") ? "daemonkit" : name,
                    took / 1_000_000,
                    (double) took / n,
                    perTimer);
        }
    }

    /**
     * Each subject's warm-up run (not reported: the JIT), then -Druns (default 1) rounds, each running
     * every subject once in the order given, and with more than one round each subject's median CPU per
     * expired timer (the figure the noise moves least).
     *
     * <p>Why rounds rather than all of one subject's runs then the next's: a subject's runs in a row
     * share one stretch of the machine's load and one phase of the JIT's compiling (its threads count in
     * "all threads"), and the first subject's runs came out up to 40 % dearer than the same subject
     * measured later in the JVM (docs/benchmarks.md, "Lateness and the kernel's timer slack"). Rounds
     * spread both over every subject alike.
     */
    static void expiry(List<String> names) throws Exception {
        int runs = Integer.getInteger("runs", 1);
        for (String name : names) {
            expiryRun(name, false);
        }
        long[][] cpu = new long[names.size()][runs];
        long[][] timerThread = new long[names.size()][runs];
        long[][] p99 = new long[names.size()][runs];
        for (int run = 0; run < runs; run++) {
            for (int s = 0; s < names.size(); s++) {
                long[] measured = expiryRun(names.get(s), true);
                cpu[s][run] = measured[0];
                timerThread[s][run] = measured[1];
                p99[s][run] = measured[2];
            }
        }
        for (int s = 0; s < names.size(); s++) {
            java.util.Arrays.sort(cpu[s]);
            java.util.Arrays.sort(timerThread[s]);
            java.util.Arrays.sort(p99[s]);
            System.out.printf(
                    "[expiry] %-16s median of %d runs: CPU per expired timer %.0f ns (all threads), %.0f ns (the timer's thread); runs %.0f..%.0f ns; p99 lateness %.3f ms (runs %.3f..%.3f)%n",
                    names.get(s),
                    runs,
                    cpu[s][runs / 2] / (double) EXPIRY_TIMERS,
                    timerThread[s][runs / 2] / (double) EXPIRY_TIMERS,
                    cpu[s][0] / (double) EXPIRY_TIMERS,
                    cpu[s][runs - 1] / (double) EXPIRY_TIMERS,
                    p99[s][runs / 2] / 1e6,
                    p99[s][0] / 1e6,
                    p99[s][runs - 1] / 1e6);
        }
    }

    static final int EXPIRY_TIMERS = 100_000;

    /** @return CPU of all threads and of the busiest thread other than main (the timer's), in ns */
    static long[] expiryRun(String name, boolean report) throws Exception {
        int n = EXPIRY_TIMERS;
        SplittableRandom r = new SplittableRandom(5);
        long[] delays = new long[n];
        for (int i = 0; i < n; i++) {
            delays[i] = TimeUnit.MILLISECONDS.toNanos(1) + r.nextLong(TimeUnit.MILLISECONDS.toNanos(999));
        }
        long[] due = new long[n];
        Histogram lateness = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
        int[] early = {0};
        CountDownLatch done = new CountDownLatch(n);
        try (Timer timer = create(name)) {
            usedHeapAfterGc();
            java.util.Map<String, Long> byThreadStart = cpuByThread();
            java.util.Map<String, Long> switchesStart = contextSwitchesByThread();
            long cpuStart = allThreadsCpuNanos();
            long wallStart = System.nanoTime();
            // A task records on the timer's single thread.
            timer.scheduleAll(delays, due, i -> {
                long late = System.nanoTime() - due[i];
                if (late < 0) {
                    early[0]++;
                } else {
                    lateness.recordValue(Math.min(late, lateness.getHighestTrackableValue()));
                }
                done.countDown();
            });
            if (!done.await(30, TimeUnit.SECONDS)) {
                System.out.printf("[expiry] %-16s did not fire all timers in 30 s (%d left)%n", name, done.getCount());
                return new long[] {Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE};
            }
            long cpu = allThreadsCpuNanos() - cpuStart;
            java.util.Map<String, Long> byThread = cpuByThread();
            java.util.Map<String, Long> switches = contextSwitchesByThread();
            switches.replaceAll((k, v) -> v - switchesStart.getOrDefault(k, 0L));
            byThread.replaceAll((k, v) -> v - byThreadStart.getOrDefault(k, 0L));
            long wall = System.nanoTime() - wallStart;
            if (report) {
                System.out.printf(
                        "[expiry] %-16s lateness p50 %.3f ms, p99 %.3f ms, max %.3f ms, early %d; CPU %.0f ms over %.0f ms (all threads)%n",
                        name,
                        lateness.getValueAtPercentile(50) / 1e6,
                        lateness.getValueAtPercentile(99) / 1e6,
                        lateness.getMaxValue() / 1e6,
                        early[0],
                        cpu / 1e6,
                        wall / 1e6);
                StringBuilder top = new StringBuilder();
                byThread.entrySet().stream()
                        .filter(e -> e.getValue() >= 1_000_000)
                        .sorted(java.util.Map.Entry.<String, Long>comparingByValue()
                                .reversed())
                        .forEach(e -> top.append(String.format(" %s %.0f ms;", e.getKey(), e.getValue() / 1e6)));
                System.out.printf("[expiry] %-16s CPU by thread (JIT and GC threads included):%s%n", name, top);
                StringBuilder sw = new StringBuilder();
                switches.entrySet().stream()
                        .filter(e -> e.getValue() >= 20)
                        .sorted(java.util.Map.Entry.<String, Long>comparingByValue()
                                .reversed())
                        .forEach(e -> sw.append(String.format(" %s %d;", e.getKey(), e.getValue())));
                System.out.printf(
                        "[expiry] %-16s context switches by thread (voluntary + involuntary, >= 20):%s%n", name, sw);
            }
            long timerThread = byThread.entrySet().stream()
                    .filter(e -> !e.getKey().equals("main") && !e.getKey().contains("Compiler"))
                    .mapToLong(java.util.Map.Entry::getValue)
                    .max()
                    .orElse(0);
            if (report && timer.fromTick() != null) {
                dev.daemonkit.timers.LatenessSnapshot w = timer.fromTick();
                System.out.printf(
                        "[expiry] %-16s the wheel's own figures, from each timer's tick start (no rounding): p50 %.3f ms, p99 %.3f ms, max %.3f ms of %d%n",
                        name, w.p50Nanos() / 1e6, w.p99Nanos() / 1e6, w.maxNanos() / 1e6, w.count());
            }
            return new long[] {cpu, timerThread, lateness.getValueAtPercentile(99)};
        }
    }

    /**
     * The wheel's own time per tick, without a loop or a thread: {@code ticks-N} is a
     * {@link dev.daemonkit.timers.HierarchicalTimerWheel} of N slots per level (1 ms tick) driven by a
     * hand-moved clock, one tick per {@code expire()}, with the expiry workload's 100k timers at
     * 1..1000 ms. The longest ticks are where a cascade moves a higher slot down (what the loop's
     * later timers wait for); the median tick only fires its ~100 timers. Each tick's time is the
     * thread's CPU time around one {@code expire()} (~1 us per reading included). Median of -Druns runs.
     */
    static void ticks(String name) {
        int slots = Integer.parseInt(name.substring(name.lastIndexOf('-') + 1));
        int runs = Integer.getInteger("runs", 1);
        long[] max = new long[runs];
        long[] p999 = new long[runs];
        long[] total = new long[runs];
        long[] cascadeTicks = new long[runs];
        // CPU time of this thread, not wall time: the machine is shared, and a preemption of the
        // benchmark thread (milliseconds, here) would otherwise pass for the wheel's own work.
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        for (int run = -1; run < runs; run++) { // run -1 warms the JIT up
            long[] now = {0};
            dev.daemonkit.timers.HierarchicalTimerWheel wheel = new dev.daemonkit.timers.HierarchicalTimerWheel(
                    TimerWheelSettings.defaults().withWheelSize(slots), () -> now[0]);
            SplittableRandom r = new SplittableRandom(5);
            int[] fired = {0};
            Runnable task = () -> fired[0]++;
            for (int i = 0; i < EXPIRY_TIMERS; i++) {
                wheel.schedule(
                        Duration.ofNanos(
                                TimeUnit.MILLISECONDS.toNanos(1) + r.nextLong(TimeUnit.MILLISECONDS.toNanos(999))),
                        task);
            }
            Histogram perTick = new Histogram(TimeUnit.SECONDS.toNanos(1), 3);
            long sum = 0;
            long over = 0;
            for (int tick = 0; tick < 1002; tick++) {
                now[0] += 1_000_000;
                long start = threads.getCurrentThreadCpuTime();
                wheel.expire();
                long took = threads.getCurrentThreadCpuTime() - start;
                perTick.recordValue(took);
                sum += took;
                if (took > 200_000) {
                    over++;
                }
            }
            if (fired[0] != EXPIRY_TIMERS) {
                throw new IllegalStateException(name + ": fired " + fired[0] + " of " + EXPIRY_TIMERS);
            }
            if (run >= 0) {
                max[run] = perTick.getMaxValue();
                p999[run] = perTick.getValueAtPercentile(99.9);
                total[run] = sum;
                cascadeTicks[run] = over;
                System.out.printf(
                        "[ticks] %-16s run %d: per tick p50 %.1f us, p99 %.1f us, p99.9 %.1f us, max %.1f us; %d ticks over 200 us; %.0f ns per timer%n",
                        name,
                        run,
                        perTick.getValueAtPercentile(50) / 1e3,
                        perTick.getValueAtPercentile(99) / 1e3,
                        p999[run] / 1e3,
                        max[run] / 1e3,
                        over,
                        (double) sum / EXPIRY_TIMERS);
            }
        }
        java.util.Arrays.sort(max);
        java.util.Arrays.sort(p999);
        java.util.Arrays.sort(total);
        java.util.Arrays.sort(cascadeTicks);
        System.out.printf(
                "[ticks] %-16s median of %d runs: longest tick %.1f us, p99.9 %.1f us, %d ticks over 200 us, %.0f ns of expire() per timer%n",
                name,
                runs,
                max[runs / 2] / 1e3,
                p999[runs / 2] / 1e3,
                cascadeTicks[runs / 2],
                total[runs / 2] / (double) EXPIRY_TIMERS);
    }

    /** CPU of each live thread by its name, digits folded (C2 CompilerThread0 and 1 count together). */
    static java.util.Map<String, Long> cpuByThread() {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        java.util.Map<String, Long> by = new java.util.HashMap<>();
        for (java.lang.management.ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (info == null) {
                continue;
            }
            long t = threads.getThreadCpuTime(info.getThreadId());
            if (t > 0) {
                by.merge(info.getThreadName().replaceAll("[0-9]+", "#"), t, Long::sum);
            }
        }
        return by;
    }

    /**
     * Context switches of each live thread (voluntary: it slept or waited; involuntary: it was
     * preempted), by its kernel name (15 characters), digits folded; empty where /proc is missing.
     */
    static java.util.Map<String, Long> contextSwitchesByThread() {
        java.util.Map<String, Long> by = new java.util.HashMap<>();
        java.io.File[] tasks = new java.io.File("/proc/self/task").listFiles();
        if (tasks == null) {
            return by;
        }
        for (java.io.File task : tasks) {
            try {
                String comm = java.nio.file.Files.readString(task.toPath().resolve("comm"))
                        .trim()
                        .replaceAll("[0-9]+", "#");
                long n = 0;
                for (String line :
                        java.nio.file.Files.readAllLines(task.toPath().resolve("status"))) {
                    if (line.startsWith("voluntary_ctxt_switches:") || line.startsWith("nonvoluntary_ctxt_switches:")) {
                        n += Long.parseLong(
                                line.substring(line.indexOf(':') + 1).trim());
                    }
                }
                by.merge(comm, n, Long::sum);
            } catch (java.io.IOException | RuntimeException threadGone) {
                // The thread ended between the listing and the read: it has nothing left to count.
            }
        }
        return by;
    }

    /** CPU of every live thread, at nanosecond resolution (process CPU time only counts 10 ms jiffies). */
    static long allThreadsCpuNanos() {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (long id : threads.getAllThreadIds()) {
            long t = threads.getThreadCpuTime(id);
            if (t > 0) {
                sum += t;
            }
        }
        return sum;
    }

    static void idleBaseline() throws InterruptedException {
        System.out.printf(
                "[idle] %-16s %.2f ms CPU/s (no timer at all: the JVM's own background, all threads)%n",
                "baseline", cpuPerSecond());
    }

    static double cpuPerSecond() throws InterruptedException {
        long cpu = allThreadsCpuNanos();
        long wall = System.nanoTime();
        Thread.sleep(3000);
        return (allThreadsCpuNanos() - cpu) / 1e6 / ((System.nanoTime() - wall) / 1e9);
    }

    static void idle(String name) throws Exception {
        try (Timer timer = create(name)) {
            timer.scheduleAll(new long[0], i -> {});
            usedHeapAfterGc();
            double empty = cpuPerSecond();
            SplittableRandom r = new SplittableRandom(9);
            long[] delays = new long[1_000_000];
            for (int i = 0; i < delays.length; i++) {
                delays[i] = Subject.fillDelayNanos(r);
            }
            timer.scheduleAll(delays, i -> {});
            Thread.sleep(1500); // let threaded timers take in what was handed to them
            usedHeapAfterGc();
            double full = cpuPerSecond();
            System.out.printf(
                    "[idle] %-16s %.2f ms CPU/s with nothing pending, %.2f ms CPU/s with 1M pending%n",
                    name, empty, full);
        }
    }

    private ExpiryAndFootprint() {}

    static List<String> names() {
        return new ArrayList<>(ALL);
    }
}
