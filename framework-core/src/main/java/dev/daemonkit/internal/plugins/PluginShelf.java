package dev.daemonkit.internal.plugins;

import com.typesafe.config.Config;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The plugin sources a launcher has loaded from its plugins folder, and what it knows of that folder:
 * each source's fingerprint when last seen, the fingerprints that failed to load (not tried again
 * until the file changes), the failures to show the operator, and the folder's reading problems.
 * Holds the one rule on plugin names: a name provided by a source already loaded makes the later
 * source fail.
 *
 * <p>Used on the launcher's control thread only; {@link #failures} and the counters ({@link #scanErrors},
 * {@link #looks}, {@link #loads}) may be read from any thread.
 */
public final class PluginShelf implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PluginShelf.class);

    private final Path dir;
    private final PluginCopies copies;
    private final PluginScanner scanner;
    private final Map<Path, LoadedSource> sources = new LinkedHashMap<>();
    private final Map<Path, String> lastSeen = new HashMap<>();
    private final Map<Path, String> failedFingerprints = new HashMap<>();
    /** The folder's reading problems reported and not yet gone, by path (the folder or one source). */
    private final Map<Path, String> problems = new HashMap<>();

    private final LongAdder scanErrors = new LongAdder();
    private final LongAdder looks = new LongAdder();
    private final LongAdder loads = new LongAdder();
    private volatile List<PluginFailure> failures = List.of();

    private PluginShelf(Path dir, PluginCopies copies, ClassLoader framework) {
        this.dir = dir;
        this.copies = copies;
        this.scanner = new PluginScanner(framework, copies.dir());
    }

    /**
     * A shelf for the plugins in {@code dir}, loading them from private copies in a folder of its own
     * under {@code tmp} (after removing the folders of launchers that died without removing theirs).
     * {@code framework} is the loader the plugins' shared packages come from.
     */
    public static PluginShelf open(Path dir, Path tmp, ClassLoader framework) {
        PluginCopies.removeLeftovers(tmp);
        try {
            return new PluginShelf(dir, PluginCopies.create(tmp), framework);
        } catch (IOException e) {
            throw new IllegalStateException(
                    "cannot create a folder for plugin copies in " + tmp + ": " + e
                            + ". Make it writable, or point java.io.tmpdir elsewhere (DAEMONKIT_OPTS=\"-Djava.io.tmpdir=DIR\")",
                    e);
        }
    }

    /** A source whose file is new or changed and ready to load, with the fingerprint it has now. */
    public record Ready(Path path, String fingerprint) {}

    /**
     * What one {@link #look} found: sources ready to load (new or changed, in folder order), loaded
     * sources whose file is gone, and this look's problem (null if it read everything).
     */
    public record Look(List<Ready> ready, List<LoadedSource> gone, String problem) {
        public boolean changed() {
            return !ready.isEmpty() || !gone.isEmpty();
        }
    }

    /** Loads every source in the folder (at start). A folder that is missing or unreadable loads nothing. */
    public void loadAll() {
        if (!Files.isDirectory(dir)) {
            log.warn("plugins folder {} does not exist: no plugins loaded. Create it and put plugin jars there.", dir);
            return;
        }
        try (Stream<Path> s = Files.list(dir)) {
            s.filter(p -> !Files.isDirectory(p)
                            && !p.getFileName().toString().endsWith(".jar")
                            && !p.getFileName().toString().startsWith("."))
                    .forEach(p -> log.info("ignoring {}: a plugin is a .jar file or a folder of jars", p));
        } catch (IOException e) {
            log.debug("listing {} failed", dir, e);
        }
        for (Path path : PluginScanner.sources(dir)) {
            String fp = PluginScanner.fingerprint(path);
            lastSeen.put(path, fp);
            LoadedSource loaded = load(path, fp, null);
            if (loaded != null) {
                sources.put(path, loaded);
            }
        }
    }

    /**
     * One look at the folder. A new or changed source is ready once its fingerprint has been the same
     * at two looks in a row ({@code immediately}: at this look, for a reload); a fingerprint that failed
     * to load is not ready again until the file changes.
     *
     * <p>A look that cannot read the folder, or a source's files, finds nothing gone: an I/O error (out
     * of file descriptors, a stale mount) must never read as "every plugin removed". Each such problem
     * is logged once when it appears and once when it is gone, and every failed look is counted
     * ({@link #scanErrors}).
     */
    public Look look(boolean immediately) {
        try {
            return lookUncounted(immediately);
        } finally {
            looks.increment();
        }
    }

    private Look lookUncounted(boolean immediately) {
        List<Path> present;
        try {
            present = PluginScanner.list(dir);
        } catch (NoSuchFileException e) {
            if (sources.isEmpty()) {
                return new Look(
                        List.of(), List.of(), report(Map.of())); // no folder and nothing from it: nothing to keep
            }
            return new Look(
                    List.of(),
                    List.of(),
                    report(Map.of(
                            dir,
                            "plugins folder " + dir + " does not exist any more;"
                                    + " the " + sources.size()
                                    + " plugin file(s) loaded from it stay loaded and their daemons keep running."
                                    + " To remove a plugin, delete its file from the folder, not the folder")));
        } catch (IOException | RuntimeException e) {
            return new Look(
                    List.of(),
                    List.of(),
                    report(Map.of(
                            dir,
                            "plugins folder " + dir + " cannot be listed (" + e
                                    + "); hot deploy changes nothing until it can, every daemon keeps running")));
        }
        Map<Path, String> now = new LinkedHashMap<>();
        List<Ready> ready = new ArrayList<>();
        for (Path path : present) {
            String fp;
            try {
                fp = PluginScanner.fingerprintOrThrow(path);
            } catch (IOException | RuntimeException e) {
                now.put(
                        path,
                        "plugin file " + path + " cannot be read (" + e + "); what runs from it stays as it is"
                                + " until it can");
                continue;
            }
            LoadedSource loaded = sources.get(path);
            String previous = lastSeen.put(path, fp);
            boolean unchanged = loaded != null && loaded.fingerprint().equals(fp);
            boolean failedBefore = fp.equals(failedFingerprints.get(path)); // wait for a new version
            boolean settled = immediately || fp.equals(previous); // else still being copied: look again
            if (!unchanged && !failedBefore && settled) {
                ready.add(new Ready(path, fp));
            }
        }
        List<LoadedSource> gone = new ArrayList<>();
        for (Map.Entry<Path, LoadedSource> e : sources.entrySet()) {
            if (!present.contains(e.getKey())) {
                gone.add(e.getValue());
            }
        }
        lastSeen.keySet().retainAll(present);
        failedFingerprints.keySet().retainAll(present);
        return new Look(ready, gone, report(now));
    }

    /** Logs each problem when it appears and says so when one is gone; counts a look with problems. */
    private String report(Map<Path, String> now) {
        for (var e : now.entrySet()) {
            if (!e.getValue().equals(problems.get(e.getKey()))) {
                log.error(
                        "hot deploy: {}. Counted in daemonkit_plugin_scan_errors_total; logged again only once it"
                                + " is readable.",
                        e.getValue());
            }
        }
        for (Path p : problems.keySet()) {
            if (!now.containsKey(p)) {
                log.info("hot deploy: {} can be read again; watching it as before", p);
            }
        }
        problems.clear();
        problems.putAll(now);
        if (now.isEmpty()) {
            return null;
        }
        scanErrors.increment();
        return String.join("; ", now.values());
    }

    /**
     * Loads the source at {@code path} (beside {@code replacing}, its loaded version, or null) and
     * applies the plugin-name rule. Returns the source with the plugins it may provide, or null when
     * it provides none (its fingerprint is then not tried again). Records its failures either way.
     */
    public LoadedSource load(Path path, String fingerprint, LoadedSource replacing) {
        loads.increment();
        LoadedSource loaded = scanner.load(path);
        List<PluginFailure> found = new ArrayList<>(loaded.failures());
        List<InstalledPlugin> kept = new ArrayList<>();
        for (InstalledPlugin p : loaded.plugins()) {
            InstalledPlugin other = sources.values().stream()
                    .filter(s -> s != replacing)
                    .flatMap(s -> s.plugins().stream())
                    .filter(o -> o.name().equals(p.name()))
                    .findFirst()
                    .orElse(null);
            if (other == null) {
                kept.add(p);
                continue;
            }
            PluginFailure f = new PluginFailure(
                    path,
                    "it provides plugin '" + p.name() + "', which " + other.source()
                            + " provides already. Remove one of them.");
            log.error("plugin {} not loaded: {} The other plugins are not affected.", path, f.reason());
            found.add(f);
        }
        List<PluginFailure> all = new ArrayList<>(failures);
        all.removeIf(f -> f.source().equals(path));
        all.addAll(found);
        failures = List.copyOf(all);
        if (kept.isEmpty()) {
            PluginScanner.discard(loaded);
            failedFingerprints.put(path, fingerprint);
            return null;
        }
        return new LoadedSource(path, loaded.fingerprint(), loaded.loader(), loaded.copy(), kept, loaded.failures());
    }

    /** The source loaded from {@code path}, or null. */
    public LoadedSource get(Path path) {
        return sources.get(path);
    }

    /** Puts {@code source} on the shelf, in place of the version of its path if there is one. */
    public void put(LoadedSource source) {
        sources.put(source.source(), source);
    }

    /**
     * Takes {@code refused} (a new version that does not fit) off the shelf again, puts {@code kept} back
     * and discards the refused one; its fingerprint is not tried again.
     */
    public void refuse(LoadedSource refused, LoadedSource kept, String fingerprint) {
        sources.put(kept.source(), kept);
        PluginScanner.discard(refused);
        failedFingerprints.put(refused.source(), fingerprint);
    }

    /** Takes the source off the shelf; the caller unloads it once its daemons are gone. */
    public void remove(LoadedSource source) {
        sources.remove(source.source());
    }

    /** Every plugin on the shelf, by name, with its reference.conf. */
    public Map<String, Config> references() {
        Map<String, Config> refs = new LinkedHashMap<>();
        for (LoadedSource s : sources.values()) {
            for (InstalledPlugin p : s.plugins()) {
                refs.put(p.name(), p.reference());
            }
        }
        return refs;
    }

    /** The plugin named {@code name}; throws if there is none (a resolved daemon always has one). */
    public InstalledPlugin plugin(String name) {
        for (LoadedSource s : sources.values()) {
            for (InstalledPlugin p : s.plugins()) {
                if (p.name().equals(name)) {
                    return p;
                }
            }
        }
        throw new IllegalStateException("no installed plugin " + name);
    }

    /** The plugin files and providers that could not be loaded, and why. */
    public List<PluginFailure> failures() {
        return failures;
    }

    /** Looks at the folder that failed (listing it or reading a source), since the start. */
    public long scanErrors() {
        return scanErrors.sum();
    }

    /** Looks at the folder since the start, failed or not: a test waits for a few instead of sleeping. */
    public long looks() {
        return looks.sum();
    }

    /** Sources loaded (or tried) since the start, the ones at start included. */
    public long loads() {
        return loads.sum();
    }

    /** Closes every loader and deletes every private copy and their folder (the launcher is stopping). */
    @Override
    public void close() {
        for (LoadedSource s : sources.values()) {
            PluginScanner.discard(s);
        }
        sources.clear();
        copies.close();
    }
}
