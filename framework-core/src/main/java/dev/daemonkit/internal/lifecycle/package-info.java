/** Internal-use-only: daemon instances and their lifecycle, and the launcher that runs them all. */
package dev.daemonkit.internal.lifecycle;
