package dev.daemonkit.logging.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.AppenderBase;
import ch.qos.logback.core.LayoutBase;
import ch.qos.logback.core.OutputStreamAppender;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The queue in front of an output, with an output that stalls until the test lets it go. */
class BoundedAsyncAppenderTest {

    private static final int QUEUE = 64;

    private final LoggerContext context = new LoggerContext();
    private final Logger logger = context.getLogger("com.example.Flood");
    private final StalledOutput output = new StalledOutput();

    @Test
    void underASaturatedQueueInfoIsDroppedAndCountedWhileEveryWarnAndErrorArrivesInOrder() throws Exception {
        BoundedAsyncAppender async =
                new BoundedAsyncAppender("flood", Sink.plain("flood", output, Map.of("daemon", "flood")), null, QUEUE);
        async.setContext(context);
        output.setContext(context);
        async.start();

        int infos = 1_000;
        int warnings = 200;
        Thread producer = new Thread(
                () -> {
                    for (int i = 0; i < infos; i++) {
                        async.doAppend(event(Level.INFO, "info " + i));
                    }
                    for (int i = 0; i < warnings; i++) {
                        async.doAppend(event(i % 2 == 0 ? Level.WARN : Level.ERROR, "problem " + i));
                    }
                },
                "producer");
        producer.start();

        // The writer is stuck on the first line; the queue fills; INFO beyond 4/5 of it is dropped
        // at once, and WARN/ERROR use the reserved fifth, then wait for room.
        await().atMost(Duration.ofSeconds(10))
                .until(() -> async.dropped() > 0
                        && (producer.getState() == Thread.State.WAITING
                                || producer.getState() == Thread.State.TIMED_WAITING));
        // The writer took up to one batch off the queue before it stalled, so at most two queues'
        // worth of INFO got through.
        assertThat(async.dropped()).isGreaterThanOrEqualTo(infos - 2L * QUEUE);
        output.release.countDown();
        producer.join(10_000);
        async.stop();

        List<String> written = output.messages;
        long infosWritten = written.stream().filter(m -> m.startsWith("info ")).count();
        assertThat(infosWritten + async.dropped()).isEqualTo(infos);
        assertThat(written)
                .filteredOn(m -> m.startsWith("problem "))
                .containsExactlyElementsOf(IntStream.range(0, warnings)
                        .mapToObj(i -> "problem " + i)
                        .toList());
        // The writer reports drops into the output itself, at most once a second and once more at stop.
        List<String> reports = written.stream()
                .filter(m -> m.startsWith("logging fell behind: dropped "))
                .toList();
        assertThat(reports).isNotEmpty().allSatisfy(r -> assertThat(r).contains("queue of 64 full"));
        assertThat(reports.stream()
                        .mapToLong(r -> Long.parseLong(r.split(" ")[4]))
                        .sum())
                .isEqualTo(async.dropped());
        assertThat(output.reportDaemon).isEqualTo("flood");
    }

    @Test
    void stopWritesEverythingQueuedBeforeClosingTheOutput() {
        output.release.countDown();
        BoundedAsyncAppender async = new BoundedAsyncAppender("all", Sink.plain("all", output, Map.of()), null, 4096);
        async.setContext(context);
        output.setContext(context);
        async.start();
        for (int i = 0; i < 3000; i++) {
            async.doAppend(event(Level.DEBUG, "line " + i));
        }
        async.stop();

        assertThat(async.dropped()).isZero();
        assertThat(output.messages).hasSize(3000).last().isEqualTo("line 2999");
        assertThat(output.isStarted()).isFalse();
    }

    @Test
    void oneQueueFeedsTheSharedSinkAndEachDaemonsOwnUntilItIsRemoved() {
        output.release.countDown();
        StalledOutput echo = new StalledOutput();
        echo.release.countDown();
        echo.setContext(context);
        output.setContext(context);
        BoundedAsyncAppender async = new BoundedAsyncAppender("files", Sink.plain("all", output, Map.of()), null, 4096);
        async.setContext(context);
        async.start();
        async.addDaemonSink("echo", Sink.plain("echo", echo, Map.of("daemon", "echo")));
        for (int i = 0; i < 1000; i++) {
            async.doAppend(event(Level.INFO, "echo " + i, Map.of("daemon", "echo")));
            async.doAppend(event(Level.INFO, "other " + i, Map.of("daemon", "other")));
        }
        assertThat(async.removeDaemonSink("echo", Duration.ofSeconds(10))).isTrue();
        // Every line queued before the removal reached the daemon's sink, which is closed now.
        assertThat(echo.messages)
                .hasSize(1000)
                .allMatch(m -> m.startsWith("echo "))
                .last()
                .isEqualTo("echo 999");
        assertThat(echo.isStarted()).isFalse();
        async.doAppend(event(Level.INFO, "echo after", Map.of("daemon", "echo")));
        async.stop();

        assertThat(echo.messages).hasSize(1000);
        assertThat(output.messages).hasSize(2001).last().isEqualTo("echo after");
        assertThat(async.dropped()).isZero();
    }

    @Test
    void theDropsOfADaemonSinkBeingRemovedBehindAStalledDiskStayInTheTotal() throws Exception {
        StalledOutput echo = new StalledOutput();
        echo.release.countDown();
        echo.setContext(context);
        output.setContext(context);
        BoundedAsyncAppender async =
                new BoundedAsyncAppender("files", Sink.plain("all", output, Map.of()), null, QUEUE);
        async.setContext(context);
        async.start();
        async.addDaemonSink("echo", Sink.plain("echo", echo, Map.of("daemon", "echo")));
        // The shared output hangs on the first line: INFO fills four fifths and is then dropped
        // (counted by both sinks), WARN fills the rest, and the queue is full.
        async.doAppend(event(Level.INFO, "first", Map.of("daemon", "echo")));
        assertThat(output.entered.await(10, TimeUnit.SECONDS)).isTrue(); // the writer holds that line alone
        for (int i = 0; i < 200; i++) {
            async.doAppend(event(Level.INFO, "echo " + i, Map.of("daemon", "echo")));
        }
        Thread warnings = new Thread(
                () -> {
                    for (int i = 0; i < QUEUE; i++) {
                        async.doAppend(event(Level.WARN, "warn " + i, Map.of("daemon", "echo")));
                    }
                },
                "warnings");
        warnings.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> warnings.getState() == Thread.State.TIMED_WAITING);
        long before = async.dropped();
        assertThat(before).isGreaterThan(0);

        // No room for the removal: the sink leaves the routing now and is closed later. A metrics
        // counter that went down meanwhile would read as a reset.
        assertThat(async.removeDaemonSink("echo", Duration.ofMillis(100))).isFalse();
        assertThat(async.dropped()).isEqualTo(before);

        output.release.countDown();
        warnings.join(10_000);
        async.stop();
        assertThat(async.dropped()).isEqualTo(before);
        assertThat(echo.isStarted()).isFalse();
    }

    @Test
    void aSaturatedMarkLeftOnAnEmptyQueueIsClearedEvenIfNoLineComes() {
        output.release.countDown();
        output.setContext(context);
        BoundedAsyncAppender async = new BoundedAsyncAppender("files", Sink.plain("all", output, Map.of()), null, 64);
        async.setContext(context);
        async.start();
        async.doAppend(event(Level.INFO, "one"));
        await().atMost(Duration.ofSeconds(10)).until(() -> output.messages.size() == 1);
        // As when the logging thread saw a full queue, was preempted, and the writer emptied the queue
        // before the mark was set: every INFO line is refused from now on, so none comes to clear it.
        async.markSaturated();
        await().atMost(Duration.ofSeconds(5)).until(() -> !async.saturated());
        async.stop();
    }

    @Test
    @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aLayoutThatThrowsOnOneLineDoesNotStopTheWriter() {
        LayoutBase<ILoggingEvent> layout = new LayoutBase<>() {
            @Override
            public String doLayout(ILoggingEvent event) {
                if (event.getFormattedMessage().equals("poison")) {
                    throw new IllegalStateException("cannot lay this one out");
                }
                return event.getFormattedMessage() + "\n";
            }
        };
        layout.setContext(context);
        layout.start();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        OutputStreamAppender<ILoggingEvent> stream = new OutputStreamAppender<>();
        stream.setContext(context);
        stream.setOutputStream(bytes);
        BoundedAsyncAppender async = new BoundedAsyncAppender(
                "files",
                Sink.encoded("all", stream, OutputFormat.TEXT, Map.of()),
                new LineFormats(layout, "custom", layout),
                64);
        async.setContext(context);
        async.start();
        async.doAppend(event(Level.INFO, "before"));
        async.doAppend(event(Level.ERROR, "poison"));
        for (int i = 0; i < 500; i++) { // far more than the queue holds: the writer must go on
            async.doAppend(event(Level.WARN, "after " + i));
        }
        async.stop();

        List<String> lines = List.of(bytes.toString(StandardCharsets.UTF_8).split("\n"));
        assertThat(lines).hasSize(501).first().isEqualTo("before");
        assertThat(lines).last().isEqualTo("after 499");
    }

    @Test
    @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aWarnNeverWaitsForAWriterThatIsGone() {
        output.setContext(context);
        BoundedAsyncAppender async = new BoundedAsyncAppender("gone", Sink.plain("all", output, Map.of()), null, 8);
        async.setContext(context);
        async.start();
        for (int i = 0; i < 8; i++) { // the writer hangs on the first; the rest fill the queue
            async.doAppend(event(Level.WARN, "stuck " + i));
        }
        Thread writer = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals("daemonkit-log-gone"))
                .findFirst()
                .orElseThrow();
        writer.interrupt(); // as a stray interrupt would: the writer leaves its loop
        await().atMost(Duration.ofSeconds(10)).until(() -> !writer.isAlive());
        assertThat(async.isStarted()).isTrue();
        // The writer is gone and the queue is full; this caller (an event loop) must not wait for good.
        for (int i = 0; i < 5; i++) {
            async.doAppend(event(Level.ERROR, "later " + i));
        }
        assertThat(output.messages).noneMatch(m -> m.startsWith("later "));
    }

    /**
     * The writer gathers lines and writes a file at most every few milliseconds while lines keep coming
     * (a write's cost is largely per call). The user's case: a line after a quiet spell is in its file
     * with no flush call. The fault that batching must not bring: a line that arrives just after a
     * write, with nothing after it, left in the writer's chunk rather than written.
     */
    @Test
    void aLineJustAfterAWriteReachesItsFileEvenWhenNoOtherLineFollows(@TempDir Path logs) throws Exception {
        try (RollingFile.Archiver archiver = new RollingFile.Archiver(message -> {})) {
            PatternLayout layout = new PatternLayout();
            layout.setContext(context);
            layout.setPattern("%msg%n");
            layout.start();
            RollingFile file = new RollingFile(
                    logs,
                    "all.log",
                    new RollingSettings(1L << 30, 30, 1L << 30, Compression.NONE),
                    archiver,
                    System::currentTimeMillis,
                    ZoneOffset.UTC);
            BoundedAsyncAppender async = new BoundedAsyncAppender(
                    "files",
                    Sink.file("all", file, OutputFormat.TEXT, message -> {}, Map.of()),
                    new LineFormats(layout, "%msg%n", layout),
                    4096);
            async.setContext(context);
            async.start();
            Path all = logs.resolve("all.log");

            async.doAppend(event(Level.INFO, "after a quiet spell"));
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> Files.readString(all).equals("after a quiet spell\n"));
            // A write of the files just now (what awaitWritten asks the writer for), then lines at once.
            assertThat(async.awaitWritten(Duration.ofSeconds(10))).isTrue();
            for (int i = 0; i < 3; i++) {
                async.doAppend(event(Level.INFO, "right after a write " + i));
            }
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> Files.readString(all).endsWith("right after a write 2\n"));
            async.stop();
            assertThat(Files.readAllLines(all)).hasSize(4);
        }
    }

    private LoggingEvent event(Level level, String message, Map<String, String> mdc) {
        LoggingEvent event = new LoggingEvent(getClass().getName(), logger, level, message, null, null);
        event.setMDCPropertyMap(mdc);
        return event;
    }

    private LoggingEvent event(Level level, String message) {
        LoggingEvent event = new LoggingEvent(getClass().getName(), logger, level, message, null, null);
        event.setMDCPropertyMap(Map.of());
        return event;
    }

    /** Records messages; blocks on the first one until released, like a disk that hangs. */
    private static final class StalledOutput extends AppenderBase<ILoggingEvent> {
        final CountDownLatch release = new CountDownLatch(1);
        final CountDownLatch entered = new CountDownLatch(1);
        final List<String> messages = new CopyOnWriteArrayList<>();
        volatile String reportDaemon;

        @Override
        protected void append(ILoggingEvent event) {
            entered.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (event.getFormattedMessage().startsWith("logging fell behind")) {
                reportDaemon = event.getMDCPropertyMap().get("daemon");
            }
            messages.add(event.getFormattedMessage());
        }
    }
}
