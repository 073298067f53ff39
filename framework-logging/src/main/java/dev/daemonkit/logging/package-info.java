/**
 * Daemonkit's logging, for the framework core (the launcher, the admin endpoint, HUP reload).
 *
 * <p>Plugin authors do not use this package: they log through SLF4J and their lines land in their
 * daemon's log by themselves. The core starts one {@link dev.daemonkit.logging.LoggingSystem} at launch,
 * adds each daemon to it, sets the MDC keys of {@link dev.daemonkit.logging.LogContext} around every
 * callback of a connection or timer, and closes it last on shutdown. See docs/logging.md.
 */
package dev.daemonkit.logging;
