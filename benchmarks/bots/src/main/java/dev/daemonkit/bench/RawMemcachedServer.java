package dev.daemonkit.bench;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The ceiling for benchmarks/cache-vs-memcached.sh: the smallest Netty server of the memcached subset
 * the bots use (get of one key, set), on one event loop, with no framework: no front handler, no
 * stats, no LRU, no expiry. Replies of one read go out in one flush, as the cache daemon's do. Not a
 * cache anyone should run.
 */
public final class RawMemcachedServer {
    private RawMemcachedServer() {}

    public static void main(String[] args) throws InterruptedException {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 11411;
        // raw-server PORT [epoll|io_uring]: epoll (NIO where it does not load) unless io_uring is asked for.
        boolean uring = args.length > 1 && args[1].equals("io_uring");
        if (uring) {
            IoUring.ensureAvailability();
        }
        boolean epoll = !uring && Epoll.isAvailable();
        String kind = uring ? "io_uring" : epoll ? "epoll" : "nio";
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(
                1,
                uring
                        ? IoUringIoHandler.newFactory()
                        : epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        Map<String, byte[]> store = new HashMap<>(); // one event loop: no lock needed
        Channel server = new ServerBootstrap()
                .group(group)
                .channel(
                        uring
                                ? IoUringServerSocketChannel.class
                                : epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new Handler(store));
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", port))
                .sync()
                .channel();
        System.out.println("raw memcached-subset server on " + server.localAddress() + " (" + kind + ")");
        server.closeFuture().sync();
    }

    private static final byte[] END = "END\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] STORED = "STORED\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] ERROR = "ERROR\r\n".getBytes(StandardCharsets.US_ASCII);

    private static final class Handler extends ByteToMessageDecoder {
        private final Map<String, byte[]> store;
        private ByteBuf out;

        Handler(Map<String, byte[]> store) {
            this.store = store;
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> unused) {
            while (true) {
                int start = in.readerIndex();
                int eol = in.indexOf(start, in.writerIndex(), (byte) '\n');
                if (eol < 0) {
                    return;
                }
                if (out == null) {
                    out = ctx.alloc().buffer();
                }
                int lineEnd = eol > start && in.getByte(eol - 1) == '\r' ? eol - 1 : eol;
                if (in.getByte(start) == 'g') {
                    String key = in.toString(start + 4, lineEnd - start - 4, StandardCharsets.US_ASCII);
                    in.readerIndex(eol + 1);
                    byte[] v = store.get(key);
                    if (v != null) {
                        out.writeBytes(VALUE_PREFIX).writeCharSequence(key, StandardCharsets.US_ASCII);
                        out.writeCharSequence(" 0 " + (v.length - 2) + "\r\n", StandardCharsets.US_ASCII);
                        out.writeBytes(v);
                    }
                    out.writeBytes(END);
                } else if (in.getByte(start) == 's') {
                    int keyEnd = in.indexOf(start + 4, lineEnd, (byte) ' ');
                    int lenStart = lastSpace(in, start, lineEnd) + 1;
                    int len = Integer.parseInt(in.toString(lenStart, lineEnd - lenStart, StandardCharsets.US_ASCII));
                    if (in.writerIndex() - (eol + 1) < len + 2) {
                        return; // the value is not all here yet
                    }
                    String key = in.toString(start + 4, keyEnd - start - 4, StandardCharsets.US_ASCII);
                    byte[] v = new byte[len + 2];
                    in.getBytes(eol + 1, v);
                    in.readerIndex(eol + 1 + len + 2);
                    store.put(key, v);
                    out.writeBytes(STORED);
                } else {
                    in.readerIndex(eol + 1);
                    out.writeBytes(ERROR);
                }
            }
        }

        private static int lastSpace(ByteBuf in, int from, int to) {
            for (int i = to - 1; i > from; i--) {
                if (in.getByte(i) == ' ') {
                    return i;
                }
            }
            return from;
        }

        private static final byte[] VALUE_PREFIX = "VALUE ".getBytes(StandardCharsets.US_ASCII);

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
            if (out != null) {
                ctx.writeAndFlush(out);
                out = null;
            }
            super.channelReadComplete(ctx);
        }

        @Override
        protected void handlerRemoved0(ChannelHandlerContext ctx) {
            if (out != null) {
                out.release();
                out = null;
            }
        }
    }
}
