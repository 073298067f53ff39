package dev.daemonkit.samples.presence;

import io.netty.util.NetUtil;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Which {@code Host} a request to the web listener may name ({@code allowed-hosts}), against DNS rebinding: a page at
 * {@code http://evil.example:7180} whose name is then made to resolve to 127.0.0.1 is same-origin with itself, so its
 * WebSocket carries {@code Host: evil.example:7180} and a matching {@code Origin}, passes the origin check, and acts
 * for the visitor on a daemon that listens on loopback only. So the {@code Host} must be an IP address, {@code
 * localhost}, or a configured name (the page has no other credential to check).
 *
 * <p>The framework's admin endpoint has the same rule ({@code BrowserGuard}, {@code daemonkit.admin.allowed-hosts}),
 * but that class is in {@code dev.daemonkit.internal}, which is not API: the plugin class loader delegates only {@code
 * dev.daemonkit.api.} (a plugin using it would fail with NoClassDefFoundError), and {@code SampleLayeringTest}
 * forbids it. The few lines it takes are here instead, with the same normalization.
 */
final class AllowedHosts {
    /** A host name as an operator writes one: labels of letters, digits, '-' and '_' (Docker), dots between. */
    private static final Pattern NAME = Pattern.compile("[a-z0-9_]([a-z0-9_-]*)(\\.[a-z0-9_]([a-z0-9_-]*))*");

    static final AllowedHosts NONE = new AllowedHosts(Set.of());

    /** Lower case, without a trailing dot. */
    private final Set<String> names;

    private AllowedHosts(Set<String> names) {
        this.names = names;
    }

    /**
     * The names of {@code allowed-hosts}; throws IllegalArgumentException (its message saying which entry and why)
     * for an entry that is not a host name (a scheme, a port, a path, a wildcard, blank).
     */
    static AllowedHosts of(List<String> entries) {
        for (String e : entries) {
            String n = normalize(e);
            if (!NAME.matcher(n).matches() && !NetUtil.isValidIpV6Address(n)) {
                throw new IllegalArgumentException("\"" + e + "\" is not a host name: write names alone, without"
                        + " scheme, port or wildcard, e.g. [\"my-box\", \"presence.example.com\"]"
                        + " (IP addresses and localhost are always allowed)");
            }
        }
        return new AllowedHosts(entries.stream().map(AllowedHosts::normalize).collect(Collectors.toUnmodifiableSet()));
    }

    /** True if a request with this {@code Host} header may be served (no header: not a browser, served). */
    boolean allows(String hostHeader) {
        if (hostHeader == null) {
            return true;
        }
        String name = hostName(hostHeader);
        return NetUtil.isValidIpV4Address(name)
                || NetUtil.isValidIpV6Address(name)
                || name.equals("localhost")
                || names.contains(name);
    }

    /** The name in a Host header, without its port and brackets, normalized. */
    static String hostName(String host) {
        String h = host.trim();
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            return end < 0 ? h : h.substring(1, end);
        }
        int colon = h.lastIndexOf(':');
        if (colon >= 0 && h.indexOf(':') == colon) {
            h = h.substring(0, colon);
        }
        return normalize(h);
    }

    private static String normalize(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        return n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
    }
}
