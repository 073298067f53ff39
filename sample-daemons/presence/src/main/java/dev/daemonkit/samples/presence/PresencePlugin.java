package dev.daemonkit.samples.presence;

import dev.daemonkit.api.DaemonContext;
import dev.daemonkit.api.DaemonPlugin;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.util.concurrent.EventExecutor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Who is online, in which room, what they say, and who went silent: a line protocol
 * ({@code listen}) and the same commands over a WebSocket beside a live web page ({@code listen-http}).
 * The protocol: {@code docs/protocols/presence.md}.
 */
public final class PresencePlugin implements DaemonPlugin {
    /** Requests of the page and the WebSocket handshake; the page's files are GETs without bodies. */
    private static final int MAX_HTTP_REQUEST_BYTES = 8192;
    /** Netty's default: a longer WebSocket frame is refused with close code 1009 (too big). */
    private static final int MAX_WEBSOCKET_FRAME_BYTES = 65536;
    /** How long a closing WebSocket waits for its Close frame to be written before the socket is closed anyway. */
    static final int FORCE_CLOSE_MILLIS = 5_000;

    @Override
    public String name() {
        return "presence"; // config block daemons.presence, log logs/presence.log
    }

    @Override
    public void configure(DaemonContext daemon) {
        PresenceSettings settings = PresenceSettings.from(daemon.config());
        List<EventExecutor> loops = new ArrayList<>();
        daemon.eventLoops().forEach(loops::add);
        Presence presence =
                new Presence(settings, daemon.log(), loops, daemon.timers(), System::nanoTime, daemon.requests());
        if (settings.broker().isRedis()) {
            // Binds once the first connection attempt has ended: a Redis that is up is joined before the first user
            // arrives; one that is down does not keep this launcher's users out (they are served here, degraded).
            RedisBroker broker = new RedisBroker(
                    presence, settings.broker(), daemon.log(), daemon.eventLoops(), daemon.timers(), daemon::degraded);
            presence.broker(broker);
            daemon.readyWhen(broker.start());
        }
        daemon.onStopped(presence::stopped);
        Map<String, WebHandler.Resource> page = WebHandler.load();

        // Two handlers per online user, fresh for each connection (the decoder keeps state).
        daemon.listen(
                "listen",
                pipeline -> pipeline.addLast(
                        new LineBasedFrameDecoder(settings.maxLineBytes(), true, true),
                        new LineSession(
                                presence, presence.loopIndex(pipeline.channel().eventLoop()))));

        WebSocketServerProtocolConfig websocket = webSocketConfig();
        daemon.listen(
                "listen-http",
                pipeline -> webPipeline(
                        pipeline,
                        presence,
                        page,
                        websocket,
                        presence.loopIndex(pipeline.channel().eventLoop())));

        long[] last = new long[6];
        daemon.timers()
                .every(
                        settings.statsInterval(),
                        () -> { // cancelled by the framework on stop
                            long commands = presence.commands.count();
                            long delivered = presence.delivered.sum();
                            long slow = presence.slowDropped.sum();
                            long timedOut = presence.timedOut.sum();
                            long dropped = presence.announcementsDropped.sum();
                            long rateRefused = presence.rateRefused.sum();
                            if (commands != last[0] || delivered != last[1]) {
                                daemon.log()
                                        .info(
                                                "{} online in {} rooms; in the last {}: {} commands, {} events delivered, {} timed out,"
                                                        + " {} disconnected for not reading{}{}{}",
                                                presence.online(),
                                                presence.roomCount(),
                                                Session.human(settings.statsInterval()),
                                                commands - last[0],
                                                delivered - last[1],
                                                timedOut - last[3],
                                                slow - last[2],
                                                droppedText(dropped - last[4], presence.droppedIn, settings),
                                                rateRefused == last[5]
                                                        ? ""
                                                        : "; " + (rateRefused - last[5])
                                                                + " messages refused or dropped by room-rate-limit",
                                                presence.broker().stats());
                            }
                            last[0] = commands;
                            last[1] = delivered;
                            last[2] = slow;
                            last[3] = timedOut;
                            last[4] = dropped;
                            last[5] = rateRefused;
                        });
    }

    /**
     * The stats line's part on membership events dropped in busy rooms (none: nothing). Thinned: one line per
     * stats-interval, not one per event.
     */
    static String droppedText(long dropped, String lastRoom, PresenceSettings settings) {
        if (dropped == 0) {
            return "";
        }
        return "; " + dropped + " JOIN/LEAVE/TIMEOUT events not sent (the last in room " + lastRoom
                + "): its backlog was over half of max-room-backlog (" + settings.maxRoomBacklog() / 2
                + " event copies), members joining and leaving faster than it is written; its members resync with"
                + " WHO. If it persists, look for clients churning JOIN/LEAVE, or lower announce-membership-up-to";
    }

    /** The HTTP side of one connection: the page, the WebSocket handshake, then a session. Also used by tests. */
    static void webPipeline(
            ChannelPipeline pipeline,
            Presence presence,
            Map<String, WebHandler.Resource> page,
            WebSocketServerProtocolConfig websocket,
            int loopIndex) {
        WebSocketSession session = new WebSocketSession(presence, loopIndex);
        pipeline.addLast(
                new HttpServerCodec(4096, MAX_HTTP_REQUEST_BYTES, MAX_HTTP_REQUEST_BYTES),
                new HttpObjectAggregator(MAX_HTTP_REQUEST_BYTES),
                new WebHandler(page, presence.settings.allowedHosts()),
                new SessionWebSocketProtocolHandler(websocket, session),
                session);
    }

    /** The WebSocket protocol's settings (path, frame limit, handshake timeout). */
    static WebSocketServerProtocolConfig webSocketConfig() {
        return WebSocketServerProtocolConfig.newBuilder()
                .websocketPath(WebHandler.WEBSOCKET_PATH)
                .maxFramePayloadLength(MAX_WEBSOCKET_FRAME_BYTES)
                .handshakeTimeoutMillis(10_000)
                // Netty's default, 0, closes the connection at once when our Close frame cannot be written
                // at once, dropping what was queued before it (OK QUIT, BYE timeout) for a client that reads slowly.
                .forceCloseTimeoutMillis(FORCE_CLOSE_MILLIS)
                // The session's handler sends the Close frame of a frame that breaks the protocol, so that it is
                // the only one (SessionWebSocketProtocolHandler.exceptionCaught).
                .closeOnProtocolViolation(false)
                .build();
    }
}
