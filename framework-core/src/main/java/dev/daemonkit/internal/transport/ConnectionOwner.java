package dev.daemonkit.internal.transport;

import dev.daemonkit.api.PipelineInitializer;
import io.netty.channel.Channel;

/** The daemon a listener hands accepted connections to. Called on the connection's event loop. */
public interface ConnectionOwner {
    void accept(Channel connection, PipelineInitializer protocol);
}
