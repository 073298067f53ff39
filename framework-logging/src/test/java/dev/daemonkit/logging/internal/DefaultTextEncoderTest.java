package dev.daemonkit.logging.internal;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.LoggingEvent;
import com.typesafe.config.ConfigFactory;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The fast layout of the default text pattern gives exactly the bytes Logback's PatternLayout gives. */
class DefaultTextEncoderTest {

    private final LoggerContext context = new LoggerContext();
    private final PatternLayout layout = new PatternLayout();
    private final DefaultTextEncoder encoder;

    DefaultTextEncoderTest() {
        layout.setContext(context);
        layout.getInstanceConverterMap().put("context", ContextConverter::new);
        layout.setPattern(DefaultTextEncoder.PATTERN);
        layout.start();
        encoder = new DefaultTextEncoder(layout);
    }

    @Test
    void isTheDefaultOfTheTextPattern() {
        assertThat(ConfigFactory.defaultReference(getClass().getClassLoader())
                        .getString("daemonkit.logging.text-pattern"))
                .isEqualTo(DefaultTextEncoder.PATTERN);
    }

    @Test
    void laysOutEveryKindOfLineAsPatternLayoutDoes() {
        List<Map<String, String>> contexts = List.of(
                Map.of(),
                Map.of("daemon", "echo", "conn", "17", "peer", "127.0.0.1:50312"),
                Map.of("daemon", "cache-b"),
                Map.of("conn", "3", "peer", "[::1]:4000"),
                Map.of("peer", "10.0.0.1:1"),
                Map.of("user", "x"));
        List<String> loggers = List.of(
                "daemon.echo",
                "dev.daemonkit.internal.lifecycle.DaemonInstance",
                "com.example.very.long.package.name.that.needs.abbreviation.SomeHandler",
                "ROOT",
                "x");
        List<String> messages =
                List.of("echo {} bytes", "plain", "", "ünïcödé {} ☃", "tab\there {} and {}", "line\nbreak", "{}");
        List<String> threads = List.of("daemonkit-io-5-1", "main", "thread ü", "");
        long[] times = {0L, 999L, 1_000L, 1_764_194_859_933L, 1_764_194_859_000L, 1_764_194_859_999L, 1_764_194_860_001L
        };
        Level[] levels = {Level.TRACE, Level.DEBUG, Level.INFO, Level.WARN, Level.ERROR};
        int checked = 0;
        for (Map<String, String> mdc : contexts) {
            for (String logger : loggers) {
                for (String message : messages) {
                    for (int i = 0; i < times.length; i++) {
                        LoggingEvent event = new LoggingEvent(
                                getClass().getName(),
                                context.getLogger(logger),
                                levels[i % levels.length],
                                message,
                                null,
                                new Object[] {42, "two ü"});
                        event.setTimeStamp(times[i]);
                        event.setThreadName(threads.get((i + checked) % threads.size()));
                        event.setMDCPropertyMap(new HashMap<>(mdc));
                        assertThat(new String(encoder.encode(event), StandardCharsets.UTF_8))
                                .isEqualTo(layout.doLayout(event));
                        checked++;
                    }
                }
            }
        }
        assertThat(checked).isEqualTo(contexts.size() * loggers.size() * messages.size() * times.length);
    }

    @Test
    void aMessageTheWriterFormatsItselfIsWhatSlf4jsFormatterMakes() {
        List<String> patterns = List.of(
                "echo {} bytes",
                "{}",
                "{}{}{}{}",
                "no anchors",
                "",
                "{ } {x} }{ {{}} {",
                "trailing {",
                "ünï {} ☃ {}",
                "escaped \\{} and {}",
                "double \\\\{} then {}",
                "{} more anchors {} than {} arguments {}");
        List<Object[]> arguments = List.of(
                new Object[] {42},
                new Object[] {-7L, "two ü"},
                new Object[] {null, true, 'c', 1.5, 2.5f},
                new Object[] {(short) 3, (byte) -4, Long.MIN_VALUE, Integer.MIN_VALUE, 0, Long.MAX_VALUE},
                new Object[] {"{}", "\\", ""});
        int checked = 0;
        for (String pattern : patterns) {
            for (Object[] args : arguments) {
                LoggingEvent event = new LoggingEvent(
                        getClass().getName(), context.getLogger("daemon.echo"), Level.INFO, pattern, null, args);
                event.setTimeStamp(1_764_194_859_933L);
                event.setMDCPropertyMap(Map.of("daemon", "echo"));
                var line = DeferredLine.capture(event);
                assertThat(line).isInstanceOf(DeferredLine.class);
                assertThat(new String(encoder.encode(line), StandardCharsets.UTF_8))
                        .as("%s with %s", pattern, java.util.Arrays.toString(args))
                        .isEqualTo(layout.doLayout(event));
                checked++;
            }
        }
        assertThat(checked).isEqualTo(patterns.size() * arguments.size());
    }

    /**
     * The encoder keeps a connection's context and a pattern's text encoded, keyed by the identity of
     * their strings. The user's case: a run of lines of one connection and one call site, each laid out
     * right. The fault it must not have: a line that shares a cache slot with another connection (equal
     * hash codes: "Aa" and "BB") or carries an equal but different string showing the other's address
     * or text.
     */
    @Test
    void cachedContextsAndPatternsNeverShowAnotherConnectionsOrCallSitesText() {
        String daemon = "echo";
        String[] conns = {"17", "18", new String("17")};
        String[] peers = {"10.0.0.1:Aa", "10.0.0.1:BB", new String("10.0.0.1:Aa")};
        assertThat(peers[0].hashCode()).isEqualTo(peers[1].hashCode());
        String[] patterns = {"Aa {} bytes", "BB {} bytes", new String("Aa {} bytes"), "Aa {}{} ü {}"};
        assertThat(patterns[0].hashCode()).isEqualTo(patterns[1].hashCode());
        int checked = 0;
        for (int i = 0; i < 200; i++) {
            // Runs of the same connection (as at 16 lines per read), then another: every combination.
            int c = i / 4 % conns.length;
            int p = i / 3 % peers.length;
            String pattern = patterns[i / 5 % patterns.length];
            LoggingEvent event = new LoggingEvent(
                    getClass().getName(), context.getLogger("daemon.echo"), Level.INFO, pattern, null, new Object[] {
                        i, "x" + i
                    });
            event.setTimeStamp(1_764_194_859_933L + i);
            event.setThreadName(i % 7 == 0 ? "main" : "daemonkit-io-1-1");
            event.setMDCPropertyMap(Map.of("daemon", daemon, "conn", conns[c], "peer", peers[p]));
            String expected = layout.doLayout(event);
            assertThat(new String(encoder.encode(event), StandardCharsets.UTF_8))
                    .as("line %d", i)
                    .isEqualTo(expected);
            assertThat(new String(encoder.encode(DeferredLine.capture(event)), StandardCharsets.UTF_8))
                    .as("line %d, message formatted by the writer", i)
                    .isEqualTo(expected);
            checked++;
        }
        assertThat(checked).isEqualTo(200);
    }

    @Test
    void aLineWithAnExceptionCarriesItsStackTrace() {
        LoggingEvent event = new LoggingEvent(
                getClass().getName(),
                context.getLogger("daemon.echo"),
                Level.ERROR,
                "failed",
                new IllegalStateException("boom"),
                null);
        event.setMDCPropertyMap(Map.of("daemon", "echo"));
        String line = new String(encoder.encode(event), StandardCharsets.UTF_8);
        assertThat(line)
                .isEqualTo(layout.doLayout(event))
                .contains("java.lang.IllegalStateException: boom")
                .contains("at dev.daemonkit.logging.internal.DefaultTextEncoderTest");
    }
}
