/** Tools for measuring what a held connection costs: a raw Netty echo server (the baseline) and a connection holder. */
package dev.daemonkit.benchmarks.connections;
