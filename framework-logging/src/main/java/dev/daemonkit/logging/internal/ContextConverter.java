package dev.daemonkit.logging.internal;

import ch.qos.logback.classic.pattern.ClassicConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.daemonkit.logging.LogContext;
import java.util.Map;

/**
 * {@code %context} in the text pattern: {@code " [echo conn=17 peer=127.0.0.1:50312]"} when the line
 * carries daemon context, and nothing at all otherwise, so framework lines stay short. Logback's
 * {@code %X{key}} cannot leave out an empty bracket.
 */
public final class ContextConverter extends ClassicConverter {

    @Override
    public String convert(ILoggingEvent event) {
        Map<String, String> mdc = event.getMDCPropertyMap();
        String daemon = mdc.get(LogContext.DAEMON);
        String conn = mdc.get(LogContext.CONNECTION);
        String peer = mdc.get(LogContext.PEER);
        if (daemon == null && conn == null && peer == null) {
            return "";
        }
        StringBuilder out = new StringBuilder(64).append(" [");
        if (daemon != null) {
            out.append(daemon);
        }
        if (conn != null) {
            out.append(daemon != null ? " " : "").append("conn=").append(conn);
        }
        if (peer != null) {
            out.append(daemon != null || conn != null ? " " : "")
                    .append("peer=")
                    .append(peer);
        }
        return out.append(']').toString();
    }
}
