package dev.daemonkit.internal.transport;

import dev.daemonkit.api.PipelineInitializer;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.util.concurrent.EventExecutor;
import java.net.InetSocketAddress;
import java.util.concurrent.RejectedExecutionException;

/**
 * A TCP server socket owned by the launcher, not by a daemon. The daemon attaches its protocol; the
 * accept path reads the attachment at accept time, so swapping a daemon's version is one reference
 * write and the port is never closed or re-bound for it. Connections accepted while nothing is
 * attached are closed at once.
 */
public final class BoundListener {
    private final InetSocketAddress requested;
    private final ServerChannel inherited; // null: bound by this process
    private volatile Attachment attached;
    private volatile Channel server;
    private volatile EventLoopGroup workers;

    record Attachment(ConnectionOwner owner, PipelineInitializer protocol) {}

    public BoundListener(InetSocketAddress requested) {
        this(requested, null);
    }

    /** A listener on {@code inherited}, a listening socket systemd passed (not yet registered). */
    BoundListener(InetSocketAddress requested, ServerChannel inherited) {
        this.requested = requested;
        this.inherited = inherited;
    }

    public void attach(ConnectionOwner owner, PipelineInitializer protocol) {
        attached = new Attachment(owner, protocol);
    }

    public void detach() {
        attached = null;
    }

    /**
     * Binds the socket; the returned future fails with the bind error (e.g. address in use). An
     * inherited socket is registered instead (it is bound and listening already), or, when a daemon
     * adopts it again after {@link #close}, it resumes accepting.
     */
    public ChannelFuture bind(Transport transport) {
        if (inherited != null && inherited.isRegistered()) {
            inherited.config().setAutoRead(true);
            return inherited.newSucceededFuture();
        }
        ChannelInitializer<Channel> child = new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                Attachment a = attached;
                if (a == null) {
                    ch.close();
                } else {
                    a.owner().accept(ch, a.protocol());
                }
            }
        };
        workers = transport.workers();
        ServerBootstrap b = new ServerBootstrap()
                .group(transport.acceptors(), transport.workers())
                .handler(new OwnLoops(child, transport))
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(child);
        if (inherited != null) {
            // Bound and listening already (systemd chose its backlog and options): only registered.
            server = inherited;
            return b.channelFactory((ChannelFactory<ServerChannel>) () -> inherited)
                    .register();
        }
        b.channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true);
        ChannelFuture f = b.bind(requested);
        server = f.channel();
        return f;
    }

    /**
     * First handler of the server socket's pipeline, before Netty's acceptor: a connection for a
     * daemon with event loops of its own is registered there; any other goes on to the acceptor and
     * the shared loops. Read at each accept, like the attachment, so a new version may bring its own.
     */
    private final class OwnLoops extends ChannelInboundHandlerAdapter {
        private final ChannelInitializer<Channel> child;
        private final Transport transport;

        OwnLoops(ChannelInitializer<Channel> child, Transport transport) {
            this.child = child;
            this.transport = transport;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Channel ch) {
                transport.prepareChild(ch); // before either registration below: the ring is looked up there
            }
            Attachment a = attached;
            EventLoopGroup own = a == null ? null : a.owner().eventLoops();
            if (own == null || !(msg instanceof Channel ch)) {
                ctx.fireChannelRead(msg);
                return;
            }
            ch.pipeline().addLast(child);
            ch.config().setOption(ChannelOption.TCP_NODELAY, true);
            try {
                own.register(ch).addListener((ChannelFutureListener) f -> {
                    if (!f.isSuccess()) {
                        ch.unsafe().closeForcibly(); // the daemon's loops are shutting down
                    }
                });
            } catch (RuntimeException e) {
                ch.unsafe().closeForcibly();
            }
        }
    }

    /** The socket systemd passed, when this listener adopted one. */
    ServerChannel inherited() {
        return inherited;
    }

    public InetSocketAddress requested() {
        return requested;
    }

    /** The bound address, or null. */
    public InetSocketAddress bound() {
        Channel s = server;
        return s != null && s.isActive() ? (InetSocketAddress) s.localAddress() : null;
    }

    /**
     * Stops accepting: closes the server socket (open connections are not affected). An inherited
     * socket is systemd's: it is paused instead (new connections wait in its backlog for the next
     * daemon that adopts it) and closes with the event loops.
     */
    public void close() {
        if (inherited != null) {
            if (inherited.isRegistered() && !inherited.eventLoop().inEventLoop()) {
                // Paused on its loop before detaching: no accept in between closes a connection.
                inherited
                        .eventLoop()
                        .submit(() -> inherited.config().setAutoRead(false))
                        .awaitUninterruptibly();
            } else {
                inherited.config().setAutoRead(false);
            }
            letAcceptedConnectionsArrive();
            detach();
            return;
        }
        Channel s = server;
        if (s != null) {
            s.close().awaitUninterruptibly();
        }
        letAcceptedConnectionsArrive();
        detach();
    }

    /**
     * Waits one turn of every loop a connection may be registered on. A connection is accepted on the
     * server socket's loop but reaches its daemon on its own loop, a task later; one accepted just
     * before the pause (or close) would otherwise find nothing attached and be closed with its first
     * request unread, which its client sees as a reset (under socket activation it would have waited
     * for the next launcher instead). After this, every accepted connection is the daemon's, so the
     * drain that follows lets it finish. Bounded: a loop blocked by a plugin delays it at most 1 s.
     */
    private void letAcceptedConnectionsArrive() {
        Attachment a = attached;
        for (EventLoopGroup group :
                new EventLoopGroup[] {workers, a == null ? null : a.owner().eventLoops()}) {
            if (group == null) {
                continue;
            }
            for (EventExecutor loop : group) {
                if (loop.inEventLoop() || loop.isShuttingDown()) {
                    continue;
                }
                try {
                    loop.submit(() -> {}).awaitUninterruptibly(1_000);
                } catch (RejectedExecutionException e) {
                    // shutting down meanwhile: nothing will be registered there
                }
            }
        }
    }
}
