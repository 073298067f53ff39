/**
 * Internal-use-only: telling a service manager (systemd) how the launcher is doing: ready, reloading,
 * stopping, its status line, and watchdog keep-alives.
 */
package dev.daemonkit.internal.service;
