package dev.daemonkit.internal.transport;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandler;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpServerCodec;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the {@link ByteToMessageDecoder}s of a connection's pipeline (also inside a codec such as
 * {@link HttpServerCodec}) and reads how many bytes each holds for an incomplete frame. Netty keeps
 * both behind protected members ({@code internalBuffer()}, the codec's {@code inboundHandler()}); the
 * framework and Netty share the class path, so method handles reach them at the cost of a plain call.
 * Where they cannot be reached, connections are served without inbound accounting (logged once).
 */
final class InboundDecoders {
    private static final Logger log = LoggerFactory.getLogger(InboundDecoders.class);
    private static final MethodHandle INTERNAL_BUFFER;
    private static final MethodHandle INBOUND_HANDLER;
    private static final VarHandle CUMULATOR;

    static {
        MethodHandle buffer = null;
        MethodHandle inbound = null;
        VarHandle cumulator = null;
        try {
            MethodHandles.Lookup decoders =
                    MethodHandles.privateLookupIn(ByteToMessageDecoder.class, MethodHandles.lookup());
            buffer = decoders.findVirtual(
                    ByteToMessageDecoder.class, "internalBuffer", MethodType.methodType(ByteBuf.class));
            cumulator = decoders.findVarHandle(
                    ByteToMessageDecoder.class, "cumulator", ByteToMessageDecoder.Cumulator.class);
            MethodHandles.Lookup combined =
                    MethodHandles.privateLookupIn(CombinedChannelDuplexHandler.class, MethodHandles.lookup());
            inbound = combined.findVirtual(
                    CombinedChannelDuplexHandler.class,
                    "inboundHandler",
                    MethodType.methodType(ChannelInboundHandler.class));
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.warn(
                    "inbound limits (daemons.NAME.inbound) and request deadlines on partial frames are off: Netty's"
                            + " decoders cannot be inspected here ({})",
                    e.toString());
            buffer = null;
        }
        INTERNAL_BUFFER = buffer;
        INBOUND_HANDLER = inbound;
        CUMULATOR = cumulator;
    }

    private InboundDecoders() {}

    static boolean available() {
        return INTERNAL_BUFFER != null;
    }

    /**
     * The decoders found in a pipeline, and the HTTP request decoder's context if there is one. Held
     * by every connection, so the usual case (one decoder, no HTTP) is one 24-byte object, not a
     * record and two arrays (72 bytes).
     */
    sealed interface Found {
        Found NONE = new Many(new ByteToMessageDecoder[0], new ChannelHandlerContext[0], null);

        int count();

        ByteToMessageDecoder decoder(int i);

        ChannelHandlerContext context(int i);

        ChannelHandlerContext http();
    }

    record One(ByteToMessageDecoder decoder, ChannelHandlerContext context) implements Found {
        @Override
        public int count() {
            return 1;
        }

        @Override
        public ByteToMessageDecoder decoder(int i) {
            return decoder;
        }

        @Override
        public ChannelHandlerContext context(int i) {
            return context;
        }

        @Override
        public ChannelHandlerContext http() {
            return null;
        }
    }

    record Many(ByteToMessageDecoder[] decoders, ChannelHandlerContext[] contexts, ChannelHandlerContext http)
            implements Found {
        @Override
        public int count() {
            return decoders.length;
        }

        @Override
        public ByteToMessageDecoder decoder(int i) {
            return decoders[i];
        }

        @Override
        public ChannelHandlerContext context(int i) {
            return contexts[i];
        }
    }

    static Found scan(ChannelPipeline pipeline) {
        if (!available()) {
            return Found.NONE;
        }
        List<ByteToMessageDecoder> decoders = new ArrayList<>(2);
        List<ChannelHandlerContext> contexts = new ArrayList<>(2);
        ChannelHandlerContext http = null;
        for (Map.Entry<String, ChannelHandler> e : pipeline) {
            ByteToMessageDecoder d = decoderOf(e.getValue());
            if (d == null) {
                continue;
            }
            ChannelHandlerContext ctx = pipeline.context(e.getValue());
            if (ctx == null) {
                continue;
            }
            decoders.add(d);
            contexts.add(ctx);
            if (http == null && (e.getValue() instanceof HttpServerCodec || d instanceof HttpRequestDecoder)) {
                http = ctx;
            }
        }
        if (decoders.isEmpty()) {
            return Found.NONE;
        }
        if (decoders.size() == 1 && http == null) {
            return new One(decoders.get(0), contexts.get(0));
        }
        return new Many(
                decoders.toArray(new ByteToMessageDecoder[0]), contexts.toArray(new ChannelHandlerContext[0]), http);
    }

    private static ByteToMessageDecoder decoderOf(ChannelHandler h) {
        if (h instanceof ByteToMessageDecoder d) {
            return d;
        }
        if (h instanceof CombinedChannelDuplexHandler<?, ?> c && INBOUND_HANDLER != null) {
            try {
                Object in = INBOUND_HANDLER.invoke(c);
                return in instanceof ByteToMessageDecoder d ? d : null;
            } catch (Throwable e) {
                return null;
            }
        }
        return null;
    }

    /** Bytes {@code d} holds for an incomplete frame now. */
    static int held(ByteToMessageDecoder d) {
        try {
            return ((ByteBuf) INTERNAL_BUFFER.invokeExact(d)).readableBytes();
        } catch (Throwable e) {
            return 0;
        }
    }

    /** The cumulator {@code d} uses now (Netty's merge cumulator unless the protocol set another). */
    static ByteToMessageDecoder.Cumulator cumulatorOf(ByteToMessageDecoder d) {
        Object c = CUMULATOR == null ? null : CUMULATOR.get(d);
        return c instanceof ByteToMessageDecoder.Cumulator cumulator ? cumulator : ByteToMessageDecoder.MERGE_CUMULATOR;
    }
}
