/**
 * The presence sample daemon: who is online, in which room, what they say, and who went silent,
 * over a line protocol and a WebSocket, with a live web page. For plugin authors, as an example of
 * state shared between event loops, heartbeats on the timer wheel, and defending against foreign
 * input; the protocol is in {@code docs/protocols/presence.md}.
 */
package dev.daemonkit.samples.presence;
