package dev.daemonkit.samples.presence;

import io.lettuce.core.resource.EventLoopGroupProvider;
import io.lettuce.core.resource.Transports;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoop;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandle;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUringIoHandle;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.util.concurrent.EventExecutorGroup;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ImmediateEventExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Lettuce's event loops are the daemon's own: whatever group class Lettuce asks for, it gets the daemon's loops, and
 * never shuts them down (the launcher owns them). Lettuce picks its socket channel class from what is installed (epoll
 * when available, unless {@code -Dio.lettuce.core.epoll=false}), and a bootstrap's channel cannot be changed after it,
 * so the daemon's loops must be of that kind: checked here, at start, with the error saying what to set.
 */
final class SharedLoops implements EventLoopGroupProvider {
    private final EventLoopGroup loops;
    private final Class<? extends Channel> socketChannel;

    SharedLoops(EventLoopGroup loops) {
        this.loops = loops;
        EventLoop one = loops.next();
        if (one instanceof IoEventLoop io && io.isCompatible(EpollIoHandle.class)) {
            socketChannel = EpollSocketChannel.class;
            // With Netty's io_uring transport on the class path too, Lettuce would warn at each connection that it
            // prefers epoll over io_uring: true, and what these loops need; said once here instead, by not asking.
            preferLettuceTransport("io.lettuce.core.iouring");
        } else if (one instanceof IoEventLoop io && io.isCompatible(IoUringIoHandle.class)) {
            socketChannel = IoUringSocketChannel.class;
            preferLettuceTransport("io.lettuce.core.epoll"); // Lettuce's own order is epoll first
        } else if (one instanceof IoEventLoop io && io.isCompatible(NioIoHandle.class)) {
            socketChannel = NioSocketChannel.class;
            preferLettuceTransport(null);
        } else {
            throw new IllegalStateException("broker = redis runs Lettuce on the daemon's event loops, which must be"
                    + " epoll, io_uring or NIO loops; these are "
                    + one.getClass().getName()
                    + ". Set daemonkit.transport.native to epoll, io_uring or nio, or use broker = memory");
        }
        Class<? extends Channel> lettuces = Transports.socketChannelClass();
        if (lettuces != socketChannel) {
            throw new IllegalStateException("broker = redis runs Lettuce on the daemon's event loops, which are "
                    + socketChannel.getSimpleName().replace("SocketChannel", "") + " loops, but Lettuce would open "
                    + lettuces.getSimpleName() + "s. With the launcher on NIO, add -Dio.lettuce.core.epoll=false to"
                    + " DAEMONKIT_OPTS; or run the launcher on epoll (daemonkit.transport)");
        }
    }

    /** The Lettuce property this plugin set last in this JVM, so that a later start (another launcher) can undo it. */
    private static final String SET_HERE = "daemonkit.presence.lettuce-property-set";

    /**
     * Turns the other native transport off for Lettuce ({@code -Dio.lettuce.core.epoll} or {@code .iouring} = false;
     * null: neither) unless the operator set it. Lettuce reads them once per class loader, when its transport classes
     * load, which is after this; a property set for an earlier start in this JVM is undone first (two launchers in
     * one JVM on different transports, as in tests).
     */
    private static void preferLettuceTransport(String otherOff) {
        synchronized (System.getProperties()) { // one lock for every plugin loader's copy of this class
            String earlier = System.getProperty(SET_HERE);
            if (earlier != null) {
                System.clearProperty(earlier);
                System.clearProperty(SET_HERE);
            }
            if (otherOff != null && System.getProperty(otherOff) == null) {
                System.setProperty(otherOff, "false");
                System.setProperty(SET_HERE, otherOff);
            }
        }
    }

    Class<? extends Channel> socketChannel() {
        return socketChannel;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T extends EventLoopGroup> T allocate(Class<T> type) {
        return (T) loops; // Lettuce only stores it as an EventLoopGroup and hands it to its bootstrap
    }

    @Override
    public int threadPoolSize() {
        return 0;
    }

    @Override
    public Future<Boolean> release(EventExecutorGroup group, long quietPeriod, long timeout, TimeUnit unit) {
        return ImmediateEventExecutor.INSTANCE.newSucceededFuture(true);
    }

    @Override
    public Future<Boolean> shutdown(long quietPeriod, long timeout, TimeUnit timeUnit) {
        return ImmediateEventExecutor.INSTANCE.newSucceededFuture(true);
    }
}
