package dev.daemonkit.internal.transport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Linux's timer slack for the event loop threads ({@code daemonkit.timers.loop-slack}).
 *
 * <p>A loop waiting for its next timer sleeps in {@code epoll_pwait2} (or a futex), and the kernel may wake a thread
 * up to its timer slack after the deadline, to batch wake-ups: 50 us by default. A loop's wheel ticks every
 * millisecond while timers are pending, so the default slack is 5 % of every tick and shows in every timer's lateness
 * (measured: Netty's own scheduler 0.132 ms at p99 with the default, 0.055 ms at 1 us). A loop thread sets its own
 * slack as it starts, through {@code /proc/<tid>/timerslack_ns} (Linux 4.6+; a thread may set its own without
 * privileges): the JDK has no {@code prctl}, and {@code /proc/thread-self} names the thread's id.
 *
 * <p>What it costs: wake-ups the kernel would have merged are not merged. The wheel wakes once per tick whatever the
 * slack; Netty's scheduled tasks at deadlines closer than the slack wake the loop once each.
 */
public final class LoopTimerSlack {
    private static final Logger log = LoggerFactory.getLogger(LoopTimerSlack.class);

    private final long nanos;
    private final Path proc;
    private final AtomicBoolean warned = new AtomicBoolean();

    /** @param slack 0: leave each thread the slack it inherits (the kernel's default, 50 us) */
    public LoopTimerSlack(Duration slack) {
        this(slack, Path.of("/proc"));
    }

    /** @param proc where procfs is mounted; tests give a folder without it */
    LoopTimerSlack(Duration slack, Path proc) {
        if (slack.isNegative()) {
            throw new IllegalArgumentException("a timer slack cannot be negative: " + slack);
        }
        this.nanos = slack.toNanos();
        this.proc = proc;
    }

    /** {@code made}'s threads, each setting its own slack before it runs anything. */
    public ThreadFactory threads(ThreadFactory made) {
        if (nanos == 0) {
            return made;
        }
        return r -> made.newThread(() -> {
            setForThisThread();
            r.run();
        });
    }

    /**
     * Sets the calling thread's slack; false where it cannot (not Linux, procfs not mounted, a kernel before 4.6, a
     * sandbox that forbids it), after one warning per transport that names the cause. The thread runs on with the
     * slack it had: timers stay correct, only up to the kernel's default later.
     */
    boolean setForThisThread() {
        Path self = proc.resolve("thread-self");
        try {
            // "PID/task/TID": /proc/TID is the thread's own entry, which has timerslack_ns.
            String tid = Files.readSymbolicLink(self).getFileName().toString();
            Files.write(
                    proc.resolve(tid).resolve("timerslack_ns"),
                    Long.toString(nanos).getBytes(StandardCharsets.US_ASCII));
            return true;
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            if (warned.compareAndSet(false, true)) {
                log.warn(
                        "daemonkit.timers.loop-slack = {} us: could not set event loop thread {}'s timer slack through"
                                + " {} ({}); its timers may fire up to the kernel's default slack (50 us on Linux) later."
                                + " It needs Linux 4.6 or later with procfs mounted; set daemonkit.timers.loop-slack = 0"
                                + " to leave the slack alone and silence this.",
                        nanos / 1000.0,
                        Thread.currentThread().getName(),
                        self,
                        e.toString());
            }
            return false;
        }
    }

    /** The calling thread's slack in nanoseconds as the kernel has it, or -1 where it cannot be read. */
    static long ofThisThread(Path proc) {
        try {
            String tid = Files.readSymbolicLink(proc.resolve("thread-self"))
                    .getFileName()
                    .toString();
            return Long.parseLong(
                    Files.readString(proc.resolve(tid).resolve("timerslack_ns")).trim());
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
