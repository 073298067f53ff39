package dev.daemonkit.api;

import java.time.Duration;

/**
 * User event fired through the pipeline of every open connection of a daemon when it starts to stop
 * (listeners no longer accept). A protocol with long-lived sessions handles it in
 * {@code userEventTriggered} to say goodbye to its client and close; connections that do nothing are
 * closed by the framework once they are quiet, or when {@code grace} has passed.
 *
 * @param grace how long the framework waits for open connections before closing them
 */
public record DaemonStopping(Duration grace) {}
