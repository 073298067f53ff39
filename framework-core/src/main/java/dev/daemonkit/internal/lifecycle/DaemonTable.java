package dev.daemonkit.internal.lifecycle;

import dev.daemonkit.api.DaemonState;
import dev.daemonkit.logging.LoggingSystem;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The launcher's daemons: one {@link DaemonSlot} per daemon name, and the configured daemons that
 * could not be resolved (their plugin is not installed). Changed on the launcher's control thread;
 * after a change it {@link #publish publishes} an immutable list of {@link DaemonStatus} records,
 * which status, health and metrics read from any thread.
 */
public final class DaemonTable {
    private final Map<String, DaemonSlot> slots = new LinkedHashMap<>();
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final LoggingSystem logging;
    private volatile List<DaemonStatus> statuses = List.of();
    private volatile List<String> unresolved = List.of();

    /**
     * Told about daemons coming and going (metrics): on the control thread as they are added and
     * removed, and on the caller's thread by {@link #addListener} for those already there.
     */
    public interface Listener {
        void added(String daemon);

        void removed(String daemon);
    }

    /** @param logging gets a log output per daemon (null in tests: no logging system) */
    DaemonTable(LoggingSystem logging) {
        this.logging = logging;
    }

    synchronized DaemonSlot get(String name) {
        return slots.get(name);
    }

    /** A copy of the entries, in the order they were added. */
    synchronized List<DaemonSlot> slots() {
        return List.copyOf(slots.values());
    }

    /** Adds an entry (its log output first), publishes, and tells the listeners. */
    void add(DaemonSlot slot) {
        if (logging != null) {
            logging.addDaemon(slot.name, slot.spec.block().getConfig("logging"));
        }
        synchronized (this) {
            slots.put(slot.name, slot);
        }
        publish();
        listeners.forEach(l -> l.added(slot.name));
    }

    /** Removes an entry if it is still the one of its name; its instance is the caller's to stop. */
    void remove(DaemonSlot slot) {
        synchronized (this) {
            if (!slots.remove(slot.name, slot)) {
                return;
            }
        }
        publish();
        listeners.forEach(l -> l.removed(slot.name));
        if (logging != null) {
            logging.removeDaemon(slot.name);
        }
    }

    /** Publishes a record of every entry as it is now. Called after a change, from any thread. */
    synchronized void publish() {
        List<DaemonStatus> now = new ArrayList<>();
        for (DaemonSlot slot : slots.values()) {
            now.add(DaemonStatus.of(slot));
        }
        statuses = List.copyOf(now);
    }

    void unresolved(List<String> messages) {
        unresolved = List.copyOf(messages);
    }

    /** The latest published records, in the order the daemons were added. */
    public List<DaemonStatus> statuses() {
        return statuses;
    }

    /** The latest published record of {@code name}, or null. */
    public DaemonStatus status(String name) {
        for (DaemonStatus s : statuses) {
            if (s.name().equals(name)) {
                return s;
            }
        }
        return null;
    }

    /** One message per configured daemon whose plugin is not installed. */
    public List<String> unresolved() {
        return unresolved;
    }

    /** Adds a listener and tells it about every daemon already there. */
    public void addListener(Listener listener) {
        listeners.add(listener);
        statuses.forEach(s -> listener.added(s.name()));
    }

    /** The start's one-line summary: how many daemons run, how many do not, how many plugin files failed. */
    String startSummary(long millis, int pluginFileFailures) {
        List<DaemonStatus> all = statuses();
        long up = all.stream().filter(v -> v.state() == DaemonState.RUNNING).count();
        long down = all.size() - up + unresolved().size();
        return "Daemonkit started in " + millis + " ms: " + up + " daemon(s) running"
                + (down + pluginFileFailures == 0
                        ? ""
                        : ", " + down + " not running, " + pluginFileFailures
                                + " plugin file(s) not loaded (see the errors above)");
    }
}
