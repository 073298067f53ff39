/**
 * Internal-use-only: Netty event loops, listeners owned by the launcher, and the front handlers the
 * framework puts on every pipeline (limits, idle timeout, logging context, drain, exception barrier).
 */
package dev.daemonkit.internal.transport;
