package dev.daemonkit.testplugins;

import dev.daemonkit.api.DaemonContext;
import dev.daemonkit.api.DaemonPlugin;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;

/** HTTP/1.1 keep-alive: every request gets 200 "hello PATH". */
public final class HttpHelloPlugin implements DaemonPlugin {
    @Override
    public String name() {
        return "http-hello";
    }

    @Override
    public void configure(DaemonContext daemon) {
        daemon.listen(
                "listen",
                p -> p.addLast(
                        new HttpServerCodec(),
                        new HttpObjectAggregator(8192),
                        new SimpleChannelInboundHandler<FullHttpRequest>() {
                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
                                FullHttpResponse res = new DefaultFullHttpResponse(
                                        HttpVersion.HTTP_1_1,
                                        HttpResponseStatus.OK,
                                        Unpooled.copiedBuffer("hello " + req.uri(), StandardCharsets.UTF_8));
                                HttpUtil.setContentLength(res, res.content().readableBytes());
                                HttpUtil.setKeepAlive(res, true);
                                ctx.writeAndFlush(res);
                            }
                        }));
    }
}
