package dev.daemonkit.internal.transport;

import com.typesafe.config.Config;
import dev.daemonkit.api.Listener;
import dev.daemonkit.api.PipelineInitializer;
import dev.daemonkit.internal.config.Addresses;
import dev.daemonkit.internal.config.ConfigError;
import dev.daemonkit.internal.config.Origins;
import dev.daemonkit.internal.config.TlsSettings;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The sockets of one daemon instance: the TCP listeners and UDP sockets it declared in
 * {@code configure}, their binding, and their hand-over between two instances of one daemon (a hot
 * swap, a restart by reload).
 *
 * <p>TCP sockets belong to the launcher's {@link ListenerRegistry}: binding attaches this instance's
 * connections to the socket at the address, taking over the one an older instance of the daemon
 * holds. UDP sockets belong to their instance (there is no connection to keep on an old version), so
 * a hand-over closes the older instance's and binds anew.
 *
 * <p>Declared on the thread that runs {@code configure}; bound, closed and handed over on the launcher's
 * threads, one at a time.
 */
public final class DaemonSockets {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(DaemonSockets.class);

    private final String daemon;
    private final Config block;
    private final ListenerRegistry registry;
    private final Transport transport;
    private final DaemonConnections connections;
    private final EventLoopGroup loops;
    private final LogScope logScope;
    private final TlsWatch tlsWatch;
    private final List<Declared> declared = new CopyOnWriteArrayList<>();

    /**
     * @param block the daemon's config block, where the addresses are read
     * @param loops the event loops of the daemon's UDP sockets
     */
    public DaemonSockets(
            String daemon,
            Config block,
            ListenerRegistry registry,
            Transport transport,
            DaemonConnections connections,
            EventLoopGroup loops,
            LogScope logScope,
            TlsWatch tlsWatch) {
        this.daemon = daemon;
        this.tlsWatch = tlsWatch;
        this.block = block;
        this.registry = registry;
        this.transport = transport;
        this.connections = connections;
        this.loops = loops;
        this.logScope = logScope;
    }

    /**
     * How {@link #bind} treats the sockets of an older instance of the same daemon. Chosen by the
     * caller at bind, for that bind only: once bound, this instance owns its sockets, and closing them
     * closes every one still attached to it.
     */
    public sealed interface HandOver {
        /** Nothing to take over: bind, and on failure close what was bound. */
        HandOver NONE = new None();

        /**
         * Take over from {@code previous} (still serving): its UDP sockets are closed first, its TCP
         * sockets taken over in one reference write each. On failure this instance only lets go of the
         * sockets it took over (they stay bound; {@code previous} may {@link #reattach} to them) and
         * closes the ones it bound itself.
         */
        static HandOver from(DaemonSockets previous) {
            return new From(Objects.requireNonNull(previous, "previous"));
        }
    }

    private record None() implements HandOver {}

    private record From(DaemonSockets previous) implements HandOver {}

    /** A declared socket could not be bound; the message says which, where it is configured, and what to do. */
    public static final class BindError extends Exception {
        public BindError(String message, Throwable cause) {
            super(message, cause, false, false);
        }
    }

    /** A socket the daemon declared. */
    private final class Declared implements Listener {
        final String key;
        final InetSocketAddress address;
        /** What the accept path runs: the TLS handler (if any), then the protocol's handlers. */
        final PipelineInitializer protocol;

        final boolean udp;
        /** The listener's TLS, or null (plaintext). */
        final TlsContext tls;

        volatile BoundListener tcp;
        /** For TCP: the socket was another instance's (or reserved) when this one attached. */
        volatile boolean takenOver;

        volatile Channel datagram;

        Declared(String key, InetSocketAddress address, PipelineInitializer protocol, boolean udp, TlsContext tls) {
            this.key = key;
            this.address = address;
            this.udp = udp;
            this.tls = tls;
            this.protocol = tls == null
                    ? protocol
                    : pipeline -> {
                        tls.install(pipeline);
                        protocol.initialize(pipeline);
                    };
        }

        @Override
        public String key() {
            return key;
        }

        @Override
        public InetSocketAddress address() {
            return address;
        }

        @Override
        public InetSocketAddress boundAddress() {
            if (udp) {
                Channel d = datagram;
                return d != null && d.isActive() ? (InetSocketAddress) d.localAddress() : null;
            }
            BoundListener t = tcp;
            return t == null ? null : t.bound();
        }

        @Override
        public String transport() {
            return udp ? "udp" : "tcp";
        }

        /** {@code tcp}, {@code tls} or {@code udp}, for status lines. */
        String kind() {
            return udp ? "udp" : tls == null ? "tcp" : "tls";
        }

        String where() {
            return "daemons." + daemon + "." + key + ", " + Origins.of(block.getValue(key));
        }

        @Override
        public String toString() {
            InetSocketAddress bound = boundAddress();
            return kind() + " " + Addresses.format(bound != null ? bound : address);
        }
    }

    /**
     * Declares a socket at the address in {@code key} of the daemon's block; a bad or missing address
     * is a {@link dev.daemonkit.internal.config.ConfigError} naming key and file.
     */
    public Listener declare(String key, PipelineInitializer protocol, boolean udp) {
        Objects.requireNonNull(protocol, "protocol");
        InetSocketAddress address = Addresses.read(block, key, "daemons." + daemon + "." + key);
        TlsContext tls = null;
        if (TlsSettings.present(block, key)) {
            TlsSettings settings = TlsSettings.read(block, key, "daemons." + daemon);
            if (udp) {
                throw new ConfigError(settings.where() + " (" + Origins.of(block.getValue("tls")) + ") names a UDP"
                        + " socket (daemons." + daemon + "." + key + "); TLS is for TCP listeners (DTLS is not"
                        + " supported). Remove the block.");
            }
            tls = TlsContext.load(daemon, key, settings); // reads the files now: a bad one stops the start or reload
        }
        Declared d = new Declared(key, address, protocol, udp, tls);
        declared.add(d);
        return d;
    }

    /**
     * After the plugin's {@code configure}: every listener key named under {@code tls} must be one the
     * daemon declared, or the operator believes a listener encrypted that is not.
     */
    public void checkTlsKeys() {
        Set<String> named = TlsSettings.named(block, "daemons." + daemon);
        Set<String> unknown = new TreeSet<>(named);
        Set<String> tcp = new TreeSet<>();
        for (Declared d : declared) {
            unknown.remove(d.key);
            if (!d.udp) {
                tcp.add(d.key);
            }
        }
        if (!unknown.isEmpty()) {
            String first = unknown.iterator().next();
            throw new ConfigError("daemons." + daemon + ".tls." + first + " (" + Origins.of(block.getValue("tls"))
                    + ") names no listener of daemon '" + daemon + "': its TCP listeners are " + tcp
                    + ". Name the key that holds the listener's address, like tls.listen.");
        }
    }

    /** The TLS contexts of this instance's listeners. */
    public List<TlsContext> tlsContexts() {
        List<TlsContext> out = new java.util.ArrayList<>();
        for (Declared d : declared) {
            if (d.tls != null) {
                out.add(d.tls);
            }
        }
        return out;
    }

    public List<Listener> listeners() {
        return List.copyOf(declared);
    }

    public boolean isEmpty() {
        return declared.isEmpty();
    }

    /** Where {@code declared} (one of {@link #listeners()}) is configured: {@code daemons.echo.listen, conf/daemonkit.conf:14}. */
    public String where(Listener declared) {
        return ((Declared) declared).where();
    }

    /**
     * Binds every declared socket, handing over as {@code mode} says. On failure, nothing of this
     * instance is left attached or bound (see {@link HandOver}) and the error says why.
     */
    public void bind(HandOver mode) throws BindError {
        boolean handOver = mode instanceof From;
        if (mode instanceof From from) {
            from.previous.closeDatagrams();
        }
        for (Declared d : declared) {
            try {
                if (d.udp) {
                    bindDatagram(d);
                } else {
                    d.takenOver = handOver && daemon.equals(registry.holder(d.address));
                    d.tcp = registry.attach(d.address, daemon, d.key, connections, d.protocol);
                }
            } catch (ListenerRegistry.AddressTaken e) {
                undo();
                throw bindError(d, e);
            } catch (ListenerRegistry.BindFailed e) {
                undo();
                throw bindError(d, e.getCause());
            } catch (BindError e) {
                undo();
                throw e;
            }
        }
        for (Declared d : declared) {
            if (d.tls != null) {
                tlsWatch.register(d.tls);
                log.info(
                        "daemon '{}': {} speaks TLS ({}, provider {}): certificate {} expires {}",
                        daemon,
                        Addresses.format(d.boundAddress()),
                        d.tls.settings().where(),
                        d.tls.provider().name().toLowerCase(java.util.Locale.ROOT),
                        d.tls.certificate().getSubjectX500Principal().getName(),
                        d.tls.notAfter());
            }
        }
    }

    private void undo() {
        for (Declared d : declared) {
            if (d.tcp != null) {
                if (d.takenOver) {
                    registry.detach(d.tcp, connections);
                } else {
                    registry.release(d.tcp, connections);
                }
            }
        }
        closeDatagrams();
    }

    private void bindDatagram(Declared d) throws BindError {
        ChannelFuture f = new Bootstrap()
                .group(loops)
                .channel(transport.datagramChannel())
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) throws Exception {
                        ch.pipeline().addLast("daemonkit-context", new DatagramContext(logScope, connections));
                        d.protocol.initialize(ch.pipeline());
                        ch.pipeline().addLast("daemonkit-barrier", ExceptionBarrier.INSTANCE);
                    }
                })
                .bind(d.address);
        d.datagram = f.channel();
        if (!f.awaitUninterruptibly().isSuccess()) {
            throw bindError(d, f.cause());
        }
    }

    /** Rethrows {@link ListenerRegistry}'s errors as one that says where the address is configured. */
    private BindError bindError(Declared d, Throwable cause) {
        String why = cause instanceof ListenerRegistry.AddressTaken
                ? " is taken: " + cause.getMessage() + ". Give this daemon another port"
                : cause instanceof BindException
                                || String.valueOf(cause.getMessage()).contains("in use")
                        ? " is in use. Stop the process holding it or choose another port"
                        : " cannot be bound: " + cause.getMessage();
        return new BindError(Addresses.format(d.address) + " (" + d.where() + ")" + why, cause);
    }

    /**
     * Attaches this (older, still running) instance to its sockets again after a newer one failed to
     * take them over: its TCP sockets are still bound; its UDP sockets are bound anew.
     */
    public void reattach() throws BindError {
        for (Declared d : declared) {
            if (d.udp) {
                try {
                    bindDatagram(d);
                } catch (BindError e) {
                    throw new BindError(
                            "could not bind " + Addresses.format(d.address) + " (udp) again after a" + " failed swap: "
                                    + e.getCause().getMessage(),
                            e.getCause());
                }
            } else if (d.tcp != null) {
                try {
                    registry.attach(d.address, daemon, d.key, connections, d.protocol);
                } catch (ListenerRegistry.AddressTaken | ListenerRegistry.BindFailed e) {
                    throw new BindError(
                            "could not take back " + Addresses.format(d.address) + " after a failed swap: "
                                    + e.getMessage(),
                            e);
                }
            }
        }
    }

    /**
     * Closes what this instance holds: its UDP sockets, and each TCP socket it is still attached to (one
     * a newer instance took over stays bound for it). Idempotent.
     */
    public void close() {
        for (Declared d : declared) {
            if (d.tcp != null) {
                registry.release(d.tcp, connections);
            }
            if (d.tls != null) {
                tlsWatch.unregister(d.tls);
            }
        }
        closeDatagrams();
    }

    private void closeDatagrams() {
        for (Declared d : declared) {
            Channel ch = d.datagram;
            if (ch != null) {
                ch.close().awaitUninterruptibly();
            }
        }
    }

    @Override
    public String toString() {
        return declared.isEmpty() ? "no listener" : declared.toString();
    }
}
