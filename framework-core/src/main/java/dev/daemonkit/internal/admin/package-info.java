/** Internal-use-only: the admin HTTP endpoint (health, status, metrics, control) and the metrics behind it. */
package dev.daemonkit.internal.admin;
