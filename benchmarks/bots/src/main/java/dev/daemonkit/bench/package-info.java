/**
 * The bots: a bounded Netty load generator for Daemonkit's daemons, and a raw Netty server of the
 * memcached subset the bots use, as a ceiling. For people measuring Daemonkit (docs/benchmarks.md);
 * nothing here is API, and nothing here is loaded by the launcher.
 */
package dev.daemonkit.bench;
