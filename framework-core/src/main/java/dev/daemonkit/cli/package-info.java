/**
 * The command line that {@code bin/daemonkit} calls: {@link Main} parses the arguments, then runs a launcher
 * ({@code internal.lifecycle.Launcher}) in this process or sends a control command to a running one through its
 * admin endpoint. Not for plugins.
 */
package dev.daemonkit.cli;
