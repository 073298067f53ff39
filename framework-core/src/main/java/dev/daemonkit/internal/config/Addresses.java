package dev.daemonkit.internal.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigValueType;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/** Parses {@code HOST:PORT} addresses ({@code 127.0.0.1:7000}, {@code [::1]:7000}, {@code localhost:0}). */
public final class Addresses {
    private Addresses() {}

    /**
     * Reads the address at {@code key} of {@code block}; {@code fullPath} and the origin go into the
     * error message.
     */
    public static InetSocketAddress read(Config block, String key, String fullPath) {
        if (!block.hasPath(key)) {
            throw new ConfigError(fullPath + " is missing: the daemon declares a listener there. " + "Add " + fullPath
                    + " = \"127.0.0.1:PORT\" to the config.");
        }
        var value = block.getValue(key);
        if (value.valueType() != ConfigValueType.STRING) {
            throw new ConfigError(fullPath + " = " + value.render() + " (" + Origins.of(value)
                    + ") must be a string HOST:PORT, e.g. \"127.0.0.1:7000\".");
        }
        String text = (String) value.unwrapped();
        try {
            return parse(text);
        } catch (IllegalArgumentException e) {
            throw new ConfigError(fullPath + " = \"" + text + "\" (" + Origins.of(value) + "): " + e.getMessage()
                    + ". Write HOST:PORT, e.g. \"127.0.0.1:7000\".");
        } catch (ConfigException e) {
            throw new ConfigError(e.getMessage(), e);
        }
    }

    /** Parses {@code HOST:PORT}; throws IllegalArgumentException saying what is wrong. */
    public static InetSocketAddress parse(String text) {
        String s = text.trim();
        int colon = s.lastIndexOf(':');
        if (colon <= 0 || colon == s.length() - 1) {
            throw new IllegalArgumentException("not of the form HOST:PORT");
        }
        String host = s.substring(0, colon);
        String portText = s.substring(colon + 1);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.indexOf(':') >= 0) {
            throw new IllegalArgumentException("an IPv6 host must be in brackets, e.g. [::1]:7000");
        }
        int port;
        try {
            port = Integer.parseInt(portText);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("port '" + portText + "' is not a number");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is out of range 0-65535");
        }
        try {
            return new InetSocketAddress(InetAddress.getByName(host), port);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("host '" + host + "' does not resolve");
        }
    }

    /** {@code 127.0.0.1:7000} or {@code [::1]:7000}, without the JDK's leading slash. */
    public static String format(InetSocketAddress address) {
        if (address == null) {
            return "-";
        }
        String host = address.getAddress() != null ? address.getAddress().getHostAddress() : address.getHostString();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + address.getPort();
    }
}
