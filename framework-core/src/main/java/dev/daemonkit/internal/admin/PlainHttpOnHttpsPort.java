package dev.daemonkit.internal.admin;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * First in the pipeline of the admin endpoint over https: looks at the first byte a client sends.
 * A TLS record (a handshake starts with content type 22) goes on to the TLS handler and this handler
 * leaves the pipeline. Plain http ("GET /health/ready ..." from a probe or a curl left on http://)
 * gets a plain {@code 400} that says to use https, as nginx does, instead of a connection closed
 * without a word: the operator who sees it knows at once what is wrong. Anything else is closed.
 * Nothing is read past the first byte, and the reply is a fixed string: the client's bytes are
 * neither echoed nor parsed.
 */
final class PlainHttpOnHttpsPort extends ByteToMessageDecoder {
    /** TLS record content type "handshake": the first byte of every ClientHello. */
    private static final int TLS_HANDSHAKE = 22;

    private final String reply;

    PlainHttpOnHttpsPort(String httpsAddress) {
        String body =
                "this endpoint speaks https only (daemonkit.admin.tls is set): use https://" + httpsAddress + "/\n";
        this.reply = "HTTP/1.1 400 Bad Request\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\n"
                + "Content-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n"
                + "Connection: close\r\n\r\n"
                + body;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        int first = in.getUnsignedByte(in.readerIndex());
        if (first == TLS_HANDSHAKE) {
            // Removing a ByteToMessageDecoder hands what it holds to the next handler: the TLS handler.
            ctx.pipeline().remove(this);
            return;
        }
        in.skipBytes(in.readableBytes());
        if (looksLikeHttp(first)) {
            ctx.writeAndFlush(Unpooled.copiedBuffer(reply, StandardCharsets.UTF_8))
                    .addListener(ChannelFutureListener.CLOSE);
        } else {
            ctx.close();
        }
    }

    /** An http request line starts with a method: upper-case letters. */
    private static boolean looksLikeHttp(int first) {
        return first >= 'A' && first <= 'Z';
    }
}
