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
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class EchoLinesTest {
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
        return new EmbeddedChannel(new EchoLines(new Echo(max, key, echoed, requests, null)));
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
    void aLineOfExactlyTheLimitComesBackAndOneByteMoreIsRefused() {
        EmbeddedChannel ok = channel(16);
        ok.writeInbound(bytes("x".repeat(16) + "\r\n"));
        assertThat(drain(ok)).isEqualTo("x".repeat(16) + "\r\n"); // the delimiter does not count
        assertThat(ok.isOpen()).isTrue();
        ok.finish();

        EmbeddedChannel over = channel(16);
        over.writeInbound(bytes("x".repeat(17) + "\n"));
        assertThat(drain(over)).startsWith("ERROR line too long");
        assertThat(over.isOpen()).isFalse();
        over.finish();
    }

    @Test
    void aCarriageReturnInsideALineIsPartOfIt() {
        EmbeddedChannel ch = channel(64);
        ch.writeInbound(bytes("a\rb\n\r\n\n"));
        assertThat(drain(ch)).isEqualTo("a\rb\n\r\n\n");
        assertThat(echoed.sum()).isEqualTo(3);
        ch.finish();
    }

    @Test
    void attackerSendingMoreThanTheLimitWithoutANewlineIsRefusedAtOnceNotBuffered() {
        EmbeddedChannel ch = channel(16);
        ch.writeInbound(bytes("x".repeat(10)));
        assertThat(drain(ch)).isEmpty(); // a line under way
        ch.writeInbound(bytes("x".repeat(10))); // 20 bytes and no end: past the limit, refused without waiting
        assertThat(drain(ch)).startsWith("ERROR line too long");
        assertThat(ch.isOpen()).isFalse();
        assertThat(echoed.sum()).isZero();
        ch.finish();
    }

    @Test
    void attackerTricklingALineAByteAtATimeHasItSearchedOnceNotOncePerByte() {
        // The bytes the handler searches for a newline, counted by a buffer that records its reads.
        int max = 4096;
        EmbeddedChannel ch = channel(max);
        long[] visited = {0};
        io.netty.buffer.ByteBuf cumulation =
                new io.netty.buffer.UnpooledHeapByteBuf(io.netty.buffer.ByteBufAllocator.DEFAULT, 2 * max, 2 * max) {
                    @Override
                    public int indexOf(int fromIndex, int toIndex, byte value) {
                        visited[0] += toIndex - fromIndex;
                        return super.indexOf(fromIndex, toIndex, value);
                    }
                };
        ch.pipeline().get(EchoLines.class).setCumulator((alloc, held, in) -> {
            // One growing buffer of our own, so that every search goes through the counting one.
            if (held != cumulation) { // the first read's buffer, which the decoder kept as it was
                cumulation.writeBytes(held);
                held.release();
            }
            cumulation.writeBytes(in);
            in.release();
            return cumulation;
        });
        for (int i = 0; i < max; i++) {
            ch.writeInbound(bytes("x"));
        }
        ch.writeInbound(bytes("\n"));
        assertThat(drain(ch)).hasSize(max + 1);
        // Searched from where the last search stopped: each byte about once (4,097), where searching from
        // the start at every byte would visit ~8.4 million.
        assertThat(visited[0]).isPositive().isLessThan(3L * max);
        ch.finish();
    }

    @Test
    void linesLeftInTheBufferWhenTheClientVanishesAreDroppedNotWrittenToAClosedChannel() {
        EmbeddedChannel ch = channel(64);
        ch.writeInbound(bytes("unfinished"));
        assertThat(ch.finish()).isFalse(); // closes the channel: decodeLast sees the bytes and drops them
        assertThat(drain(ch)).isEmpty();
    }

    @Test
    void withLogLinesEveryLineIsLoggedAtInfo() {
        var logger = (Logger) LoggerFactory.getLogger("echo-test-lines");
        var logged = new ListAppender<ILoggingEvent>();
        logged.start();
        logger.addAppender(logged);
        EmbeddedChannel ch = new EmbeddedChannel(
                new EchoLines(new Echo(64, "daemons.echo.max-line-bytes", echoed, requests, logger)));
        ch.writeInbound(bytes("one\ntwo!\n"));
        assertThat(drain(ch)).isEqualTo("one\ntwo!\n");
        assertThat(logged.list)
                .extracting(e -> e.getFormattedMessage())
                .containsExactly("echo 4 bytes", "echo 5 bytes");
        ch.finish();
    }
}
