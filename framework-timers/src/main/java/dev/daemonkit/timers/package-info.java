/**
 * Timers for Daemonkit: a hierarchical timer wheel per Netty event loop, scopes that tie every timer
 * to its owner (a daemon, a connection), and a standalone wheel with its own thread.
 *
 * <p>For the core, which wires {@link dev.daemonkit.timers.EventLoopTimerWheels} into its event
 * loops and re-exports {@link dev.daemonkit.timers.Timers} and {@link dev.daemonkit.timers.Timeout}
 * to plugin authors through its own API; and for tests and tools that need a wheel driven by a
 * hand-moved clock ({@link dev.daemonkit.timers.HierarchicalTimerWheel}). This package knows
 * nothing of the rest of Daemonkit. See {@code docs/timers.md} for guarantees and design.
 */
package dev.daemonkit.timers;
