/**
 * Internal-use-only: the Daemonkit runtime. Not part of the plugin API, may change without notice,
 * and invisible to plugins (their class loader does not delegate these packages).
 */
package dev.daemonkit.internal;
