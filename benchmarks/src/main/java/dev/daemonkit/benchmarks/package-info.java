/**
 * JMH benchmarks and measuring tools for Daemonkit's own engineers; run from
 * {@code benchmarks/target/benchmarks.jar} as {@code docs/benchmarks.md} shows. Not a library:
 * nothing else depends on this package.
 */
package dev.daemonkit.benchmarks;
