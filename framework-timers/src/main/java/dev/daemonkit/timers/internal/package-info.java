/**
 * Internal-use-only: the wheel's data structure, its nodes and owners. For
 * {@code dev.daemonkit.timers} only; not allowed to be used outside the timers module, and it may
 * change in any release. The core and plugins use {@code dev.daemonkit.timers}.
 */
package dev.daemonkit.timers.internal;
