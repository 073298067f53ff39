package dev.daemonkit.launcher;

import java.nio.file.Path;

/**
 * {@code daemonkit [run] [--config FILE] [--plugins DIR] [--logs DIR]}, {@code version}, {@code help}.
 * Paths default to {@code conf/daemonkit.conf}, {@code plugins/} and {@code logs/} under the
 * distribution's home ({@code -Ddaemonkit.home}, else the working directory).
 */
record CommandLine(String command, Path config, boolean configExplicit, Path plugins, Path logs) {

    static final String USAGE = """
            usage: daemonkit [run] [--config FILE] [--plugins DIR] [--logs DIR]
                   daemonkit version
                   daemonkit help
              run        run the launcher in the foreground (the default); TERM or INT (Ctrl-C) stops it
              --config   HOCON config file (default: HOME/conf/daemonkit.conf)
              --plugins  folder of plugin jars (default: HOME/plugins)
              --logs     folder for log files (default: HOME/logs)
            JVM flags go in DAEMONKIT_OPTS. Exit codes: 0 clean stop, 2 bad usage or config, 1 other fatal error.""";

    /** Thrown for bad usage; the message says what was wrong. */
    static final class UsageError extends Exception {
        UsageError(String message) {
            super(message);
        }
    }

    static CommandLine parse(String[] args, Path home) throws UsageError {
        String command = "run";
        Path config = home.resolve("conf/daemonkit.conf");
        boolean explicit = false;
        Path plugins = home.resolve("plugins");
        Path logs = home.resolve("logs");
        int i = 0;
        if (args.length > 0 && !args[0].startsWith("-")) {
            command = args[0];
            i = 1;
        }
        if (!command.matches("run|version|help")) {
            throw new UsageError("unknown command '" + command + "'");
        }
        for (; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-h") || a.equals("--help")) {
                return new CommandLine("help", config, false, plugins, logs);
            }
            String name = a;
            String value = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                name = a.substring(0, eq);
                value = a.substring(eq + 1);
            }
            if (!name.matches("--config|--plugins|--logs")) {
                throw new UsageError("unknown option '" + a + "'");
            }
            if (value == null) {
                if (i + 1 >= args.length) {
                    throw new UsageError(name + " needs a value");
                }
                value = args[++i];
            }
            switch (name) {
                case "--config" -> {
                    config = Path.of(value);
                    explicit = true;
                }
                case "--plugins" -> plugins = Path.of(value);
                default -> logs = Path.of(value);
            }
        }
        return new CommandLine(command, config, explicit, plugins, logs);
    }
}
