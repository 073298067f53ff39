package dev.daemonkit.logging.internal;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.LayoutBase;
import dev.daemonkit.logging.LogContext;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Map;

/**
 * One JSON object per line:
 * <pre>{"timestamp":"2025-01-31T12:00:00.123Z","level":"INFO","daemon":"echo","conn":"17",
 * "peer":"127.0.0.1:50312","thread":"loop-1","logger":"com.example.Echo","message":"hello",
 * "exception":"java.io.IOException: ...\n\tat ...","mdc":{"other":"value"}}</pre>
 * Keys without a value on this line (daemon, conn, peer, exception, mdc) are left out rather than
 * written as null. {@code mdc} holds any other MDC keys. Timestamps are UTC, millisecond precision.
 * Hand-written rather than a JSON library: the module must not add dependencies plugins could clash with.
 */
public final class JsonLayout extends LayoutBase<ILoggingEvent> {

    private static final DateTimeFormatter TIMESTAMP =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    @Override
    public String doLayout(ILoggingEvent event) {
        StringBuilder out = new StringBuilder(256);
        Map<String, String> mdc = event.getMDCPropertyMap();
        out.append('{');
        field(out, "timestamp", TIMESTAMP.format(event.getInstant()), true);
        field(out, "level", event.getLevel().levelStr, false);
        field(out, "daemon", mdc.get(LogContext.DAEMON), false);
        field(out, "conn", mdc.get(LogContext.CONNECTION), false);
        field(out, "peer", mdc.get(LogContext.PEER), false);
        field(out, "thread", event.getThreadName(), false);
        field(out, "logger", event.getLoggerName(), false);
        field(out, "message", event.getFormattedMessage(), false);
        IThrowableProxy thrown = event.getThrowableProxy();
        if (thrown != null) {
            field(out, "exception", ThrowableProxyUtil.asString(thrown), false);
        }
        boolean opened = false;
        for (Map.Entry<String, String> entry : mdc.entrySet()) {
            String key = entry.getKey();
            if (key.equals(LogContext.DAEMON) || key.equals(LogContext.CONNECTION) || key.equals(LogContext.PEER)) {
                continue;
            }
            if (!opened) {
                out.append(",\"mdc\":{");
            }
            field(out, key, entry.getValue(), !opened);
            opened = true;
        }
        if (opened) {
            out.append('}');
        }
        out.append('}').append(CoreConstants.LINE_SEPARATOR);
        return out.toString();
    }

    @Override
    public String getContentType() {
        return "application/x-ndjson";
    }

    private static void field(StringBuilder out, String key, String value, boolean first) {
        if (value == null) {
            return;
        }
        if (!first) {
            out.append(',');
        }
        string(out, key);
        out.append(':');
        string(out, value);
    }

    static void string(StringBuilder out, String value) {
        out.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"':
                    out.append("\\\"");
                    break;
                case '\\':
                    out.append("\\\\");
                    break;
                case '\n':
                    out.append("\\n");
                    break;
                case '\r':
                    out.append("\\r");
                    break;
                case '\t':
                    out.append("\\t");
                    break;
                default:
                    // Control characters would break the one-object-per-line shape or the parser;
                    // U+2028/9 break JavaScript consumers that eval lines.
                    if (c < 0x20 || c == '\u2028' || c == '\u2029') {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
            }
        }
        out.append('"');
    }
}
