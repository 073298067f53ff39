package dev.daemonkit.internal.transport;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * Placed right after a connection's HTTP decoder by its {@link FrontHandler}: tells it when a request
 * has been read to its end. HTTP decoders consume header lines as they come, so between two header
 * lines they hold nothing; without this, a client sending one header line every few seconds would
 * never be inside a request as far as the request deadline can see.
 */
final class HttpRequestEnd extends ChannelInboundHandlerAdapter {
    static final String NAME = "daemonkit-http-request-end";

    private final FrontHandler front;

    HttpRequestEnd(FrontHandler front) {
        this.front = front;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof LastHttpContent) {
            front.httpRequestEnded();
        }
        ctx.fireChannelRead(msg);
    }
}
