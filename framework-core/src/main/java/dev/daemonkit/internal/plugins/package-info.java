/** Internal-use-only: finding plugin jars, isolating them in their own class loaders, discovering providers. */
package dev.daemonkit.internal.plugins;
