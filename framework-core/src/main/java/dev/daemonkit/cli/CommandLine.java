package dev.daemonkit.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code daemonkit [COMMAND] [ARGS] [--config FILE] [--plugins DIR] [--logs DIR]}. Paths default to
 * {@code conf/daemonkit.conf}, {@code plugins/} and {@code logs/} under the distribution's home
 * ({@code -Ddaemonkit.home}, else the working directory).
 */
record CommandLine(
        String command,
        List<String> args,
        Path config,
        boolean configExplicit,
        Path plugins,
        Path logs,
        String daemonOption,
        Path clientCert,
        Path clientKey,
        Path clientKeyPasswordFile) {

    static final String USAGE = """
            usage: daemonkit [run] [--config FILE] [--plugins DIR] [--logs DIR]
                   daemonkit status | reload | stop [NAME] | start NAME | restart NAME
                   daemonkit log-level NAME LEVEL [--daemon DAEMON]
                   daemonkit version | --version | help
              run        run the launcher in the foreground (the default); TERM or INT (Ctrl-C) stops it, HUP reloads
              status     the running launcher's daemons as a table
              reload     re-read the config and the plugins folder, apply what changed
              stop       stop the running launcher (drains like TERM); stop NAME stops one daemon
              start NAME, restart NAME   start or restart one daemon
              log-level NAME LEVEL       NAME a daemon, a logger or root; LEVEL TRACE..ERROR, OFF or inherit;
                                         --daemon D: logger NAME inside daemon D only
              version    the version and the commit this build was made from
              --config   HOCON config file (default: HOME/conf/daemonkit.conf); control commands read the
                         admin endpoint's address and token from it
              --plugins  folder of plugin jars (default: HOME/plugins)
              --logs     folder for log files (default: HOME/logs)
              --client-cert FILE --client-key FILE   control commands: the client certificate and key (PEM,
                         key PKCS#8) to present to an https admin endpoint with client-auth (optional|require)
              --client-key-password-file FILE   the password of an encrypted --client-key (BEGIN ENCRYPTED
                         PRIVATE KEY), on the file's first line (a file, so that it shows in no process list)
            JVM flags go in DAEMONKIT_OPTS. Exit codes: 0 done, 2 bad usage or config, 1 other errors
            (for control commands: no launcher running, or the launcher refused).""";

    /** Thrown for bad usage; the message says what was wrong. */
    static final class UsageError extends Exception {
        UsageError(String message) {
            super(message);
        }
    }

    private static final List<String> COMMANDS =
            List.of("run", "version", "help", "status", "reload", "stop", "start", "restart", "log-level");

    static CommandLine parse(String[] argv, Path home) throws UsageError {
        String command = "run";
        Path config = home.resolve("conf/daemonkit.conf");
        boolean explicit = false;
        Path plugins = home.resolve("plugins");
        Path logs = home.resolve("logs");
        String daemon = null;
        Path clientCert = null;
        Path clientKey = null;
        Path clientKeyPassword = null;
        List<String> args = new ArrayList<>();
        int i = 0;
        if (argv.length > 0 && !argv[0].startsWith("-")) {
            command = argv[0];
            i = 1;
        }
        if (!COMMANDS.contains(command)) {
            throw new UsageError("unknown command '" + command + "'");
        }
        for (; i < argv.length; i++) {
            String a = argv[i];
            if (a.equals("-h") || a.equals("--help")) {
                return new CommandLine("help", List.of(), config, false, plugins, logs, null, null, null, null);
            }
            if (a.equals("--version")) {
                return new CommandLine("version", List.of(), config, false, plugins, logs, null, null, null, null);
            }
            if (!a.startsWith("--")) {
                args.add(a);
                continue;
            }
            String name = a;
            String value = null;
            int eq = a.indexOf('=');
            if (eq > 0) {
                name = a.substring(0, eq);
                value = a.substring(eq + 1);
            }
            if (!name.matches(
                    "--config|--plugins|--logs|--daemon|--client-cert|--client-key|--client-key-password-file")) {
                throw new UsageError("unknown option '" + a + "'");
            }
            if (value == null) {
                if (i + 1 >= argv.length) {
                    throw new UsageError(name + " needs a value");
                }
                value = argv[++i];
            }
            switch (name) {
                case "--config" -> {
                    config = Path.of(value);
                    explicit = true;
                }
                case "--plugins" -> plugins = Path.of(value);
                case "--daemon" -> daemon = value;
                case "--client-cert" -> clientCert = Path.of(value);
                case "--client-key" -> clientKey = Path.of(value);
                case "--client-key-password-file" -> clientKeyPassword = Path.of(value);
                default -> logs = Path.of(value);
            }
        }
        int min = switch (command) {
            case "start", "restart" -> 1;
            case "log-level" -> 2;
            default -> 0;
        };
        int max = switch (command) {
            case "stop", "start", "restart" -> 1;
            case "log-level" -> 2;
            default -> 0;
        };
        if (args.size() < min || args.size() > max) {
            throw new UsageError("'" + command + "' takes " + (min == max ? min : min + " to " + max)
                    + " argument(s), got " + args.size() + (args.isEmpty() ? "" : ": " + args));
        }
        if (daemon != null && !command.equals("log-level")) {
            throw new UsageError("--daemon goes with log-level");
        }
        if ((clientCert == null) != (clientKey == null)) {
            throw new UsageError("--client-cert and --client-key go together");
        }
        if (clientKeyPassword != null && clientKey == null) {
            throw new UsageError("--client-key-password-file goes with --client-cert and --client-key");
        }
        if (clientCert != null && List.of("run", "version", "help").contains(command)) {
            throw new UsageError("--client-cert and --client-key go with control commands (status, reload, stop, ...)");
        }
        return new CommandLine(
                command,
                List.copyOf(args),
                config,
                explicit,
                plugins,
                logs,
                daemon,
                clientCert,
                clientKey,
                clientKeyPassword);
    }
}
