/**
 * The Daemonkit plugin API: everything a plugin author compiles against, and nothing else.
 *
 * <p>A plugin jar lists its {@link dev.daemonkit.api.DaemonPlugin} providers in
 * {@code META-INF/services/dev.daemonkit.api.DaemonPlugin}. For each configured daemon instance the
 * framework calls {@link dev.daemonkit.api.DaemonPlugin#configure(DaemonContext)} once, and the plugin
 * declares its listeners and the Netty handlers of its protocol there. The framework owns sockets,
 * threads, timers, limits and logging setup.
 *
 * <p>The plugin class loader delegates this package (plus Netty, Guice, Typesafe Config and SLF4J) to
 * the framework; every other {@code dev.daemonkit} package is invisible to plugins.
 */
package dev.daemonkit.api;
