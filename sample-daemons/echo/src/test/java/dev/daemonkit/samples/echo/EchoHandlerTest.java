package dev.daemonkit.samples.echo;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.typesafe.config.ConfigFactory;
import dev.daemonkit.api.RequestCounter;
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
    private final CountingRequests requests = new CountingRequests();

    /** The daemon's request counter, as the framework gives it. */
    private static final class CountingRequests implements RequestCounter {
        private final LongAdder count = new LongAdder();

        @Override
        public void increment() {
            count.increment();
        }

        @Override
        public void add(long n) {
            count.add(n);
        }

        @Override
        public long count() {
            return count.sum();
        }
    }

    private EmbeddedChannel channel(int max) {
        return channel(max, "daemons.echo.max-line-bytes");
    }

    private EmbeddedChannel channel(int max, String key) {
        return new EmbeddedChannel(
                new LineBasedFrameDecoder(max, false, true), new EchoHandler(max, key, echoed, requests));
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
        assertThat(requests.count()).isEqualTo(3);
        ch.finish();
    }

    @Test
    void aLineOverTheLimitGetsAnErrorLineAndTheConnectionCloses() {
        EmbeddedChannel ch = channel(16);
        ch.writeInbound(bytes("short\n"));
        ch.writeInbound(bytes("x".repeat(40) + "\n"));
        assertThat(drain(ch))
                .isEqualTo("short\nERROR line too long: the limit is 16 bytes (daemons.echo.max-line-bytes)\r\n");
        assertThat(ch.isOpen()).isFalse();
        ch.finish();
    }

    @Test
    void theErrorLineNamesTheKeyOfItsOwnInstance() {
        EmbeddedChannel ch = channel(
                16,
                EchoSettings.from(
                                "echo-b",
                                ConfigFactory.parseString(
                                        "max-line-bytes = 16, stats-interval = 1 minute, log-lines = false"))
                        .maxLineBytesKey());
        ch.writeInbound(bytes("x".repeat(40) + "\n"));
        assertThat(drain(ch))
                .isEqualTo("ERROR line too long: the limit is 16 bytes (daemons.echo-b.max-line-bytes)\r\n");
        ch.finish();
    }

    @Test
    void withLogLinesEveryLineIsLoggedAtInfo() {
        var logger = (Logger) LoggerFactory.getLogger("echo-test-lines");
        var logged = new ListAppender<ILoggingEvent>();
        logged.start();
        logger.addAppender(logged);
        EmbeddedChannel ch = new EmbeddedChannel(
                new LineBasedFrameDecoder(64, false, true),
                new LineLog(logger),
                new EchoHandler(64, "daemons.echo.max-line-bytes", echoed, requests));
        ch.writeInbound(bytes("one\ntwo!\n"));
        assertThat(drain(ch)).isEqualTo("one\ntwo!\n");
        assertThat(logged.list)
                .extracting(e -> e.getFormattedMessage())
                .containsExactly("echo 4 bytes", "echo 5 bytes");
        ch.finish();
    }
}
