/** Internal-use-only: loading, merging and validating HOCON config into immutable settings records. */
package dev.daemonkit.internal.config;
