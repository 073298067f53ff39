package dev.daemonkit.samples.echo;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * One connection's echo: splits what the client sends into lines (each keeps its {@code \n} or
 * {@code \r\n}, so a line goes back byte for byte) and writes each straight back, flushing once per
 * read from the socket rather than once per line, so a client that pipelines many lines costs one
 * system call.
 *
 * <p>Why one handler and not Netty's {@code LineBasedFrameDecoder} followed by an echo handler: every
 * handler in a pipeline costs each connection a context object (64 bytes), and an echo daemon is
 * mostly idle connections: the second stage cost 64 of the ~1,560 bytes a held connection took
 * (docs/benchmarks.md, "Held connections"). A protocol with real stages should keep them; here the
 * "stage" was one {@code write}.
 *
 * <p>A line longer than {@code max-line-bytes} (not counting its delimiter) gets one error line naming
 * the key, and the connection is closed; a client that sends more than that without any newline gets
 * it as soon as it has, without the daemon waiting for (or buffering) the rest.
 */
final class EchoLines extends ByteToMessageDecoder {
    private final Echo echo;
    /**
     * How far past the reader index the buffer has been searched for a newline: a line that arrives a
     * byte at a time is searched once, not once per byte (which a client trickling a 64 KiB line would
     * make quadratic).
     */
    private int searched;
    /** The error line has been written and the connection is closing: nothing more is read. */
    private boolean refused;

    EchoLines(Echo echo) {
        this.echo = echo;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (refused) {
            in.skipBytes(in.readableBytes());
            return;
        }
        int readable = in.readableBytes();
        // indexOf, as Netty's LineBasedFrameDecoder does: it compares eight bytes at a time, where forEachByte with
        // a ByteProcessor takes them one by one (measured, echo at depth 16: the search took 7.0 % of the event loop
        // with forEachByte, 2.6 % with indexOf).
        int lf = in.indexOf(in.readerIndex() + searched, in.writerIndex(), (byte) '\n');
        if (lf < 0) {
            searched = readable;
            if (readable > echo.maxLineBytes()) {
                refuse(ctx, in);
            }
            return;
        }
        searched = 0;
        int end = lf > in.readerIndex() && in.getByte(lf - 1) == '\r' ? lf - 1 : lf; // the line without its delimiter
        if (end - in.readerIndex() > echo.maxLineBytes()) {
            refuse(ctx, in);
            return;
        }
        ByteBuf line = in.readRetainedSlice(lf + 1 - in.readerIndex());
        echo.echoed(line.readableBytes());
        ctx.write(line, ctx.voidPromise()); // the buffer's ownership passes to the write
    }

    private void refuse(ChannelHandlerContext ctx, ByteBuf in) {
        refused = true;
        in.skipBytes(in.readableBytes());
        ByteBuf error = Unpooled.copiedBuffer(
                "ERROR line too long: the limit is " + echo.maxLineBytes() + " bytes (" + echo.maxLineBytesKey()
                        + ")\r\n",
                StandardCharsets.US_ASCII);
        ctx.writeAndFlush(error).addListener(ChannelFutureListener.CLOSE);
    }

    /** The connection has closed: lines still in the buffer have nobody to go back to. */
    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        in.skipBytes(in.readableBytes());
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
        ctx.flush();
        super.channelReadComplete(ctx);
    }
}
