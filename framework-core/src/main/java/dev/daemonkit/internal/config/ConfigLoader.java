package dev.daemonkit.internal.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigValueFactory;
import com.typesafe.config.ConfigValueType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Loads {@code conf/daemonkit.conf}, applies overrides (system properties, then Typesafe Config's
 * {@code CONFIG_FORCE_} environment variables), merges the framework's and the plugins' reference.conf,
 * and validates everything before anything is bound. Every problem becomes a {@link ConfigError}
 * naming file, line, key and what was expected; several problems are reported together.
 */
public final class ConfigLoader {
    private static final Pattern INSTANCE_NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");

    private final Config reference;
    private final Config user;

    private ConfigLoader(Config reference, Config user) {
        this.reference = reference;
        this.user = user;
    }

    /**
     * Reads the file (which must exist when {@code explicit}), merges overrides over it and checks the
     * {@code daemonkit} block against the framework's reference.conf.
     */
    public static ConfigLoader load(Path file, boolean explicit, ClassLoader frameworkLoader) {
        Config reference = ConfigFactory.defaultReference(frameworkLoader);
        Config fromFile = ConfigFactory.empty();
        if (Files.exists(file)) {
            if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
                throw new ConfigError(
                        "config file " + file + " is not a readable file. Check the path and permissions.");
            }
            try {
                fromFile = ConfigFactory.parseFile(
                        file.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
            } catch (ConfigException e) {
                throw new ConfigError(
                        "config file " + file + " cannot be parsed: " + e.getMessage()
                                + ". Fix the syntax (HOCON) and start again.",
                        e);
            }
        } else if (explicit) {
            throw new ConfigError("config file " + file + " does not exist. Pass an existing file to --config.");
        }
        Config props = ConfigFactory.systemProperties();
        Config overrides = ConfigFactory.systemEnvironmentOverrides()
                .withFallback(props.withOnlyPath("daemonkit"))
                .withFallback(props.withOnlyPath("daemons"));
        Config user = overrides.withFallback(fromFile);
        for (String root : user.root().keySet()) {
            if (!root.equals("daemonkit") && !root.equals("daemons")) {
                throw new ConfigError(
                        "unknown top-level key '" + root + "' ("
                                + Origins.of(user.root().get(root))
                                + "). The config has two blocks: daemonkit { ... } for the framework and daemons { NAME { ... } }.");
            }
        }
        ConfigLoader loader = new ConfigLoader(reference, user);
        loader.checkFramework();
        return loader;
    }

    private void checkFramework() {
        List<String> problems = new ArrayList<>();
        if (user.hasPath("daemonkit")) {
            if (user.root().get("daemonkit").valueType() != ConfigValueType.OBJECT) {
                throw new ConfigError(
                        "daemonkit (" + Origins.of(user.root().get("daemonkit")) + ") must be an object { ... }.");
            }
            problems.addAll(
                    ConfigValidator.check(user.getObject("daemonkit"), reference.getObject("daemonkit"), "daemonkit"));
        }
        if (user.hasPath("daemons") && user.root().get("daemons").valueType() != ConfigValueType.OBJECT) {
            problems.add(
                    "daemons (" + Origins.of(user.root().get("daemons")) + ") must be an object { NAME { ... } }.");
        }
        throwIfAny(problems);
        try {
            framework();
        } catch (ConfigException e) {
            throw new ConfigError("config error: " + e.getMessage(), e);
        }
    }

    private static void throwIfAny(List<String> problems) {
        if (problems.size() == 1) {
            throw new ConfigError(problems.get(0));
        }
        if (!problems.isEmpty()) {
            throw new ConfigError(problems.size() + " config problems:\n  - " + String.join("\n  - ", problems));
        }
    }

    /** The resolved framework config: the user's {@code daemonkit} block over the references. */
    public Config framework() {
        return user.withFallback(reference).resolve().getConfig("daemonkit");
    }

    public LauncherSettings launcherSettings() {
        return LauncherSettings.from(framework());
    }

    /** The instance names configured in the user's file (not the plugins' defaults), in file order. */
    public Set<String> configuredInstances() {
        return user.hasPath("daemons")
                ? new LinkedHashSet<>(user.getObject("daemons").keySet())
                : Set.of();
    }

    /** Where the user's block of a daemon was written, for messages. */
    public String originOf(String instance) {
        return Origins.of(user.getObject("daemons").get(instance));
    }

    /**
     * Resolves every daemon instance: those the plugins' reference.conf declare and those the user
     * configured. {@code pluginReferences} maps each installed plugin name to its reference.conf (the
     * whole file, holding {@code daemons.PLUGIN}). Instances of plugins not installed are returned in
     * {@code unknown} (message per instance) rather than thrown, so the caller decides.
     */
    public Resolution resolveDaemons(Map<String, Config> pluginReferences) {
        Config defaults = reference.getConfig("daemonkit.daemon-defaults");
        Config userDefaults = user.hasPath("daemonkit.daemon-defaults")
                ? user.getConfig("daemonkit.daemon-defaults").withFallback(defaults)
                : defaults;
        Set<String> names = new LinkedHashSet<>();
        // Every installed plugin runs its default instance (unless disabled), even without a reference.conf.
        names.addAll(pluginReferences.keySet());
        names.addAll(configuredInstances());
        List<String> problems = new ArrayList<>();
        List<DaemonSpec> specs = new ArrayList<>();
        List<String> unknown = new ArrayList<>();
        for (String name : names) {
            String path = "daemons." + name;
            Config userBlock = ConfigFactory.empty();
            if (user.hasPath(path) || user.hasPathOrNull(path)) {
                if (user.getIsNull(path) || user.getValue(path).valueType() != ConfigValueType.OBJECT) {
                    problems.add(path + " (" + originOf(name) + ") must be an object { ... }.");
                    continue;
                }
                userBlock = user.getConfig(path);
            }
            if (!INSTANCE_NAME.matcher(name).matches()) {
                problems.add(
                        path + " (" + originOf(name) + "): a daemon name must be lower-case letters, digits and dashes"
                                + " (it names the log file logs/NAME.log). Rename the block.");
                continue;
            }
            String plugin = userBlock.hasPath("plugin") ? userBlock.getString("plugin") : "";
            if (plugin.isEmpty()) {
                plugin = name;
            }
            Config pluginFile = pluginReferences.get(plugin);
            if (pluginFile == null && userBlock.hasPath("enabled") && !isTrue(userBlock, "enabled")) {
                continue; // switched off: whether its plugin is installed does not matter
            }
            if (pluginFile == null) {
                unknown.add(path + " (" + originOf(name) + ") runs plugin '" + plugin
                        + "', but no installed plugin has that name"
                        + " (installed: " + new TreeSet<>(pluginReferences.keySet())
                        + "). Install its jar in the plugins folder,"
                        + " set plugin = NAME, or remove the block.");
                continue;
            }
            Config pluginBlock = pluginFile.hasPath("daemons." + plugin)
                    ? pluginFile.getConfig("daemons." + plugin)
                    : ConfigFactory.empty();
            Config ref = pluginBlock.withFallback(defaults);
            List<String> blockProblems = ConfigValidator.check(userBlock.root(), ref.root(), path);
            if (!blockProblems.isEmpty()) {
                problems.addAll(blockProblems);
                continue;
            }
            try {
                Config block = userBlock
                        .withFallback(pluginBlock)
                        .withFallback(userDefaults)
                        .resolve();
                DaemonSettings settings =
                        DaemonSettings.from(name, block.withValue("plugin", ConfigValueFactory.fromAnyRef(plugin)));
                if (settings.enabled()) {
                    specs.add(new DaemonSpec(settings, block));
                }
            } catch (ConfigError e) {
                problems.add(e.getMessage());
            } catch (ConfigException e) {
                problems.add(path + ": " + e.getMessage());
            }
        }
        throwIfAny(problems);
        return new Resolution(ConnectionShares.share(specs, ConnectionShares.budget(framework())), unknown);
    }

    private static boolean isTrue(Config block, String key) {
        try {
            return block.getBoolean(key);
        } catch (ConfigException e) {
            return true; // not a boolean: let the validation below report it
        }
    }

    /** Resolved instances, and messages for instances whose plugin is not installed. */
    public record Resolution(List<DaemonSpec> daemons, List<String> unknownPlugins) {}

    /** The whole resolved config (for the logging setup, which reads {@code daemonkit.logging}). */
    public Config whole() {
        return user.withFallback(reference).resolve();
    }

    /** Exposed for tests. */
    ConfigObject userRoot() {
        return user.root();
    }
}
