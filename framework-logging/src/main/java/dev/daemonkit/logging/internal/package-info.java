/**
 * Internal to framework-logging: the Logback pieces behind {@link dev.daemonkit.logging.LoggingSystem}.
 *
 * <p>Not for plugin authors and not for the core: nothing here is a stable API, and the plugin class
 * loader does not export this package. Use {@code dev.daemonkit.logging} instead.
 */
package dev.daemonkit.logging.internal;
