package dev.daemonkit.samples.presence;

import java.util.concurrent.CompletionStage;

/**
 * Where a presence daemon's names and rooms meet other launchers' ({@code broker} in the config): {@link
 * MemoryBroker}, this launcher only (the default), or {@link RedisBroker}, launchers sharing one Redis. The daemon
 * keeps its own members and delivers to them itself; a broker makes names unique across launchers, carries the events
 * of a room to the other launchers with members in it, and answers WHO and ROOMS for all of them.
 *
 * <p>Called from the sessions' event loops. Nothing here may block: what needs an answer from elsewhere returns a
 * stage, which may complete on another thread (the session goes back to its own loop itself).
 */
interface Broker {

    /**
     * Claims {@code name} for a user of this launcher (already unique on this launcher). Completes with null when the
     * name is theirs, or with an error reply ({@code CODE text}) when it is not.
     */
    CompletionStage<String> claim(String name);

    /** The user with {@code name} went offline here (after leaving its rooms). */
    void released(String name);

    /**
     * A user of this launcher is about to join {@code room}: completes once the room's events from other launchers
     * reach this one (at once if they already do). Every call is matched by one {@link #left} or {@link #unsubscribe}.
     */
    CompletionStage<?> subscribe(String room);

    /** A {@link #subscribe} whose join did not happen (the room was full, the user went away). */
    void unsubscribe(String room);

    /** {@code name} joined {@code room} here; {@code rooms} are all of its rooms now, separated by spaces. */
    void joined(String room, String name, String rooms);

    /** {@code name} left {@code room} here; {@code rooms} are the rooms it is still in. Ends one {@link #subscribe}. */
    void left(String room, String name, String rooms);

    /**
     * Carries one event of {@code room} (a protocol line without its newline, {@code EVENT KIND ROOM NAME [TEXT]}) to
     * the other launchers. This launcher's members get it from the caller, not from here.
     */
    void forward(String room, String line);

    /**
     * Sends now what the calling event loop's {@link #forward}s gathered; called at the end of each read from a
     * connection. A broker that gathers forwards also sends them by itself at the end of the loop's turn, so a forward
     * made elsewhere (a timer, a closing connection) is not held back.
     */
    default void flush() {}

    /** Null, or why a SAY is refused now (too much on its way to other launchers). */
    String busy();

    /** The answer to {@code WHO room} (without "OK WHO"). */
    CompletionStage<String> who(String room);

    /** The answer to {@code ROOMS} (without "OK ROOMS"). */
    CompletionStage<String> rooms();

    /** Figures for the daemon's periodic stats line (starting with "; "), or "" when there is nothing to add. */
    default String stats() {
        return "";
    }

    /** The daemon stopped: let go of every connection and key. Called once. */
    default void close() {}
}
