package dev.daemonkit.internal.transport;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * Right after the TLS handler while {@code SslHandler} does the records: tells the front handler when
 * decrypted bytes arrive ({@link FrontHandler#plaintextRead()}). When {@link OpenSslRecordHandler} takes
 * over after the handshake it removes this handler and runs {@link #onPlaintext} itself, once per read that
 * carried plaintext: one pipeline hop less per request (issue 15, docs/benchmarks.md).
 */
final class PlaintextMark extends ChannelInboundHandlerAdapter {
    static final String NAME = "daemonkit-tls-plaintext";

    final Runnable onPlaintext;

    PlaintextMark(Runnable onPlaintext) {
        this.onPlaintext = onPlaintext;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        onPlaintext.run();
        ctx.fireChannelRead(msg);
    }
}
