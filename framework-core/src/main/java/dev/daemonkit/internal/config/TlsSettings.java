package dev.daemonkit.internal.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * The TLS block of one TCP listener, {@code daemons.NAME.tls.LISTENER-KEY { ... }} (or
 * {@code daemonkit.admin.tls { ... }}), read once and checked: unknown keys, wrong kinds and bad
 * choices are {@link ConfigError}s naming the key and the file. Whether the files can be read is
 * checked when the context is made ({@code TlsContext}), which names the file and key the same way.
 *
 * <p>Why a sibling block keyed by the listener's key, not an object in place of the address: the
 * address stays a string, so every existing config stays valid and everything that reads an address
 * (the duplicate check, socket activation's matching, {@code status}, environment overrides such as
 * {@code CONFIG_FORCE_daemons_echo_listen}) is unchanged; docs/configuration.md#tls says so too.
 *
 * @param where the block's path, {@code daemons.echo.tls.listen}
 */
public record TlsSettings(
        String where,
        Source certFile,
        Source keyFile,
        String keyPassword,
        Source caFile,
        ClientAuth clientAuth,
        List<String> protocols,
        List<String> ciphers,
        List<String> alpn,
        Provider provider,
        Duration watchInterval,
        Duration warnBeforeExpiry) {

    /** Whether a client must (or may) present a certificate signed by {@code ca-file}. */
    public enum ClientAuth {
        NONE,
        OPTIONAL,
        REQUIRE
    }

    /** The TLS engine: OpenSSL (BoringSSL, netty-tcnative) where it loads, or the JDK's. */
    public enum Provider {
        AUTO,
        OPENSSL,
        JDK
    }

    /**
     * A file named in the config.
     *
     * @param path resolved against the folder of the config file that named it
     * @param where {@code daemons.echo.tls.listen.cert-file = "echo.crt" (conf/daemonkit.conf:12)}
     */
    public record Source(Path path, String where) {}

    /** The keys of a TLS block and their defaults. */
    static final Config REFERENCE = ConfigFactory.parseString("""
            cert-file = ""
            key-file = ""
            key-password = ""
            ca-file = ""
            client-auth = none
            protocols = [TLSv1.3, TLSv1.2]
            ciphers = []
            alpn = []
            provider = auto
            watch-interval = 1 s
            warn-before-expiry = 30 days
            """);

    /** True when {@code block} has a TLS block for the listener {@code key} under {@code tls}. */
    public static boolean present(Config block, String key) {
        return block.hasPath("tls") && block.getValue("tls").valueType() == ConfigValueType.OBJECT
                ? block.getObject("tls").containsKey(key)
                : false;
    }

    /** The listener keys named under {@code tls} in {@code block}; a {@code tls} that is not an object is an error. */
    public static Set<String> named(Config block, String prefix) {
        if (!block.hasPath("tls")) {
            return Set.of();
        }
        ConfigValue tls = block.getValue("tls");
        if (tls.valueType() != ConfigValueType.OBJECT) {
            throw new ConfigError(prefix + ".tls = " + tls.render() + " (" + Origins.of(tls)
                    + ") must be an object of listener keys, like tls.listen { cert-file = ..., key-file = ... }.");
        }
        return new TreeSet<>(block.getObject("tls").keySet());
    }

    /**
     * Reads the TLS block of the listener {@code key} of {@code block} (a daemon's block), whose path is
     * {@code prefix} ({@code daemons.echo}).
     */
    public static TlsSettings read(Config block, String key, String prefix) {
        String path = ConfigUtil.joinPath("tls", key);
        return read(block, path, prefix + "." + path, block.getValue(path));
    }

    /** Reads the TLS block at {@code path} of {@code parent}, called {@code where} in messages. */
    public static TlsSettings read(Config parent, String path, String where, ConfigValue value) {
        if (value.valueType() != ConfigValueType.OBJECT) {
            throw new ConfigError(
                    where + " = " + value.render() + " (" + Origins.of(value) + ") must be an object, like " + where
                            + " { cert-file = \"server.crt\", key-file = \"server.key\" }.");
        }
        Config own = parent.getConfig(path);
        List<String> problems = new ArrayList<>();
        for (String k : own.root().keySet()) {
            if (!REFERENCE.hasPath(ConfigUtil.joinPath(k))) {
                problems.add("unknown key " + where + "." + k + " ("
                        + Origins.of(own.root().get(k)) + "). Known keys" + " there: "
                        + new TreeSet<>(REFERENCE.root().keySet()) + ". Check the spelling, or remove it.");
            }
        }
        Config c = own.withFallback(REFERENCE);
        Source cert = file(c, "cert-file", where, true, problems);
        Source key = file(c, "key-file", where, true, problems);
        Source ca = file(c, "ca-file", where, false, problems);
        String password = string(c, "key-password", where, problems);
        ClientAuth auth = choice(c, "client-auth", where, ClientAuth.class, ClientAuth.NONE, problems);
        Provider provider = choice(c, "provider", where, Provider.class, Provider.AUTO, problems);
        List<String> protocols = list(c, "protocols", where, problems);
        List<String> ciphers = list(c, "ciphers", where, problems);
        List<String> alpn = list(c, "alpn", where, problems);
        Duration watch = duration(c, "watch-interval", where, problems);
        Duration warn = duration(c, "warn-before-expiry", where, problems);
        if (protocols != null && protocols.isEmpty()) {
            problems.add(where + ".protocols (" + Origins.of(c.getValue("protocols"))
                    + ") is empty: no client could connect. Leave it out for [TLSv1.3, TLSv1.2].");
        }
        if (auth != null && auth != ClientAuth.NONE && ca == null) {
            problems.add(where + ".client-auth = " + auth.name().toLowerCase(Locale.ROOT) + " ("
                    + Origins.of(c.getValue("client-auth")) + ") needs " + where
                    + ".ca-file: the CA certificates (PEM) that client certificates must be signed by.");
        }
        if (!problems.isEmpty()) {
            throw new ConfigError(
                    problems.size() == 1
                            ? problems.get(0)
                            : problems.size() + " config problems:\n  - " + String.join("\n  - ", problems));
        }
        return new TlsSettings(where, cert, key, password, ca, auth, protocols, ciphers, alpn, provider, watch, warn);
    }

    private static Source file(Config c, String key, String where, boolean required, List<String> problems) {
        String value = string(c, key, where, problems);
        if (value == null) {
            return null;
        }
        ConfigValue v = c.getValue(key);
        if (value.isBlank()) {
            if (required) {
                problems.add(where + "." + key + " is missing: give the path of the PEM file"
                        + (key.equals("cert-file")
                                ? " with the server's certificate (then its chain)"
                                : " with the server's private key (PKCS#8, BEGIN PRIVATE KEY)")
                        + " in " + where + ".");
            }
            return null;
        }
        Path p = Path.of(value);
        String file = v.origin() == null ? null : v.origin().filename();
        if (!p.isAbsolute() && file != null && Path.of(file).getParent() != null) {
            p = Path.of(file).getParent().resolve(p); // relative to the config file that names it
        }
        return new Source(
                p.toAbsolutePath().normalize(), where + "." + key + " = " + v.render() + " (" + Origins.of(v) + ")");
    }

    private static String string(Config c, String key, String where, List<String> problems) {
        ConfigValue v = c.getValue(key);
        if (v.valueType() != ConfigValueType.STRING) {
            problems.add(where + "." + key + " = " + v.render() + " (" + Origins.of(v) + ") must be a string.");
            return null;
        }
        return (String) v.unwrapped();
    }

    private static <E extends Enum<E>> E choice(
            Config c, String key, String where, Class<E> type, E fallback, List<String> problems) {
        String value = string(c, key, where, problems);
        if (value == null) {
            return fallback;
        }
        for (E e : type.getEnumConstants()) {
            if (e.name().equalsIgnoreCase(value)) {
                return e;
            }
        }
        List<String> names = new ArrayList<>();
        for (E e : type.getEnumConstants()) {
            names.add(e.name().toLowerCase(Locale.ROOT));
        }
        problems.add(where + "." + key + " = " + value + " (" + Origins.of(c.getValue(key)) + ") must be one of "
                + String.join(", ", names) + ".");
        return fallback;
    }

    private static List<String> list(Config c, String key, String where, List<String> problems) {
        try {
            return List.copyOf(c.getStringList(key));
        } catch (ConfigException.WrongType e) {
            problems.add(where + "." + key + " = " + c.getValue(key).render() + " (" + Origins.of(c.getValue(key))
                    + ") must be a list of strings, like [TLSv1.3, TLSv1.2].");
            return List.of();
        }
    }

    private static Duration duration(Config c, String key, String where, List<String> problems) {
        ConfigValue v = c.getValue(key);
        if (v.valueType() == ConfigValueType.NUMBER) {
            problems.add(where + "." + key + " = " + v.render() + " (" + Origins.of(v) + ") has no unit and would"
                    + " mean " + v.render() + " ms. Write " + v.render() + " s or 1 minute.");
            return Duration.ZERO;
        }
        try {
            return c.getDuration(key);
        } catch (ConfigException e) {
            problems.add(where + "." + key + " = " + v.render() + " (" + Origins.of(v)
                    + ") must be a duration, like 1 s or 30 days.");
            return Duration.ZERO;
        }
    }
}
