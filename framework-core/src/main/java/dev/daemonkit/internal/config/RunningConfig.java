package dev.daemonkit.internal.config;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The config a launcher runs on now: the loaded file and the framework's settings from it. It
 * changes only when a reload {@link #switchTo switches}; anyone may read it from any thread.
 */
public final class RunningConfig {
    private final Path file;
    private final boolean explicit;
    /** Whether the file existed at start: then a reload that does not find it is refused. */
    private final boolean existed;

    private volatile ConfigLoader loader;
    private volatile LauncherSettings settings;

    /** @param explicit the file was named on the command line (it must exist) */
    public RunningConfig(ConfigLoader loader, Path file, boolean explicit) {
        this.loader = loader;
        this.settings = loader.launcherSettings();
        this.file = file;
        this.explicit = explicit;
        this.existed = Files.exists(file);
    }

    public ConfigLoader loader() {
        return loader;
    }

    public LauncherSettings settings() {
        return settings;
    }

    /**
     * Reads and checks the file again, changing nothing. Throws a {@link ConfigError} when it does not
     * validate, or when it was there at start (or named on the command line) and is gone now.
     */
    public ConfigLoader reread(ClassLoader frameworkLoader) {
        if (!Files.exists(file) && (explicit || existed)) {
            throw new ConfigError("config file " + file + " does not exist any more (deleted or moved?)."
                    + " Put it back, then reload again; until then the daemons run on as they are");
        }
        ConfigLoader fresh = ConfigLoader.load(file, explicit, frameworkLoader);
        fresh.launcherSettings(); // throws now, before anything changes, if the framework's settings are wrong
        return fresh;
    }

    /** Runs on {@code fresh} from now on; of its framework settings, only those a reload may change. */
    public void switchTo(ConfigLoader fresh) {
        settings = settings.withReloadable(fresh.launcherSettings());
        loader = fresh;
    }
}
