package dev.daemonkit.internal.admin;

import dev.daemonkit.api.DaemonState;
import dev.daemonkit.api.Listener;
import dev.daemonkit.internal.config.Addresses;
import dev.daemonkit.internal.config.ConfigError;
import dev.daemonkit.internal.lifecycle.DaemonInstance;
import dev.daemonkit.internal.lifecycle.DaemonStatus;
import dev.daemonkit.internal.lifecycle.Launcher;
import dev.daemonkit.internal.plugins.PluginFailure;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin endpoint's routes. Commands that take time (stop drains connections) answer when done,
 * without blocking the event loop: the launcher's futures complete the response.
 *
 * <pre>
 * GET  /health/live                  no token: 200 unless an event loop is blocked past the watchdog threshold
 * GET  /health/ready                 no token: 200 when every daemon is RUNNING and the launcher is not stopping
 * GET  /health/started               no token: 200 once the launcher's start is done (then for good)
 * GET  /health                       200 when every daemon is RUNNING, 503 otherwise; one line per daemon
 * GET  /daemons                      JSON list (?format=table: the table bin/daemonkit status prints)
 * GET  /daemons/NAME                 JSON of one daemon
 * GET  /metrics                      Prometheus text format
 * POST /daemons/NAME/start|stop|restart
 * PUT  /loggers/NAME                 body: a level (TRACE..OFF, or inherit); NAME a daemon, a logger, or root;
 *                                    ?daemon=D sets logger NAME inside daemon D only
 * POST /reload                       re-read the config and the plugins folder
 * POST /shutdown                     stop the launcher (drains like TERM)
 * </pre>
 */
final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger log = LoggerFactory.getLogger(AdminHandler.class);
    private static final Pattern DAEMON_ACTION = Pattern.compile("/daemons/([a-z0-9-]+)/(start|stop|restart)");
    private static final Pattern DAEMON = Pattern.compile("/daemons/([a-z0-9-]+)");
    private static final Pattern LOGGER = Pattern.compile("/loggers/([^/]+)");

    private final Launcher launcher;
    private final DaemonkitMetrics metrics;
    private final byte[] token;
    private final Runnable shutdown;
    private final Probes probes;
    private final BrowserGuard guard;

    /** A plain-http endpoint's handler: Host is checked when there is no token, no name allowed. */
    AdminHandler(Launcher launcher, DaemonkitMetrics metrics, Probes probes, String token, Runnable shutdown) {
        this(launcher, metrics, probes, token, new BrowserGuard(false, !token.isBlank(), List.of()), shutdown);
    }

    AdminHandler(
            Launcher launcher,
            DaemonkitMetrics metrics,
            Probes probes,
            String token,
            BrowserGuard guard,
            Runnable shutdown) {
        this.launcher = launcher;
        this.metrics = metrics;
        this.probes = probes;
        this.token = token.isBlank() ? null : token.getBytes(StandardCharsets.UTF_8);
        this.guard = guard;
        this.shutdown = shutdown;
    }

    private record Reply(HttpResponseStatus status, String contentType, String body) {
        static Reply json(HttpResponseStatus status, Object value) {
            return new Reply(status, "application/json; charset=utf-8", Json.write(value) + "\n");
        }

        static Reply text(HttpResponseStatus status, String body) {
            return new Reply(status, "text/plain; charset=utf-8", body);
        }

        static Reply error(HttpResponseStatus status, String message) {
            return json(status, Map.of("error", message));
        }
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        if (request.decoderResult().isFailure()) {
            // Before the token: a request whose headers could not be read has no trustworthy token, and
            // its client must learn what was wrong with the request, not that it lacks authority.
            Throwable why = request.decoderResult().cause();
            HttpResponseStatus status = why instanceof TooLongHttpHeaderException
                    ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
                    : why instanceof TooLongHttpLineException
                            ? HttpResponseStatus.REQUEST_URI_TOO_LONG
                            : HttpResponseStatus.BAD_REQUEST;
            log.debug("admin: refused a malformed request from {}: {}", peer(ctx), String.valueOf(why));
            respond(
                    ctx,
                    false,
                    Reply.error(
                            status,
                            "the request could not be read: " + why.getMessage()
                                    + ". Headers are limited to 8 KiB, the request line to 4 KiB."));
            return;
        }
        // The probes first: read-only, answered to anyone who can connect (no token either), so the browser
        // checks protect nothing there, while a health check naming the host (Docker's `curl
        // http://daemonkit:7070/health/live`, a probe with its own Host header) would fail them and have the
        // container restarted (found when the guard was verified).
        Reply probe = probe(request);
        if (probe != null) {
            respond(ctx, keepAlive, probe);
            return;
        }
        // Then, before everything else: a web page gets nothing from this endpoint.
        String refused = guard.refusal(request);
        if (refused != null) {
            guard.logRefused(() -> "admin: " + requestLine(request) + " from " + peer(ctx) + " " + refused);
            respond(ctx, false, Reply.error(HttpResponseStatus.FORBIDDEN, refused));
            return;
        }
        if (!authorized(request)) {
            // Thinned: anyone who can connect can send as many as they like (a review counted one line each).
            guard.tokenRefusedLog.warn(() -> "admin: refused " + requestLine(request) + " from " + peer(ctx)
                    + ": missing or wrong token (send Authorization: Bearer TOKEN)");
            respond(
                    ctx,
                    keepAlive,
                    Reply.error(
                            HttpResponseStatus.UNAUTHORIZED,
                            "this admin endpoint needs the token of daemonkit.admin.token: send Authorization: Bearer TOKEN"));
            return;
        }
        QueryStringDecoder uri = new QueryStringDecoder(request.uri());
        String body = request.content().toString(StandardCharsets.UTF_8).trim();
        CompletableFuture<Reply> reply;
        try {
            reply = route(request.method(), uri, body);
        } catch (RuntimeException e) {
            reply = CompletableFuture.failedFuture(e);
        }
        reply.whenComplete((r, e) -> ctx.executor().execute(() -> respond(ctx, keepAlive, r != null ? r : failure(e))));
    }

    /**
     * The answer of a probe route, or null for any other request. Probes need no token: kubelet and
     * most load balancers cannot send one, and the answers name no daemon (see {@link Probes}).
     */
    private Reply probe(FullHttpRequest request) {
        if (!request.method().equals(HttpMethod.GET) && !request.method().equals(HttpMethod.HEAD)) {
            return null;
        }
        Probes.Answer answer = switch (new QueryStringDecoder(request.uri()).path()) {
            case "/health/live" -> probes.live();
            case "/health/ready" -> probes.ready();
            case "/health/started" -> probes.started();
            default -> null;
        };
        return answer == null
                ? null
                : Reply.text(
                        answer.ok() ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE, answer.body());
    }

    private static Reply failure(Throwable e) {
        Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        if (cause instanceof Launcher.UnknownDaemon) {
            return Reply.error(HttpResponseStatus.NOT_FOUND, cause.getMessage());
        }
        if (cause instanceof ConfigError) {
            return Reply.error(
                    HttpResponseStatus.UNPROCESSABLE_ENTITY,
                    "rejected, the running config stays: " + cause.getMessage());
        }
        if (cause instanceof IllegalArgumentException || cause instanceof IllegalStateException) {
            return Reply.error(HttpResponseStatus.BAD_REQUEST, cause.getMessage());
        }
        log.error("admin: request failed", cause);
        return Reply.error(HttpResponseStatus.INTERNAL_SERVER_ERROR, String.valueOf(cause));
    }

    private CompletableFuture<Reply> route(HttpMethod method, QueryStringDecoder uri, String body) {
        String path = uri.path();
        Matcher m;
        if (path.equals("/health")) {
            return get(method, this::health);
        }
        if (path.equals("/daemons")) {
            boolean table = "table".equals(first(uri, "format"));
            return get(
                    method,
                    () -> table
                            ? Reply.text(HttpResponseStatus.OK, table())
                            : Reply.json(HttpResponseStatus.OK, daemons()));
        }
        if (path.equals("/metrics")) {
            return get(
                    method,
                    () -> new Reply(
                            HttpResponseStatus.OK, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape()));
        }
        if ((m = DAEMON_ACTION.matcher(path)).matches()) {
            if (!method.equals(HttpMethod.POST)) {
                return notAllowed("POST");
            }
            String name = m.group(1);
            CompletableFuture<String> done = switch (m.group(2)) {
                case "start" -> launcher.startDaemon(name);
                case "stop" -> launcher.stopDaemon(name);
                default -> launcher.restartDaemon(name);
            };
            return done.thenApply(message -> Reply.json(
                    HttpResponseStatus.OK, ordered("daemon", name, "state", stateOf(name), "message", message)));
        }
        if ((m = DAEMON.matcher(path)).matches()) {
            String name = m.group(1);
            return get(
                    method,
                    () -> daemons().stream()
                            .filter(d -> d.get("name").equals(name))
                            .findFirst()
                            .map(d -> Reply.json(HttpResponseStatus.OK, d))
                            .orElse(Reply.error(HttpResponseStatus.NOT_FOUND, "no daemon named '" + name + "'")));
        }
        if ((m = LOGGER.matcher(path)).matches()) {
            if (!method.equals(HttpMethod.PUT)) {
                return notAllowed("PUT");
            }
            return CompletableFuture.completedFuture(setLevel(m.group(1), first(uri, "daemon"), level(body)));
        }
        if (path.equals("/reload")) {
            if (!method.equals(HttpMethod.POST)) {
                return notAllowed("POST");
            }
            return launcher.reload()
                    .thenApply(r -> Reply.json(
                            HttpResponseStatus.OK,
                            ordered(
                                    "started",
                                    r.started(),
                                    "restarted",
                                    r.restarted(),
                                    "updated",
                                    r.updated(),
                                    "stopped",
                                    r.stopped(),
                                    "notes",
                                    r.notes(),
                                    "message",
                                    r.toString())));
        }
        if (path.equals("/shutdown")) {
            if (!method.equals(HttpMethod.POST)) {
                return notAllowed("POST");
            }
            shutdown.run();
            long delay = launcher.settings().shutdown().delay().toMillis();
            return CompletableFuture.completedFuture(Reply.json(
                    HttpResponseStatus.ACCEPTED,
                    Map.of(
                            "message",
                            "stopping: "
                                    + (delay == 0
                                            ? ""
                                            : "not ready now, serving " + delay
                                                    + " ms more (daemonkit.shutdown.delay), then ")
                                    + "daemons drain for up to "
                                    + launcher.settings().shutdown().grace().toSeconds() + " s")));
        }
        return CompletableFuture.completedFuture(
                Reply.error(
                        HttpResponseStatus.NOT_FOUND,
                        "no such endpoint: " + path
                                + ". Try /health, /health/live, /health/ready, /health/started, /daemons, /metrics, /daemons/NAME/{start,stop,restart}, /loggers/NAME, /reload, /shutdown"));
    }

    private static CompletableFuture<Reply> get(HttpMethod method, Supplier<Reply> reply) {
        if (!method.equals(HttpMethod.GET) && !method.equals(HttpMethod.HEAD)) {
            return notAllowed("GET");
        }
        return CompletableFuture.completedFuture(reply.get());
    }

    private static CompletableFuture<Reply> notAllowed(String allowed) {
        return CompletableFuture.completedFuture(Reply.error(HttpResponseStatus.METHOD_NOT_ALLOWED, "use " + allowed));
    }

    private static String first(QueryStringDecoder uri, String key) {
        List<String> v = uri.parameters().get(key);
        return v == null || v.isEmpty() ? null : v.get(0);
    }

    /** The level in a body: {@code DEBUG}, or {@code {"level":"DEBUG"}}. */
    private static String level(String body) {
        Matcher m = Pattern.compile("\"level\"\\s*:\\s*\"([A-Za-z]+)\"").matcher(body);
        return m.find() ? m.group(1) : body.replace("\"", "").trim();
    }

    private Reply setLevel(String name, String daemon, String level) {
        if (level.isEmpty()) {
            return Reply.error(
                    HttpResponseStatus.BAD_REQUEST,
                    "send the level as the body: TRACE, DEBUG, INFO, WARN, ERROR, OFF or inherit");
        }
        String scope;
        if (daemon != null) {
            if (!isDaemon(daemon)) {
                return Reply.error(HttpResponseStatus.NOT_FOUND, "no daemon named '" + daemon + "'");
            }
            launcher.setLevel(daemon, name, level);
            scope = "logger '" + name + "' of daemon '" + daemon + "'";
        } else if (isDaemon(name)) {
            launcher.setLevel(name, null, level);
            scope = "daemon '" + name + "'";
        } else if (name.equalsIgnoreCase("root")) {
            launcher.setLevel(null, null, level);
            scope = "the global level";
        } else {
            launcher.setLevel(null, name, level);
            scope = "logger '" + name + "'";
        }
        return Reply.json(
                HttpResponseStatus.OK,
                ordered(
                        "logger",
                        name,
                        "daemon",
                        daemon,
                        "level",
                        level.toUpperCase(),
                        "message",
                        scope + " is now " + level.toUpperCase()));
    }

    private boolean isDaemon(String name) {
        return launcher.daemons().status(name) != null;
    }

    private Reply health() {
        StringBuilder sb = new StringBuilder();
        boolean ok = true;
        for (DaemonStatus v : launcher.daemons().statuses()) {
            ok &= v.state() == DaemonState.RUNNING;
            sb.append(v.name()).append(' ').append(v.state());
            String degraded = Probes.degraded(v);
            if (degraded != null) {
                ok = false;
                sb.append(" degraded: ").append(degraded);
            }
            sb.append('\n');
        }
        for (String u : launcher.daemons().unresolved()) {
            ok = false;
            sb.append("not started: ").append(u).append('\n');
        }
        return Reply.text(
                ok ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE,
                (ok ? "ok\n" : "unhealthy\n") + sb);
    }

    private String stateOf(String name) {
        DaemonStatus v = launcher.daemons().status(name);
        return v == null ? "REMOVED" : v.state().name();
    }

    private List<Map<String, Object>> daemons() {
        List<Map<String, Object>> out = new ArrayList<>();
        long now = System.currentTimeMillis();
        for (DaemonStatus v : launcher.daemons().statuses()) {
            DaemonInstance i = v.instance();
            List<String> listeners = new ArrayList<>();
            if (i != null) {
                for (Listener l : i.listeners()) {
                    listeners.add(l.toString());
                }
            }
            long since = i == null ? 0 : i.runningSinceMillis();
            out.add(ordered(
                    "name",
                    v.name(),
                    "plugin",
                    v.plugin(),
                    "version",
                    v.version(),
                    "source",
                    v.source().getFileName().toString(),
                    "state",
                    v.state().name(),
                    "listeners",
                    listeners,
                    "connections",
                    i == null ? 0 : i.connections().open(),
                    "uptime_seconds",
                    since == 0 || v.state() != DaemonState.RUNNING ? 0 : (now - since) / 1000,
                    "restarts",
                    v.restarts(),
                    "last_failure",
                    v.lastFailure()));
        }
        return out;
    }

    private String table() {
        return table(daemons(), launcher.daemons().unresolved(), launcher.pluginFailures());
    }

    /**
     * The status table {@code bin/daemonkit status} prints: one row per daemon (as {@link #daemons}
     * makes them), then the daemons not started and the plugin files not loaded.
     */
    static String table(List<Map<String, Object>> rows, List<String> unresolved, List<PluginFailure> failures) {
        String[] head = {
            "DAEMON", "PLUGIN", "VERSION", "STATE", "LISTENERS", "CONNS", "UPTIME", "RESTARTS", "LAST FAILURE"
        };
        List<String[]> cells = new ArrayList<>();
        cells.add(head);
        for (Map<String, Object> r : rows) {
            @SuppressWarnings("unchecked")
            List<String> ls = (List<String>) r.get("listeners");
            cells.add(new String[] {
                str(r.get("name")),
                str(r.get("plugin")),
                str(r.get("version")),
                str(r.get("state")),
                ls.isEmpty() ? "-" : String.join(", ", ls),
                str(r.get("connections")),
                duration((Long) r.get("uptime_seconds")),
                str(r.get("restarts")),
                r.get("last_failure") == null ? "-" : str(r.get("last_failure"))
            });
        }
        int[] width = new int[head.length];
        for (String[] row : cells) {
            for (int c = 0; c < row.length - 1; c++) {
                width[c] = Math.max(width[c], row[c].length());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (String[] row : cells) {
            for (int c = 0; c < row.length; c++) {
                sb.append(c == row.length - 1 ? row[c] : String.format("%-" + width[c] + "s  ", row[c]));
            }
            sb.append('\n');
        }
        for (String u : unresolved) {
            sb.append("not started: ").append(u).append('\n');
        }
        failures.forEach(f -> sb.append("plugin file not loaded: ")
                .append(f.source().getFileName())
                .append(": ")
                .append(f.reason())
                .append('\n'));
        return sb.toString();
    }

    private static String str(Object o) {
        return String.valueOf(o);
    }

    private static String duration(long seconds) {
        if (seconds <= 0) {
            return "-";
        }
        if (seconds < 60) {
            return seconds + "s";
        }
        if (seconds < 3600) {
            return seconds / 60 + "m" + seconds % 60 + "s";
        }
        return seconds / 3600 + "h" + (seconds % 3600) / 60 + "m";
    }

    private static Map<String, Object> ordered(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    private boolean authorized(FullHttpRequest request) {
        if (token == null) {
            return true;
        }
        String header = request.headers().get(HttpHeaderNames.AUTHORIZATION);
        if (header == null || !header.startsWith("Bearer ")) {
            return false;
        }
        // Constant time, so the token cannot be guessed byte by byte from response times.
        return MessageDigest.isEqual(
                token, header.substring("Bearer ".length()).trim().getBytes(StandardCharsets.UTF_8));
    }

    /** The longest request path a log line shows; the rest is counted, not written. */
    static final int LOGGED_PATH_MAX = 200;

    /**
     * The method and path of a refused request as a log line may show them: anyone who can connect chooses them.
     * Control characters (C0, DEL, C1) are written as {@code \xNN}: a path carrying ANSI escape sequences erased
     * and rewrote the lines above it on the console and in {@code tail -f daemonkit.log}, and could forge lines
     * there (found by a hostile review). A path longer than {@link #LOGGED_PATH_MAX} is cut, with its length.
     */
    static String requestLine(FullHttpRequest request) {
        return printable(request.method().name(), 32) + " " + printable(request.uri(), LOGGED_PATH_MAX);
    }

    /** {@code text} with its control characters escaped, cut after {@code max} characters. */
    static String printable(String text, int max) {
        StringBuilder b = new StringBuilder(Math.min(text.length(), max) + 16);
        int n = Math.min(text.length(), max);
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
                b.append(String.format("\\x%02x", (int) c));
            } else if (c == '\u2028' || c == '\u2029' || (c >= '\u202a' && c <= '\u202e')) {
                b.append(String.format("\\u%04x", (int) c)); // line separators, bidi overrides
            } else {
                b.append(c);
            }
        }
        if (text.length() > max) {
            b.append("... (").append(text.length()).append(" characters)");
        }
        return b.toString();
    }

    private static String peer(ChannelHandlerContext ctx) {
        return ctx.channel().remoteAddress() instanceof InetSocketAddress a
                ? Addresses.format(a)
                : String.valueOf(ctx.channel().remoteAddress());
    }

    private void respond(ChannelHandlerContext ctx, boolean keepAlive, Reply reply) {
        byte[] bytes = reply.body().getBytes(StandardCharsets.UTF_8);
        FullHttpResponse response =
                new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, reply.status(), Unpooled.wrappedBuffer(bytes));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, reply.contentType());
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
        if (!keepAlive) {
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        } else {
            ctx.writeAndFlush(response);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("admin connection from {} failed: {}", peer(ctx), cause.toString());
        ctx.close();
    }
}
