package dev.daemonkit.samples.echo;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.LineBasedFrameDecoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class EchoHandlerTest {
    private final LongAdder echoed = new LongAdder();
    private final LongAdder requests = new LongAdder();

    private EmbeddedChannel channel(int max) {
        return new EmbeddedChannel(new LineBasedFrameDecoder(max, false, true), new EchoHandler(max, echoed, requests, null));
    }

    private static ByteBuf bytes(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
    }

    /** Everything written so far, as text; releases the buffers. */
    private static String drain(EmbeddedChannel ch) {
        StringBuilder sb = new StringBuilder();
        for (ByteBuf b; (b = ch.readOutbound()) != null; ) {
            sb.append(b.toString(StandardCharsets.UTF_8));
            b.release();
        }
        return sb.toString();
    }

    @Test
    void aLineSplitAcrossManySegmentsComesBackWhole() {
        EmbeddedChannel ch = channel(64);
        for (char c : "hello world\n".toCharArray()) {
            ch.writeInbound(bytes(String.valueOf(c)));
        }
        assertThat(drain(ch)).isEqualTo("hello world\n");
        assertThat(ch.finish()).isFalse();
    }

    @Test
    void manyLinesInOneSegmentAllComeBackInOrder() {
        EmbeddedChannel ch = channel(64);
        ch.writeInbound(bytes("one\ntwo\r\nthree\n"));
        assertThat(drain(ch)).isEqualTo("one\ntwo\r\nthree\n");
        assertThat(echoed.sum()).isEqualTo(3);
        assertThat(requests.sum()).isEqualTo(3);
        ch.finish();
    }

    @Test
    void aLineOverTheLimitGetsAnErrorLineAndTheConnectionCloses() {
        EmbeddedChannel ch = channel(16);
        ch.writeInbound(bytes("short\n"));
        ch.writeInbound(bytes("x".repeat(40) + "\n"));
        assertThat(drain(ch)).isEqualTo("short\nERROR line too long: the limit is 16 bytes (daemons.echo.max-line-bytes)\r\n");
        assertThat(ch.isOpen()).isFalse();
        ch.finish();
    }

    @Test
    void withLogLinesEveryLineIsLoggedAtInfo() {
        var logger = (Logger) LoggerFactory.getLogger("echo-test-lines");
        var logged = new ListAppender<ILoggingEvent>();
        logged.start();
        logger.addAppender(logged);
        EmbeddedChannel ch = new EmbeddedChannel(new LineBasedFrameDecoder(64, false, true),
                new EchoHandler(64, echoed, requests, logger));
        ch.writeInbound(bytes("one\ntwo!\n"));
        assertThat(drain(ch)).isEqualTo("one\ntwo!\n");
        assertThat(logged.list).extracting(e -> e.getFormattedMessage()).containsExactly("echo 4 bytes", "echo 5 bytes");
        ch.finish();
    }
}
