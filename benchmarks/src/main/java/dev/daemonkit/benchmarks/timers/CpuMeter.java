package dev.daemonkit.benchmarks.timers;

import com.sun.management.OperatingSystemMXBean;
import java.lang.management.ManagementFactory;

/**
 * CPU time of the whole process (every thread, the timers' own included), so a timer that moves
 * work to its own thread is charged for it. Printed per iteration, as ns of CPU per operation.
 */
final class CpuMeter {

    private static final OperatingSystemMXBean OS =
            (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    private long cpuAtStart;
    private long wallAtStart;
    long ops;

    static long processCpuNanos() {
        return OS.getProcessCpuTime();
    }

    void start() {
        ops = 0;
        cpuAtStart = processCpuNanos();
        wallAtStart = System.nanoTime();
    }

    void report(String what) {
        long cpu = processCpuNanos() - cpuAtStart;
        long wall = System.nanoTime() - wallAtStart;
        if (ops > 0) {
            System.out.printf(
                    "%n[cpu] %s: %.1f ns CPU/op over all threads, %.2f cores busy%n",
                    what, (double) cpu / ops, (double) cpu / wall);
        }
    }
}
