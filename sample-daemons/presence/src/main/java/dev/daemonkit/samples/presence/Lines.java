package dev.daemonkit.samples.presence;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;

/** Building protocol lines, and checking names, rooms and text. Stateless. */
final class Lines {
    static final int MAX_NAME = 32;

    private Lines() {
    }

    /** {@code parts} joined by single spaces, then a newline, UTF-8, in one buffer from {@code alloc}. */
    static ByteBuf line(ByteBufAllocator alloc, String... parts) {
        int length = parts.length;   // the spaces and the newline
        for (String p : parts) {
            length += ByteBufUtil.utf8Bytes(p);
        }
        ByteBuf buf = alloc.buffer(length);
        for (int i = 0; i < parts.length; i++) {
            if (i > 0) {
                buf.writeByte(' ');
            }
            ByteBufUtil.writeUtf8(buf, parts[i]);
        }
        return buf.writeByte('\n');
    }

    /** A name or a room: 1 to 32 ASCII letters, digits, '_', '-' or '.'. */
    static boolean isName(String s) {
        if (s.isEmpty() || s.length() > MAX_NAME) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** True if {@code s} holds a control character other than tab (binary garbage, terminal escapes). */
    static boolean hasControl(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 && c != '\t' || c == 0x7f) {
                return true;
            }
        }
        return false;
    }

    /** A value as it may be quoted in an error line: control characters replaced, at most 40 characters. */
    static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < s.length() && i < 40; i++) {
            char c = s.charAt(i);
            sb.append(c < 0x20 || c == 0x7f ? '?' : c);
        }
        return sb.append(s.length() > 40 ? "...\"" : "\"").toString();
    }
}
