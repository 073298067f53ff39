package dev.daemonkit.testkit.shout;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/** The shout plugin's web listener: GET / answers a page, /ws is a WebSocket that shouts every text message back. */
final class ShoutWeb {
    private ShoutWeb() {}

    static void initialize(ChannelPipeline pipeline) {
        pipeline.addLast(
                new HttpServerCodec(),
                new HttpObjectAggregator(64 * 1024),
                new WebSocketServerProtocolHandler("/ws"),
                new SimpleChannelInboundHandler<TextWebSocketFrame>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, TextWebSocketFrame frame) {
                        ctx.writeAndFlush(new TextWebSocketFrame(frame.text().toUpperCase(Locale.ROOT)));
                    }
                },
                new SimpleChannelInboundHandler<FullHttpRequest>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
                        boolean page = request.uri().equals("/");
                        var response = new DefaultFullHttpResponse(
                                request.protocolVersion(),
                                page ? HttpResponseStatus.OK : HttpResponseStatus.NOT_FOUND,
                                Unpooled.copiedBuffer(page ? "SHOUT HERE\n" : "NOT HERE\n", StandardCharsets.UTF_8));
                        response.headers()
                                .set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
                                .setInt(
                                        HttpHeaderNames.CONTENT_LENGTH,
                                        response.content().readableBytes());
                        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
                    }
                });
    }
}
