package dev.daemonkit.benchmarks.timers;

import java.time.Duration;
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
 * Push one of 100k pending timers to a new deadline: a random one 1 to 60 s away ({@code random}),
 * or always the latest, 20 minutes away ({@code latest}, the heartbeat pattern: every message
 * pushes the idle timeout back). Timers without reschedule cancel and schedule again.
 *
 * <p>Every fork walks the same sequence of timers and deadlines whatever its speed (see
 * {@code Subject.nextBatch}): the forks of a subject differ only by the machine, so that several short
 * forks interleaved with the other subjects' ({@code benchmarks/timers-reschedule.sh}) can be compared.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class RescheduleBenchmark {

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

    @Param({"random", "latest"})
    public String deadlines;

    @Param({"100000"})
    public int pending;

    private Subject subject;
    private boolean latest;
    private final Duration latestDelay = Duration.ofMinutes(20);
    private final CpuMeter cpu = new CpuMeter();

    @Setup(Level.Trial)
    public void setUp() throws InterruptedException {
        subject = Subject.create(timer);
        subject.fill(pending);
        latest = deadlines.equals("latest");
        if (timer.startsWith("hwt")) {
            Thread.sleep(1500);
        }
    }

    @Setup(Level.Iteration)
    public void startIteration() {
        cpu.start();
    }

    @TearDown(Level.Iteration)
    public void endIteration() {
        cpu.report("reschedule " + timer + " " + deadlines);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        subject.close();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int reschedule() {
        cpu.ops += BATCH;
        return subject.reschedule(BATCH, latest, latestDelay);
    }
}
