package dev.daemonkit.api;

import io.netty.channel.ChannelPipeline;

/**
 * Adds a protocol's handlers to the pipeline of one new connection (or, for UDP, of one bound
 * socket). Called by the framework on the connection's event loop, once per connection, after the
 * framework's own front handlers are in place: create fresh handlers here, since frame decoders keep
 * per-connection state. The framework adds its exception barrier after the handlers you add.
 */
@FunctionalInterface
public interface PipelineInitializer {
    void initialize(ChannelPipeline pipeline) throws Exception;
}
