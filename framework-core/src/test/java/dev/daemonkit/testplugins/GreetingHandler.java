package dev.daemonkit.testplugins;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.nio.charset.StandardCharsets;

/** Writes testlib.Greeting.VERSION (loaded through the given loader) and closes. */
final class GreetingHandler extends ChannelInboundHandlerAdapter {
    private final ClassLoader loader;

    GreetingHandler(ClassLoader loader) {
        this.loader = loader;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        String v = (String) Class.forName("testlib.Greeting", true, loader)
                .getField("VERSION")
                .get(null);
        ctx.writeAndFlush(Unpooled.copiedBuffer(v + "\n", StandardCharsets.UTF_8))
                .addListener(ChannelFutureListener.CLOSE);
    }
}
