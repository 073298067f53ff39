package dev.daemonkit.logging.internal;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import dev.daemonkit.logging.LogContext;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What a queued line takes on the thread that logs, and what it leaves to the writer. */
class DeferredLineTest {

    private final LoggerContext context = new LoggerContext();
    private final Logger logger = context.getLogger("com.example.Handler");

    @AfterEach
    void noLazyKeys() {
        LogContext.fillLazily(null);
    }

    private LoggingEvent event(String pattern, Object... args) {
        LoggingEvent e = new LoggingEvent(getClass().getName(), logger, Level.INFO, pattern, null, args);
        e.setMDCPropertyMap(Map.of(LogContext.DAEMON, "echo"));
        return e;
    }

    @Test
    void aMutableArgumentChangedAfterTheCallShowsItsValueAtTheCall() {
        StringBuilder state = new StringBuilder("before");
        AtomicInteger count = new AtomicInteger(7);
        ILoggingEvent line = DeferredLine.capture(event("state {} count {}", state, count));
        state.setLength(0);
        state.append("after");
        count.set(8);

        assertThat(line.getFormattedMessage()).isEqualTo("state before count 7");
    }

    @Test
    void immutableArgumentsAreFormattedLaterFromACopyOfTheCallersArray() {
        Object[] reused = {101, "ok"};
        ILoggingEvent line = DeferredLine.capture(event("echo {} bytes {}", reused));
        assertThat(line).isInstanceOf(DeferredLine.class);
        // A caller that reuses its array for the next call must not change this line.
        reused[0] = 202;
        reused[1] = "changed";

        Thread logging = Thread.currentThread();
        String[] onWriter = new String[2];
        Thread writer = new Thread(() -> {
            onWriter[0] = line.getFormattedMessage();
            onWriter[1] = line.getThreadName();
        });
        writer.start();
        assertThat(joined(writer)).isTrue();
        assertThat(onWriter[0]).isEqualTo("echo 101 bytes ok");
        assertThat(onWriter[1]).as("the logging thread's name").isEqualTo(logging.getName());
    }

    @Test
    void faultAnArgumentWhoseToStringThrowsIsFormattedAtTheCallAndNeverReachesTheWriter() {
        Object hostile = new Object() {
            @Override
            public String toString() {
                throw new IllegalStateException("toString failed");
            }
        };
        ILoggingEvent line = DeferredLine.capture(event("value {} then {}", hostile, 3));

        // SLF4J's formatter turns the failure into text at the call, on the thread that logs; the writer
        // only copies a finished string and cannot fail on the caller's object.
        assertThat(line.getFormattedMessage()).isEqualTo("value [FAILED toString()] then 3");
        assertThat(line.getArgumentArray()).containsExactly(hostile, 3);
    }

    @Test
    void faultASlowToStringRunsOnTheLoggingThreadOnlyNeverOnTheWriter() {
        List<Thread> callers = new CopyOnWriteArrayList<>();
        Object slow = new Object() {
            @Override
            public String toString() {
                callers.add(Thread.currentThread()); // stands for a slow one: where it runs is what matters
                return "slow";
            }
        };
        ILoggingEvent line = DeferredLine.capture(event("got {}", slow));
        String[] onWriter = new String[1];
        Thread writer = new Thread(() -> onWriter[0] = line.getFormattedMessage());
        writer.start();

        assertThat(joined(writer)).isTrue();
        assertThat(onWriter[0]).isEqualTo("got slow");
        assertThat(callers).containsExactly(Thread.currentThread());
    }

    @Test
    void theConnectionsKeysComeWithTheLineAndStayOutOfTheMdc() {
        LogContext.fillLazily(new LogContext.LazyKeys() {
            @Override
            public void fill() {
                throw new AssertionError("the MDC is not to be filled for Daemonkit's outputs");
            }

            @Override
            public String value(String key) {
                return key.equals(LogContext.CONNECTION) ? "17" : "127.0.0.1:50312";
            }
        });
        ILoggingEvent line = DeferredLine.capture(event("client said {}", "hello"));

        assertThat(((DeferredLine) line).daemon()).isEqualTo("echo");
        assertThat(line.getMDCPropertyMap())
                .containsExactlyInAnyOrderEntriesOf(Map.of(
                        LogContext.DAEMON, "echo", LogContext.CONNECTION, "17", LogContext.PEER, "127.0.0.1:50312"));
    }

    @Test
    void aLineWithNothingToDeferIsLogbacksOwnEventPrepared() {
        LoggingEvent plain = event("no arguments");
        assertThat(DeferredLine.capture(plain)).isSameAs(plain);
        assertThat(plain.getFormattedMessage()).isEqualTo("no arguments");
    }

    private static boolean joined(Thread t) {
        try {
            t.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return !t.isAlive();
    }
}
