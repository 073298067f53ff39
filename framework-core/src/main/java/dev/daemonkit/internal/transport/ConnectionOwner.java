package dev.daemonkit.internal.transport;

import dev.daemonkit.api.PipelineInitializer;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;

/** The daemon a listener hands accepted connections to. Called on the connection's event loop. */
public interface ConnectionOwner {
    void accept(Channel connection, PipelineInitializer protocol);

    /** The daemon's own event loops for its connections, or null: the shared ones. */
    default EventLoopGroup eventLoops() {
        return null;
    }
}
