package dev.daemonkit.internal.admin;

import dev.daemonkit.internal.config.Addresses;
import dev.daemonkit.internal.config.LauncherSettings;
import dev.daemonkit.internal.lifecycle.Launcher;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import java.net.InetSocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin HTTP endpoint ({@code daemonkit.admin.listen}, 127.0.0.1:7070 by default) on the
 * framework's own event loops. If it cannot bind, the launcher runs on without it (logged).
 */
public final class AdminServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);

    private final Channel channel;

    private AdminServer(Channel channel) {
        this.channel = channel;
    }

    /** Starts the endpoint, or returns null (logged) when it cannot bind. */
    public static AdminServer start(Launcher launcher, DaemonkitMetrics metrics, LauncherSettings.Admin admin,
                                    Runnable shutdown) {
        ChannelFuture f = new ServerBootstrap()
                .group(launcher.transport().acceptors(), launcher.transport().workers())
                .channel(launcher.transport().serverChannel())
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(64 * 1024),
                                new AdminHandler(launcher, metrics, admin.token(), shutdown));
                    }
                })
                .bind(admin.listen()).awaitUninterruptibly();
        if (!f.isSuccess()) {
            log.error("admin endpoint not started: {} (daemonkit.admin.listen) cannot be bound: {}. The daemons run"
                            + " without it; free the port or set daemonkit.admin.listen, then restart the launcher.",
                    Addresses.format(admin.listen()), f.cause().getMessage());
            return null;
        }
        log.info("admin endpoint on http://{}/ (health, daemons, metrics){}",
                Addresses.format((InetSocketAddress) f.channel().localAddress()),
                admin.token().isBlank() ? "" : ", token required");
        return new AdminServer(f.channel());
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly();
    }
}
