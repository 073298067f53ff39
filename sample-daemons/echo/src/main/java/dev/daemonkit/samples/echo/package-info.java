/** Sample plugins: a line echo and daytime (RFC 867). Read them as the first example of a Daemonkit plugin. */
package dev.daemonkit.samples.echo;
