package dev.daemonkit.internal.lifecycle;

/**
 * Told around every reload that runs ({@code HUP}, {@code bin/daemonkit reload}, {@code POST /reload}),
 * a rejected one too: the service manager's notifier. Called on the launcher's control thread; must
 * not block.
 */
public interface ReloadListener {
    /** A listener that does nothing: the launcher's until one is set. */
    ReloadListener NONE = new ReloadListener() {
        @Override
        public void reloading() {}

        @Override
        public void reloaded() {}
    };

    void reloading();

    void reloaded();
}
