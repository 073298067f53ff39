package dev.daemonkit.internal.admin;

import dev.daemonkit.internal.config.Addresses;
import dev.daemonkit.internal.config.ConfigError;
import dev.daemonkit.internal.config.DaemonSettings;
import dev.daemonkit.internal.config.LauncherSettings;
import dev.daemonkit.internal.lifecycle.Launcher;
import dev.daemonkit.internal.transport.DaemonConnections;
import dev.daemonkit.internal.transport.StallWatchdog;
import dev.daemonkit.internal.transport.TlsContext;
import dev.daemonkit.timers.TimerScope;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import java.net.InetSocketAddress;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin HTTP endpoint ({@code daemonkit.admin.listen}, 127.0.0.1:7070 by default) on the
 * framework's own event loops. If it cannot bind, the launcher runs on without it (logged).
 *
 * <p>Its connections are held like a daemon's ({@link DaemonConnections} under the name
 * {@code admin}): a small share of the connection budget ({@code daemonkit.admin.max-connections}),
 * an idle timeout, a deadline for each request from its first byte, and the inbound limits, so a
 * flood of connections to the admin port can neither take the process's descriptors nor stall it.
 * When the cap is full, a new connection takes the place of the one that has waited longest without
 * finishing an exchange (idle, or trickling a request that never completes), so probes (a fresh
 * connection and a prompt request each time) still get through a flood of either. Requests a web
 * page could have sent (a foreign {@code Origin}, or without a token a {@code Host} that is not an
 * address, localhost or an allowed name) are refused by {@link BrowserGuard}.
 *
 * <p>With {@code daemonkit.admin.tls} it speaks https only, through the same {@link TlsContext} as a
 * daemon's TLS listener (registered with the launcher's TLS watch under the name {@code admin}, key
 * {@code listen}): its files are watched and re-read at a reload, its expiry is warned about and is the
 * metric {@code daemonkit_tls_certificate_expiry_seconds{daemon="admin",listener="listen"}}. A file that
 * cannot be used keeps the endpoint from starting, like a port that cannot be bound: the daemons run.
 */
public final class AdminServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);

    /** The admin endpoint's name in logs and metrics, like a daemon's. */
    public static final String NAME = "admin";

    /** The TLS listener key the admin endpoint's context is registered under, beside {@link #NAME}. */
    public static final String TLS_KEY = "listen";

    private final Channel channel;
    private final DaemonConnections connections;
    private final TlsContext tls;
    private final Launcher launcher;

    private AdminServer(Channel channel, DaemonConnections connections, TlsContext tls, Launcher launcher) {
        this.channel = channel;
        this.connections = connections;
        this.tls = tls;
        this.launcher = launcher;
    }

    /** Starts the endpoint, or returns null (logged) when it cannot bind or its TLS files cannot be used. */
    public static AdminServer start(
            Launcher launcher,
            DaemonkitMetrics metrics,
            StallWatchdog watchdog,
            LauncherSettings.Admin admin,
            Runnable shutdown) {
        TlsContext tls = null;
        if (admin.https()) {
            try {
                tls = TlsContext.load(NAME, TLS_KEY, admin.tls());
            } catch (ConfigError e) {
                String why = e.getMessage();
                log.error(
                        "admin endpoint not started: {}{} The daemons run without it (and control commands cannot"
                                + " reach the launcher); fix the file, then restart the launcher.",
                        why,
                        why.endsWith(".") ? "" : ".");
                return null;
            }
        }
        TlsContext https = tls;
        Probes probes = new Probes(launcher, watchdog);
        DaemonSettings settings = new DaemonSettings(
                NAME,
                NAME,
                true,
                admin.maxConnections(),
                admin.idleTimeout(),
                admin.requestTimeout(),
                new DaemonSettings.Inbound(128 * 1024, 4L * 1024 * 1024),
                32 * 1024,
                256 * 1024,
                16L * 1024 * 1024, // what stalled admin clients may leave unread (their replies are pages)
                new DaemonSettings.RestartPolicy(false, 0, Duration.ZERO, Duration.ZERO, Duration.ZERO),
                0,
                Duration.ofSeconds(1));
        BrowserGuard guard = new BrowserGuard(https != null, !admin.token().isBlank(), admin.allowedHosts());
        TimerScope timers = launcher.wheels().newScope(NAME);
        DaemonConnections connections = new DaemonConnections(settings, timers, launcher.connectionBudget());
        connections.evictWhenFull();
        connections.configPath("daemonkit.admin", false); // its log lines name daemonkit.admin.*, not daemons.admin.*
        ChannelFuture f = new ServerBootstrap()
                .group(launcher.transport().acceptors(), launcher.transport().workers())
                .channel(launcher.transport().serverChannel())
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        connections.accept(ch, p -> {
                            if (https != null) {
                                p.addLast(new PlainHttpOnHttpsPort(
                                        Addresses.format((InetSocketAddress) ch.localAddress())));
                                https.install(p); // before the codec, which then sees plaintext
                            }
                            p.addLast(
                                    new HttpServerCodec(),
                                    new HttpObjectAggregator(64 * 1024),
                                    new AdminHandler(launcher, metrics, probes, admin.token(), guard, shutdown));
                        });
                    }
                })
                .bind(admin.listen())
                .awaitUninterruptibly();
        if (!f.isSuccess()) {
            timers.close();
            log.error(
                    "admin endpoint not started: {} (daemonkit.admin.listen) cannot be bound: {}. The daemons run"
                            + " without it; free the port or set daemonkit.admin.listen, then restart the launcher.",
                    Addresses.format(admin.listen()),
                    f.cause().getMessage());
            return null;
        }
        log.info(
                "admin endpoint on {}://{}/ (health, daemons, metrics){}{}",
                https == null ? "http" : "https",
                Addresses.format((InetSocketAddress) f.channel().localAddress()),
                admin.token().isBlank() ? "" : ", token required",
                https == null
                        ? ""
                        : ", " + https + ", certificate "
                                + https.certificate().getSubjectX500Principal().getName()
                                + " expires " + https.notAfter() + ", client certificates "
                                + admin.tls().clientAuth().name().toLowerCase(java.util.Locale.ROOT));
        launcher.connectionBudget().register(f.channel());
        if (https != null && launcher.tls() != null) {
            launcher.tls().register(https); // watched, reloaded with the config, and a metric
        }
        return new AdminServer(f.channel(), connections, https, launcher);
    }

    /** The admin endpoint's connections (for metrics). */
    public DaemonConnections connections() {
        return connections;
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    /**
     * Stops accepting. Called after the daemons have drained: until then probes keep getting answers
     * (live 200, ready 503) and {@code bin/daemonkit stop} keeps polling {@code /health} until the
     * launcher is gone.
     */
    @Override
    public void close() {
        channel.close().awaitUninterruptibly();
        if (tls != null && launcher.tls() != null) {
            launcher.tls().unregister(tls);
        }
    }
}
