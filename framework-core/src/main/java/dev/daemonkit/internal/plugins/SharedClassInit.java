package dev.daemonkit.internal.plugins;

import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Initializes, on a framework thread and before any plugin code runs, the shared libraries' classes that keep an
 * exception or a buffer in a static field. An exception records the stack it was created on, and with it the classes
 * of every frame; so does the leak detector's record of a buffer (at every level but disabled, for some buffers): if a plugin's handler were the first to touch {@code HttpObjectDecoder}, that class's static
 * {@code TRANSFER_ENCODING_NOT_ALLOWED} would hold the plugin's classes, and so its class loader, for as long as the
 * JVM runs, and a hot deploy of that plugin would never unload its first version (found by the test kit's unload
 * check, after a browser was the first HTTP client of the presence sample). {@code SharedClassInitTest} finds every
 * such class in the shared Netty jars, so a Netty upgrade that adds one cannot slip by.
 */
final class SharedClassInit {
    private static final Logger log = LoggerFactory.getLogger(SharedClassInit.class);

    /**
     * Classes of the shared libraries with a static field of an exception type (Netty's {@code Signal}s excepted:
     * they record no stack) or of a reference-counted type (a buffer, a response holding one), or a static object
     * with an exception or a future among its own fields. Most are initialized
     * by the framework anyway; naming them all costs nothing then.
     */
    static final List<String> STATIC_STACK_HOLDERS = List.of(
            "io.netty.buffer.Unpooled",
            "io.netty.handler.codec.ReplayingDecoderByteBuf",
            "io.netty.handler.codec.http.HttpObjectAggregator",
            "io.netty.handler.codec.http.HttpObjectEncoder",
            "io.netty.handler.codec.http.HttpServerExpectContinueHandler",
            "io.netty.handler.codec.http.LastHttpContent",
            "io.netty.handler.codec.http.websocketx.WebSocket00FrameEncoder",
            "io.netty.handler.codec.http.websocketx.extensions.compression.DeflateDecoder",
            "io.netty.handler.codec.http.HttpObjectDecoder",
            "io.netty.handler.codec.spdy.SpdyFrameCodec",
            "io.netty.handler.codec.spdy.SpdyHeaderBlockZlibDecoder",
            "io.netty.handler.codec.spdy.SpdySessionHandler",
            "io.netty.handler.codec.compression.Brotli",
            "io.netty.handler.codec.compression.Zstd",
            "io.netty.handler.ssl.SslMasterKeyHandler",
            "io.netty.handler.ssl.OpenSsl",
            "io.netty.handler.ssl.util.BouncyCastleUtil$BcPkix",
            "io.netty.handler.ssl.util.BouncyCastleUtil$BcProv",
            "io.netty.handler.ssl.util.BouncyCastleUtil$BcTls",
            "io.netty.handler.timeout.ReadTimeoutException",
            "io.netty.handler.timeout.WriteTimeoutException",
            "io.netty.util.ResourceLeakDetector$TraceRecord",
            "io.netty.util.internal.PlatformDependent",
            "io.netty.util.internal.PlatformDependent0",
            "io.netty.util.internal.VarHandleFactory",
            "io.netty.channel.epoll.Epoll",
            "io.netty.channel.uring.IoUring",
            // A static object with an exception, or a future that may hold one, in its own fields: the failed
            // termination futures of these two executors kept Lettuce's classes, and so the first presence plugin's
            // loader, once Lettuce was the first to touch them (two launchers in one JVM; PresenceClusterTest).
            "io.netty.util.concurrent.ImmediateEventExecutor",
            "io.netty.util.concurrent.GlobalEventExecutor",
            "io.netty.util.concurrent.DefaultPromise",
            "io.netty.handler.codec.DecoderResult",
            "io.netty.handler.codec.ReplayingDecoder",
            "io.netty.handler.ssl.SslCloseCompletionEvent",
            "io.netty.handler.ssl.SslHandshakeCompletionEvent");

    private SharedClassInit() {}

    /** Initializes them with {@code framework}, the loader plugins delegate the shared libraries to. Idempotent. */
    static void run(ClassLoader framework) {
        for (String name : STATIC_STACK_HOLDERS) {
            try {
                Class.forName(name, true, framework);
            } catch (ClassNotFoundException | LinkageError absentOrBroken) {
                // An optional module that is not on the class path: no plugin can touch it either.
                log.debug("not initialized ahead of plugins: {} ({})", name, absentOrBroken.toString());
            }
        }
    }
}
