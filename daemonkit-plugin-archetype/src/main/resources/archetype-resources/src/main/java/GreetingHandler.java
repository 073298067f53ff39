package ${package};

import dev.daemonkit.api.DaemonContext;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.TooLongFrameException;

/** Greets each line's sender; a line over the limit gets an error naming the key to change, then the close. */
final class GreetingHandler extends SimpleChannelInboundHandler<String> {
    private final String greeting;
    private final int maxLineBytes;
    private final String maxLineBytesKey;
    private final DaemonContext daemon;

    GreetingHandler(String greeting, int maxLineBytes, String maxLineBytesKey, DaemonContext daemon) {
        this.greeting = greeting;
        this.maxLineBytes = maxLineBytes;
        this.maxLineBytesKey = maxLineBytesKey;
        this.daemon = daemon;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, String name) {
        daemon.requests().increment(); // daemonkit_requests_total in /metrics
        daemon.log().debug("greeting {}", name);
        ctx.write(greeting + ", " + name + "!\n");
    }

    /** One flush per read from the socket, not per line: a client that sends many lines costs one syscall. */
    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.flush();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof TooLongFrameException) {
            ctx.writeAndFlush("ERROR line too long: the limit is " + maxLineBytes + " bytes (" + maxLineBytesKey + ")\n")
                    .addListener(ChannelFutureListener.CLOSE);
            return;
        }
        ctx.fireExceptionCaught(cause); // the framework's barrier logs it and closes only this connection
    }
}
