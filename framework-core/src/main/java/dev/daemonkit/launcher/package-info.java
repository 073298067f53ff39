/** The launcher's entry point and command line, called by {@code bin/daemonkit}. Not for plugins. */
package dev.daemonkit.launcher;
