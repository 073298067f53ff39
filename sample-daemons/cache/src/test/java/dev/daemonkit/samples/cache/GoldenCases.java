package dev.daemonkit.samples.cache;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The conformance cases: inputs and the replies memcached 1.6.18 sent for them, recorded in
 * {@code conformance/memcached-1.6.18.txt} (its header says how).
 */
final class GoldenCases {
    record Case(String name, byte[] input, String expected) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static final Pattern REPEAT = Pattern.compile("\\{(.)\\*(\\d+)}");

    private GoldenCases() {}

    static List<Case> load() throws IOException {
        String text;
        try (InputStream in = GoldenCases.class.getResourceAsStream("/conformance/memcached-1.6.18.txt")) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        List<Case> cases = new ArrayList<>();
        String name = null;
        byte[] input = null;
        for (String line : text.split("\n")) {
            if (line.startsWith("#") || line.isBlank()) {
                continue;
            }
            if (line.startsWith("> ")) {
                input = unescape(expand(line.substring(2)));
            } else if (line.startsWith("< ")) {
                cases.add(new Case(name, input, new String(unescape(line.substring(2)), StandardCharsets.ISO_8859_1)));
            } else {
                name = line;
            }
        }
        return cases;
    }

    private static String expand(String s) {
        Matcher m = REPEAT.matcher(s);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(sb, Matcher.quoteReplacement(m.group(1).repeat(Integer.parseInt(m.group(2)))));
        }
        m.appendTail(sb);
        return sb.toString();
    }

    /** The escapes of the file: \r \n \t \\ \xNN. "<EOF>" stays as text (it is what Wire returns). */
    static byte[] unescape(String s) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\' || i + 1 == s.length()) {
                out.write(c);
                continue;
            }
            char e = s.charAt(++i);
            switch (e) {
                case 'r' -> out.write('\r');
                case 'n' -> out.write('\n');
                case 't' -> out.write('\t');
                case '\\' -> out.write('\\');
                case 'x' -> {
                    out.write(Integer.parseInt(s.substring(i + 1, i + 3), 16));
                    i += 2;
                }
                default -> throw new IllegalArgumentException("unknown escape \\" + e + " in " + s);
            }
        }
        return out.toByteArray();
    }
}
