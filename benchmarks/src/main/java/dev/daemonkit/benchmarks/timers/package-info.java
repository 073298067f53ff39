/**
 * Timer benchmarks for issue 3: Daemonkit's wheel side by side with Netty's HashedWheelTimer, the
 * JDK's ScheduledThreadPoolExecutor, Netty's EventLoop.schedule and Agrona's DeadlineTimerWheel,
 * on the same workloads. For whoever runs or extends the figures in {@code docs/benchmarks.md}.
 */
package dev.daemonkit.benchmarks.timers;
