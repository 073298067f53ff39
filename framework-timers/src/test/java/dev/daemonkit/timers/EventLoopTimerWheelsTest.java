package dev.daemonkit.timers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.EventExecutor;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The wheels on real event loops, timed by the real clock with short delays and Awaitility, never sleep. */
class EventLoopTimerWheelsTest {

    private static final DefaultEventLoopGroup group = new DefaultEventLoopGroup(2);
    private EventLoopTimerWheels wheels;

    @BeforeEach
    void setUp() {
        wheels = EventLoopTimerWheels.create(group, TimerWheelSettings.defaults());
    }

    @AfterEach
    void tearDown() {
        wheels.close();
    }

    @AfterAll
    static void stopLoops() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private static <T> T onLoop(EventExecutor loop, Callable<T> call) throws Exception {
        return loop.submit(call).get(5, TimeUnit.SECONDS);
    }

    @Test
    void aTimerScheduledOnALoopGoesToThatLoopsWheelAndRunsThere() throws Exception {
        TimerScope daemon = wheels.newScope("echo");
        EventLoop loop = group.next();
        Set<Thread> ranOn = ConcurrentHashMap.newKeySet();
        Thread loopThread = onLoop(loop, Thread::currentThread);
        int pendingRightAfter = onLoop(loop, () -> {
            daemon.schedule(Duration.ofMillis(2), () -> ranOn.add(Thread.currentThread()));
            // Linked synchronously: counted before schedule() returns, with no hand-off.
            return wheels.wheelOf(loop).wheel.pending();
        });
        assertThat(pendingRightAfter).isEqualTo(1);
        await().atMost(Duration.ofSeconds(5)).until(() -> !ranOn.isEmpty());
        assertThat(ranOn).containsExactly(loopThread);
        assertThat(daemon.pending()).isZero();
    }

    @Test
    void timersFromOtherThreadsAreHandedToTheLoopsAndFireNeverEarly() throws Exception {
        TimerScope daemon = wheels.newScope("cache");
        Set<Thread> loopThreads = ConcurrentHashMap.newKeySet();
        for (EventExecutor loop : group) {
            loopThreads.add(onLoop(loop, Thread::currentThread));
        }
        List<Long> lateness = new CopyOnWriteArrayList<>();
        Set<Thread> ranOn = ConcurrentHashMap.newKeySet();
        ExecutorService outside = Executors.newFixedThreadPool(3);
        try {
            CountDownLatch go = new CountDownLatch(1);
            for (int t = 0; t < 3; t++) {
                outside.execute(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    for (int i = 0; i < 200; i++) {
                        long delay = TimeUnit.MILLISECONDS.toNanos(1 + i % 20);
                        long due = System.nanoTime() + delay;
                        daemon.schedule(Duration.ofNanos(delay), () -> {
                            lateness.add(System.nanoTime() - due);
                            ranOn.add(Thread.currentThread());
                        });
                    }
                });
            }
            go.countDown();
            await().atMost(Duration.ofSeconds(10)).until(() -> lateness.size() == 600);
        } finally {
            outside.shutdownNow();
        }
        assertThat(lateness).allSatisfy(l -> assertThat(l).isNotNegative());
        assertThat(loopThreads).containsAll(ranOn);
        assertThat(ranOn).hasSize(2); // round robin over both loops
        await().atMost(Duration.ofSeconds(5)).until(() -> daemon.lateness().count() == 600);
        LatenessSnapshot snapshot = daemon.lateness();
        assertThat(snapshot.maxNanos())
                .isGreaterThanOrEqualTo(snapshot.p99Nanos())
                .isGreaterThanOrEqualTo(snapshot.p50Nanos());
    }

    @Test
    void closingAScopeCancelsItsTimersAndItsChildrensButNotOthers() throws Exception {
        TimerScope echo = wheels.newScope("echo");
        TimerScope presence = wheels.newScope("presence");
        EventLoop loop = group.next();
        TimerScope connection = echo.childOn(loop, "echo#42");
        AtomicInteger closedFired = new AtomicInteger();
        CountDownLatch otherFired = new CountDownLatch(1);
        onLoop(loop, () -> {
            echo.schedule(Duration.ofMillis(300), closedFired::incrementAndGet);
            connection.schedule(Duration.ofMillis(300), closedFired::incrementAndGet);
            connection.scheduleAtFixedRate(Duration.ofMillis(5), Duration.ofMillis(5), closedFired::incrementAndGet);
            return null;
        });
        Timeout fromOutside = echo.schedule(Duration.ofMillis(300), closedFired::incrementAndGet);
        await().pollInterval(Duration.ofMillis(1)).atMost(Duration.ofSeconds(5)).until(() -> echo.pending() == 4);
        // Read on the loop, where it is exact: off the loop, a repeating timer being re-linked may
        // show one less for a moment.
        assertThat(onLoop(loop, connection::pending)).isEqualTo(2);

        int firedBeforeClose = onLoop(loop, () -> {
            int n = closedFired.get();
            echo.close(); // on the loop: its share of the timers is cancelled before close() returns
            return n;
        });
        presence.schedule(Duration.ofMillis(400), otherFired::countDown);

        assertThat(otherFired.await(5, TimeUnit.SECONDS)).isTrue();
        // Every cancelled deadline has passed by now: none of them fired after the close.
        assertThat(closedFired.get()).isEqualTo(firedBeforeClose);
        assertThat(echo.pending()).isZero();
        assertThat(connection.isClosed()).isTrue();
        assertThat(fromOutside.isPending()).isFalse();
        assertThat(fromOutside.cancel()).isFalse();
        assertThat(echo.schedule(Duration.ZERO, closedFired::incrementAndGet).isPending())
                .isFalse();
        await().atMost(Duration.ofSeconds(5))
                .until(() -> onLoop(loop, () -> wheels.wheelOf(loop).wheel.linked()) == 0);
    }

    @Test
    void aChildScopeKeepsItsTimersOnItsLoopAndCountsInItsParent() throws Exception {
        TimerScope daemon = wheels.newScope("presence");
        EventLoop loop = group.next();
        TimerScope connection = daemon.childOn(loop, "presence#7");
        Thread loopThread = onLoop(loop, Thread::currentThread);
        Set<Thread> ranOn = ConcurrentHashMap.newKeySet();
        Timeout idle = connection.schedule(Duration.ofMinutes(5), () -> {});
        connection.schedule(Duration.ofMillis(1), () -> ranOn.add(Thread.currentThread()));
        await().atMost(Duration.ofSeconds(5)).until(() -> ranOn.size() == 1);
        assertThat(ranOn).containsExactly(loopThread);
        assertThat(daemon.pending()).isEqualTo(1);
        assertThat(daemon.childCount()).isEqualTo(1);

        assertThat(idle.cancel()).isTrue();
        await().atMost(Duration.ofSeconds(5)).until(() -> daemon.pending() == 0);
        connection.close();
        assertThat(daemon.childCount()).isZero();
        DefaultEventLoopGroup otherGroup = new DefaultEventLoopGroup(1);
        try {
            assertThatThrownBy(() -> daemon.childOn(otherGroup.next(), "stranger"))
                    .hasMessageContaining("not in the group");
        } finally {
            otherGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    @Test
    void aThrowingTaskIsLoggedNamingItsOwnerAndTheLoopsWheelGoesOn() {
        TimerScope daemon = wheels.newScope("echo-b");
        CountDownLatch after = new CountDownLatch(1);
        try (LogCapture log = new LogCapture()) {
            daemon.schedule(Duration.ofMillis(1), () -> {
                throw new IllegalStateException("handler bug");
            });
            daemon.schedule(Duration.ofMillis(3), after::countDown);
            await().atMost(Duration.ofSeconds(5)).until(() -> after.getCount() == 0);
            assertThat(log.messages())
                    .anySatisfy(m -> assertThat(m).contains("'echo-b'").contains("handler bug"));
        }
    }

    @Test
    void aCancelFromAnotherThreadWinsOrLosesExactlyOnce() throws Exception {
        TimerScope daemon = wheels.newScope("race");
        AtomicInteger fired = new AtomicInteger();
        int cancelled = 0;
        for (int i = 0; i < 300; i++) {
            Timeout t = daemon.schedule(Duration.ofNanos(i % 3 * 500_000), fired::incrementAndGet);
            if (t.cancel()) {
                cancelled++;
            }
        }
        int expectFired = 300 - cancelled;
        await().atMost(Duration.ofSeconds(5)).until(() -> fired.get() == expectFired && daemon.pending() == 0);
        assertThat(fired.get()).isEqualTo(expectFired);
    }

    @Test
    void theLoopSchedulesNothingOnceNothingIsPending() throws Exception {
        TimerScope daemon = wheels.newScope("idle");
        EventLoop loop = group.next();
        LoopWheel lw = wheels.wheelOf(loop);
        CountDownLatch fired = new CountDownLatch(1);
        // Armed once the task that scheduled ends (the timer waits in the turn's list until then):
        // the check is queued behind that task's flush, before the timer can be due.
        Future<Boolean> armedAfterTheTask = onLoop(loop, () -> {
            daemon.schedule(Duration.ofMillis(2), fired::countDown);
            return loop.submit(lw::isArmed);
        });
        assertThat(armedAfterTheTask.get(5, TimeUnit.SECONDS)).isTrue();
        assertThat(fired.await(5, TimeUnit.SECONDS)).isTrue();
        await().atMost(Duration.ofSeconds(5)).until(() -> !onLoop(loop, lw::isArmed));
        assertThat(onLoop(loop, lw.wheel::pending)).isZero();
    }

    /**
     * A retired plugin version's timers (a stats timer a minute away) are closed with its scope but stayed linked with
     * their tasks, which hold the plugin's classes, while another scope kept timers live: sweepClosed drops them.
     */
    @Test
    void faultAClosedScopesLongTimerKeepsNoTaskReachableOnceSwept() throws Exception {
        TimerScope live = wheels.newScope("new-version");
        TimerScope retired = wheels.newScope("old-version");
        for (int i = 0; i < 4; i++) { // on both loops (round robin from this thread)
            live.schedule(Duration.ofMinutes(1), () -> {});
        }
        Runnable[] task = {new AtomicInteger()::incrementAndGet}; // a new object each time, as a plugin's task is
        java.lang.ref.WeakReference<Runnable> taskRef = new java.lang.ref.WeakReference<>(task[0]);
        retired.scheduleAtFixedRate(Duration.ofMinutes(1), Duration.ofMinutes(1), task[0]);
        task[0] = null;
        retired.close();
        await().atMost(Duration.ofSeconds(5)).until(() -> retired.pending() == 0);

        wheels.sweepClosed().get(5, TimeUnit.SECONDS);

        await().atMost(Duration.ofSeconds(10)).until(() -> {
            System.gc();
            return taskRef.get() == null;
        });
        assertThat(live.pending()).isEqualTo(4);
    }
}
