/**
 * The Daemonkit test kit, for plugin authors: {@link dev.daemonkit.testkit.TestLauncher} runs a real launcher in
 * the test's JVM with the plugin under test, loaded the production way (a jar in {@code plugins/}, its own class
 * loader), gives the bound addresses of its daemons, keeps their log lines as data and checks at each stop that the
 * plugin unloads and leaked no buffer; {@link dev.daemonkit.testkit.LineClient},
 * {@link dev.daemonkit.testkit.ByteClient} and {@link dev.daemonkit.testkit.WebSocketClient} talk to it. Add it with
 * test scope (docs/plugin-guide.md, "Testing a plugin").
 *
 * <p>Nothing in this package exposes the framework's {@code dev.daemonkit.internal} types: a plugin's tests need
 * only this package and {@code dev.daemonkit.api}.
 */
package dev.daemonkit.testkit;
