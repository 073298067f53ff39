package dev.daemonkit.internal.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Checks a user's config block against its reference: every key must be known and of the reference's
 * kind. Durations and sizes must carry a unit, since a bare number would silently mean milliseconds or
 * bytes. An empty object in the reference, or an object named {@code loggers}, accepts any keys.
 */
public final class ConfigValidator {
    private static final Pattern HAS_UNIT = Pattern.compile("^\\s*[0-9.]+\\s*[a-zA-Z]+\\s*$");

    private ConfigValidator() {}

    /** Returns one message per problem; empty when the block is fine. */
    public static List<String> check(ConfigObject user, ConfigObject reference, String path) {
        List<String> problems = new ArrayList<>();
        walk(user, reference, path, problems);
        return problems;
    }

    private static void walk(ConfigObject user, ConfigObject reference, String path, List<String> problems) {
        for (Map.Entry<String, ConfigValue> e : user.entrySet()) {
            String key = e.getKey();
            ConfigValue value = e.getValue();
            String full = path + "." + ConfigUtil.quoteString(key).replaceAll("^\"([a-zA-Z0-9_-]+)\"$", "$1");
            ConfigValue ref = reference.get(key);
            if (ref == null) {
                problems.add("unknown key " + full + " (" + Origins.of(value) + "). Known keys there: "
                        + new TreeSet<>(reference.keySet()) + ". Check the spelling, or remove it.");
                continue;
            }
            checkKind(full, value, ref, problems);
        }
    }

    private static void checkKind(String full, ConfigValue value, ConfigValue ref, List<String> problems) {
        ConfigValueType want = ref.valueType();
        ConfigValueType got = value.valueType();
        String where = " (" + Origins.of(value) + ")";
        switch (want) {
            case OBJECT -> {
                if (got != ConfigValueType.OBJECT) {
                    problems.add(full + " = " + value.render() + where + " must be an object { ... }.");
                } else if (!((ConfigObject) ref).isEmpty() && !full.endsWith(".loggers")) {
                    walk((ConfigObject) value, (ConfigObject) ref, full, problems);
                }
            }
            case LIST -> {
                if (got != ConfigValueType.LIST) {
                    problems.add(full + " = " + value.render() + where + " must be a list [ ... ].");
                }
            }
            case NUMBER -> {
                if (!(got == ConfigValueType.NUMBER || (got == ConfigValueType.STRING && isNumber(value)))) {
                    problems.add(
                            full + " = " + value.render() + where + " must be a number, like " + ref.render() + ".");
                }
            }
            case BOOLEAN -> {
                if (!(got == ConfigValueType.BOOLEAN || (got == ConfigValueType.STRING && isBoolean(value)))) {
                    problems.add(full + " = " + value.render() + where + " must be true or false.");
                }
            }
            case STRING -> {
                if (got == ConfigValueType.OBJECT || got == ConfigValueType.LIST) {
                    problems.add(full + " = " + value.render() + where + " must be a single value, like " + ref.render()
                            + ".");
                } else if (isDuration(ref)) {
                    checkUnitValue(full, value, where, "a duration", "30 s or 1 minute", "ms", true, problems);
                } else if (isSize(ref)) {
                    checkUnitValue(full, value, where, "a size", "64 KiB or 1 MB", "bytes", false, problems);
                }
            }
            default -> {}
        }
    }

    private static void checkUnitValue(
            String full,
            ConfigValue value,
            String where,
            String what,
            String example,
            String bareMeaning,
            boolean duration,
            List<String> problems) {
        if (value.valueType() == ConfigValueType.NUMBER) {
            problems.add(full + " = " + value.render() + where + " has no unit and would mean " + value.render() + " "
                    + bareMeaning + ". Write " + example + ".");
            return;
        }
        try {
            Config c = ConfigFactory.empty().withValue("v", value);
            if (duration) {
                c.getDuration("v");
            } else {
                c.getBytes("v");
            }
        } catch (ConfigException e) {
            problems.add(full + " = " + value.render() + where + " must be " + what + ", like " + example + ".");
        }
    }

    private static boolean isNumber(ConfigValue v) {
        try {
            Double.parseDouble(String.valueOf(v.unwrapped()).trim());
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static boolean isBoolean(ConfigValue v) {
        String s = String.valueOf(v.unwrapped()).trim();
        return s.matches("true|false|yes|no|on|off");
    }

    private static boolean isDuration(ConfigValue ref) {
        if (!HAS_UNIT.matcher(String.valueOf(ref.unwrapped())).matches()) {
            return false;
        }
        try {
            ConfigFactory.empty().withValue("v", ref).getDuration("v");
            return true;
        } catch (ConfigException e) {
            return false;
        }
    }

    private static boolean isSize(ConfigValue ref) {
        if (!HAS_UNIT.matcher(String.valueOf(ref.unwrapped())).matches()) {
            return false;
        }
        try {
            ConfigFactory.empty().withValue("v", ref).getBytes("v");
            return true;
        } catch (ConfigException e) {
            return false;
        }
    }
}
