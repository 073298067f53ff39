/** Internal-use-only: adapts the framework-timers wheel to the plugin API's Timers, with logging context. */
package dev.daemonkit.internal.timers;
