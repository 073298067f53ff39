package dev.daemonkit.samples.presence;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The HTTP side: serves the web page from the plugin jar and lets WebSocket upgrades to {@code /ws}
 * through (to Netty's protocol handler after it) only from the page's own origin, so that another
 * web site open in the same browser cannot speak for its user. Every request (page and upgrade) must
 * name this server by an IP address, {@code localhost} or a name in {@code allowed-hosts} ({@link
 * AllowedHosts}), so that a site cannot become that origin by pointing its own name here (DNS rebinding).
 */
final class WebHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    static final String WEBSOCKET_PATH = "/ws";

    /** A file of the page: its bytes and content type. */
    record Resource(byte[] bytes, String contentType) {}

    private final Map<String, Resource> files;
    private final AllowedHosts allowedHosts;

    WebHandler(Map<String, Resource> files, AllowedHosts allowedHosts) {
        this.files = files;
        this.allowedHosts = allowedHosts;
    }

    /** Reads the page's files from the plugin jar, once, when the daemon is configured. */
    static Map<String, Resource> load() {
        return Map.of(
                "/", read("index.html", "text/html; charset=utf-8"),
                "/index.html", read("index.html", "text/html; charset=utf-8"),
                "/presence.js", read("presence.js", "text/javascript; charset=utf-8"),
                "/presence.css", read("presence.css", "text/css; charset=utf-8"));
    }

    private static Resource read(String file, String type) {
        try (InputStream in = WebHandler.class.getResourceAsStream("web/" + file)) {
            if (in == null) {
                throw new IllegalStateException(
                        "web/" + file + " is missing from the presence plugin jar: rebuild the plugin");
            }
            return new Resource(in.readAllBytes(), type);
        } catch (IOException e) {
            throw new UncheckedIOException("reading web/" + file + " from the presence plugin jar", e);
        }
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        if (!req.decoderResult().isSuccess()) {
            respond(
                    ctx,
                    req,
                    HttpResponseStatus.BAD_REQUEST,
                    "bad request: " + req.decoderResult().cause().getMessage(),
                    false);
            return;
        }
        String host = req.headers().get(HttpHeaderNames.HOST);
        if (!allowedHosts.allows(host)) {
            respond(
                    ctx,
                    req,
                    HttpResponseStatus.FORBIDDEN,
                    "refused: Host: " + host + " is not an IP address, localhost, or a name in"
                            + " daemons.presence.allowed-hosts: a web page whose name now points here (DNS rebinding)"
                            + " could act for your browser's user. Use the server's address, or add the name to"
                            + " daemons.presence.allowed-hosts",
                    false);
            return;
        }
        String path = new QueryStringDecoder(req.uri()).path();
        if (path.equals(WEBSOCKET_PATH)) {
            String refused = crossOrigin(req);
            if (refused != null) {
                respond(ctx, req, HttpResponseStatus.FORBIDDEN, refused, false);
                return;
            }
            ctx.fireChannelRead(req.retain()); // Netty's WebSocketServerProtocolHandler does the handshake
            return;
        }
        if (!req.method().equals(HttpMethod.GET) && !req.method().equals(HttpMethod.HEAD)) {
            respond(
                    ctx,
                    req,
                    HttpResponseStatus.METHOD_NOT_ALLOWED,
                    req.method() + " is not supported: the page is read with GET",
                    true);
            return;
        }
        Resource file = files.get(path);
        if (file == null) {
            respond(
                    ctx,
                    req,
                    HttpResponseStatus.NOT_FOUND,
                    path + " is not here: the page is at /, the WebSocket at " + WEBSOCKET_PATH,
                    true);
            return;
        }
        FullHttpResponse res = new DefaultFullHttpResponse(
                HttpVersion.HTTP_1_1,
                HttpResponseStatus.OK,
                req.method().equals(HttpMethod.HEAD) ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(file.bytes()));
        res.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, file.contentType())
                .set(HttpHeaderNames.CACHE_CONTROL, "no-cache")
                .set("X-Content-Type-Options", "nosniff")
                .set("Content-Security-Policy", "default-src 'self'");
        HttpUtil.setContentLength(res, file.bytes().length);
        send(ctx, req, res, true);
    }

    /** Null if a WebSocket upgrade may go ahead; otherwise why not. Clients that send no Origin (not browsers) may. */
    static String crossOrigin(FullHttpRequest req) {
        String origin = req.headers().get(HttpHeaderNames.ORIGIN);
        if (origin == null) {
            return null;
        }
        String host = req.headers().get(HttpHeaderNames.HOST);
        try {
            String authority = URI.create(origin).getRawAuthority();
            if (host != null && host.equalsIgnoreCase(authority)) {
                return null;
            }
        } catch (IllegalArgumentException notAUri) {
            // refused below
        }
        return "cross-origin WebSocket refused: Origin " + origin + " is not this server (" + host
                + "). Open the page from this server";
    }

    private static void respond(
            ChannelHandlerContext ctx, FullHttpRequest req, HttpResponseStatus status, String text, boolean keepAlive) {
        FullHttpResponse res = new DefaultFullHttpResponse(
                HttpVersion.HTTP_1_1, status, Unpooled.copiedBuffer(text + "\n", StandardCharsets.UTF_8));
        res.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        HttpUtil.setContentLength(res, res.content().readableBytes());
        send(ctx, req, res, keepAlive);
    }

    private static void send(ChannelHandlerContext ctx, FullHttpRequest req, FullHttpResponse res, boolean keepAlive) {
        boolean keep = keepAlive && HttpUtil.isKeepAlive(req);
        if (keep) {
            res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            ctx.writeAndFlush(res);
        } else {
            res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
        }
    }
}
