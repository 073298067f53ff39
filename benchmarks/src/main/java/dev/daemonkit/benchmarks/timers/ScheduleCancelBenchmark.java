package dev.daemonkit.benchmarks.timers;

import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Schedule a timer, then cancel it (what an idle timeout on a short request does), with 0, 10k or
 * 1M other timers pending 10 to 20 minutes away. One op = one schedule plus one cancel.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class ScheduleCancelBenchmark {

    static final int BATCH = 1000;

    @Param({
        "daemonkit",
        "daemonkit-loop",
        "daemonkit-api",
        "daemonkit-api-conn",
        "agrona",
        "hwt-default",
        "hwt-1ms",
        "stpe",
        "netty-loop"
    })
    public String timer;

    @Param({"0", "10000", "1000000"})
    public int pending;

    /**
     * Deadline of the scheduled-then-cancelled timer: {@code 30s}, a typical idle timeout; or
     * {@code random}, 10 to 20 minutes away like the pending ones (so it lands in their slots).
     */
    @Param({"30s", "random"})
    public String delay;

    private Subject subject;
    private final Duration[] delays = new Duration[4096];
    private final long[] delayNanos = new long[4096];
    private final CpuMeter cpu = new CpuMeter();

    @Setup(Level.Trial)
    public void setUp() throws InterruptedException {
        subject = Subject.create(timer);
        subject.fill(pending);
        SplittableRandom r = new SplittableRandom(11);
        for (int i = 0; i < delays.length; i++) {
            delayNanos[i] = delay.equals("random") ? Subject.fillDelayNanos(r) : TimeUnit.SECONDS.toNanos(30);
            delays[i] = Duration.ofNanos(delayNanos[i]);
        }
        if (timer.startsWith("hwt")) {
            Thread.sleep(1500); // let the wheel's thread move the filled timers out of its queue
        }
    }

    @Setup(Level.Iteration)
    public void startIteration() {
        cpu.start();
    }

    @TearDown(Level.Iteration)
    public void endIteration() {
        cpu.report("schedule+cancel " + timer + " pending=" + pending + " delay=" + delay);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        subject.close();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int scheduleThenCancel() {
        cpu.ops += BATCH;
        return subject.scheduleCancel(BATCH, delays, delayNanos);
    }
}
