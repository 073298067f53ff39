package dev.daemonkit.samples.presence;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;

/** Building protocol lines, and checking names, rooms and text. Stateless. */
final class Lines {
    static final int MAX_NAME = 32;

    private Lines() {}

    /** {@code parts} joined by single spaces, then a newline, UTF-8, in one buffer from {@code alloc}. */
    static ByteBuf line(ByteBufAllocator alloc, String... parts) {
        int length = parts.length; // the spaces and the newline
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
            boolean ok = c >= 'a' && c <= 'z'
                    || c >= 'A' && c <= 'Z'
                    || c >= '0' && c <= '9'
                    || c == '_'
                    || c == '-'
                    || c == '.';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /**
     * Null if {@code s} may be written to other users; otherwise what is wrong with it, for an error
     * line. Refused: control characters other than tab (Unicode category Cc: C0, DEL and C1, such as
     * U+0085 NEXT LINE; binary garbage, terminal escapes), line and paragraph separators (Zl, Zp:
     * U+2028, U+2029, which end a line in some clients and would let a message forge a second one),
     * and the bidi embeddings, overrides and isolates U+202A-U+202E and U+2066-U+2069 (which reorder
     * the rest of a line as others see it: "Trojan Source", CVE-2021-42574). Letters, emoji, and the
     * plain direction marks U+200E, U+200F stay allowed.
     */
    static String forbidden(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 && c != '\t' || c == 0x7f) {
                return "the line holds control characters";
            }
            if (c < 0x80) {
                continue;
            }
            String what = forbiddenKind(c);
            if (what != null) {
                return String.format("the line holds U+%04X (%s)", (int) c, what);
            }
        }
        return null;
    }

    /** What kind of refused character {@code c} is, or null if it is allowed. */
    private static String forbiddenKind(char c) {
        if (c >= 0x202a && c <= 0x202e || c >= 0x2066 && c <= 0x2069) {
            return "a bidi control: it would reorder what others see";
        }
        return switch (Character.getType(c)) {
            case Character.CONTROL -> "a control character";
            case Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR -> "a line or paragraph separator";
            default -> null;
        };
    }

    /** A value as it may be quoted in an error line: control characters replaced, at most 40 characters. */
    static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < s.length() && i < 40; i++) {
            char c = s.charAt(i);
            sb.append(c < 0x20 || c == 0x7f || c >= 0x80 && forbiddenKind(c) != null ? '?' : c);
        }
        return sb.append(s.length() > 40 ? "...\"" : "\"").toString();
    }
}
