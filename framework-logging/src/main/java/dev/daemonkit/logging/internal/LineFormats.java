package dev.daemonkit.logging.internal;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Layout;
import java.nio.charset.StandardCharsets;

/**
 * Lays a line out at most once per format, however many sinks it goes to. One instance per writer
 * thread: not thread-safe.
 */
public final class LineFormats {

    private final Layout<ILoggingEvent> text;
    private final Layout<ILoggingEvent> json;
    private final DefaultTextEncoder fastText;
    private ILoggingEvent current;
    private byte[] textBytes;
    /** The length of the text line: {@link #textBytes} may be the encoder's buffer, longer than the line. */
    private int textLength;

    private byte[] jsonBytes;

    /**
     * Both layouts started. When {@code text} lays out {@link DefaultTextEncoder#PATTERN}, text lines
     * take the faster {@link DefaultTextEncoder}, which gives the same bytes.
     */
    public LineFormats(Layout<ILoggingEvent> text, String textPattern, Layout<ILoggingEvent> json) {
        this.text = text;
        this.json = json;
        this.fastText = DefaultTextEncoder.PATTERN.equals(textPattern) ? new DefaultTextEncoder(text) : null;
    }

    /**
     * The line laid out in {@code format}: its first {@link #length} bytes. Valid until the next line
     * (the default text's bytes are the encoder's own buffer, reused for the next line).
     */
    byte[] bytes(ILoggingEvent event, OutputFormat format) {
        if (event != current) {
            current = event;
            textBytes = null;
            jsonBytes = null;
        }
        if (format == OutputFormat.JSON) {
            if (jsonBytes == null) {
                jsonBytes = json.doLayout(event).getBytes(StandardCharsets.UTF_8);
            }
            return jsonBytes;
        }
        if (textBytes == null) {
            int n = fastText != null ? fastText.encodeInPlace(event) : -1;
            if (n >= 0) {
                textBytes = fastText.buffer();
                textLength = n;
            } else {
                textBytes = fastText != null
                        ? fastText.encode(event)
                        : text.doLayout(event).getBytes(StandardCharsets.UTF_8);
                textLength = textBytes.length;
            }
        }
        return textBytes;
    }

    /** The length of the line {@link #bytes} last returned in {@code format}. */
    int length(OutputFormat format) {
        return format == OutputFormat.JSON ? jsonBytes.length : textLength;
    }

    /** Forgets the last line, so that it can be collected. */
    void clear() {
        current = null;
        textBytes = null;
        jsonBytes = null;
    }
}
