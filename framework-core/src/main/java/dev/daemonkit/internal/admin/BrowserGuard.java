package dev.daemonkit.internal.admin;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.NetUtil;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps web pages from driving the admin endpoint through the browser of someone on the machine (or
 * the network) that can reach it. The endpoint serves no web pages, so no browser request is expected.
 *
 * <ul>
 *   <li><b>Cross-origin requests (CSRF).</b> A page can send a "simple" POST (a form, or {@code fetch}
 *       with {@code Content-Type: text/plain}) to any address without a preflight; it cannot read the
 *       answer, but the daemon would be stopped all the same. Browsers send {@code Origin} on every such
 *       request (and on every cross-origin {@code fetch}); curl, {@code bin/daemonkit}, kubelet and
 *       Prometheus send none. A request whose {@code Origin} is not the endpoint's own
 *       ({@code http[s]://} + its {@code Host}) is refused, whatever its route but the probes (answered
 *       before this guard: read-only, tokenless, and named by container health checks), token or not.
 *   <li><b>DNS rebinding.</b> A page at {@code http://evil.example:7070} whose name is then made to
 *       resolve to 127.0.0.1 is same-origin with itself: its requests carry {@code Host: evil.example:7070}
 *       and a matching {@code Origin}, and it could read the answers. Without a token nothing else stops
 *       it, so then a {@code Host} must be an IP address, {@code localhost}, or a name in
 *       {@code daemonkit.admin.allowed-hosts}. With a token the page lacks the token (it only reaches the
 *       probes, which read nothing of value), so {@code Host} is not checked: Prometheus may scrape a
 *       Service's DNS name without configuring it.
 * </ul>
 *
 * Not checked: {@code Content-Type}. Requiring a non-simple one would stop simple cross-origin POSTs
 * too, but also {@code curl -XPOST} without a body; the {@code Origin} check already stops them.
 */
final class BrowserGuard {
    private static final Logger log = LoggerFactory.getLogger(BrowserGuard.class);
    private final boolean https;
    /** Check Host: no token is configured. */
    private final boolean checkHost;
    /** daemonkit.admin.allowed-hosts, lower case, without a trailing dot. */
    private final Set<String> allowedHosts;
    /** Refusals of web pages' requests: any page can send many. */
    private final ThinnedWarning refusedLog = new ThinnedWarning(log);
    /** Requests without the token (daemonkit.admin.token): anyone who can connect can send many. */
    final ThinnedWarning tokenRefusedLog = new ThinnedWarning(LoggerFactory.getLogger(AdminHandler.class));

    /**
     * @param https the endpoint speaks https (its own origin's scheme)
     * @param tokenRequired daemonkit.admin.token is set: Host is not checked
     * @param allowedHosts names accepted in Host besides IP addresses and localhost (without a token)
     */
    BrowserGuard(boolean https, boolean tokenRequired, List<String> allowedHosts) {
        this.https = https;
        this.checkHost = !tokenRequired;
        this.allowedHosts = allowedHosts.stream().map(BrowserGuard::normalize).collect(Collectors.toUnmodifiableSet());
    }

    /** Why the request is refused (the 403's message), or null if it may be served. */
    String refusal(HttpRequest request) {
        String host = request.headers().get(HttpHeaderNames.HOST);
        String origin = request.headers().get(HttpHeaderNames.ORIGIN);
        if (origin != null) {
            String own = host == null ? null : (https ? "https://" : "http://") + host.trim();
            if (own == null || !origin.trim().equalsIgnoreCase(own)) {
                return "refused: this request came from a web page (Origin: " + origin + "), and the admin endpoint"
                        + " accepts no request a browser sends on a page's behalf (a page could stop your daemons)."
                        + " Use bin/daemonkit or curl, which send no Origin header.";
            }
        }
        if (checkHost && host != null && !allowedHost(hostName(host))) {
            return "refused: Host: " + host + " is not an IP address, localhost, or a name in"
                    + " daemonkit.admin.allowed-hosts, and without daemonkit.admin.token such a request may come"
                    + " from a web page whose name now points here (DNS rebinding). Use the endpoint's address,"
                    + " add the name to daemonkit.admin.allowed-hosts, or set daemonkit.admin.token.";
        }
        return null;
    }

    /** Logs a refusal (WARN): the first at once, then at most one per 10 s saying how many more. */
    void logRefused(Supplier<String> line) {
        refusedLog.warn(line);
    }

    private boolean allowedHost(String name) {
        return NetUtil.isValidIpV4Address(name)
                || NetUtil.isValidIpV6Address(name)
                || name.equals("localhost")
                || allowedHosts.contains(name);
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
