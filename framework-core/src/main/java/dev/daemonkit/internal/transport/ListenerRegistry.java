package dev.daemonkit.internal.transport;

import dev.daemonkit.api.PipelineInitializer;
import io.netty.channel.ChannelFuture;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;

/**
 * Every TCP server socket of the process, owned by the launcher and keyed by address. A daemon
 * attaches its protocol to an address; a new version of the same daemon attaches to the socket the
 * old one used, so a hot swap never closes or re-binds a port.
 */
public final class ListenerRegistry {
    private final Transport transport;
    private final ConnectionBudget budget;
    private final SocketActivation activation;
    private final Map<InetSocketAddress, Entry> byAddress = new HashMap<>();

    private static final class Entry {
        final BoundListener listener;
        String daemon;
        ConnectionOwner owner;

        Entry(BoundListener listener) {
            this.listener = listener;
        }
    }

    /** Thrown when an address is held by another daemon of this process. */
    public static final class AddressTaken extends Exception {
        public AddressTaken(String message) {
            super(message, null, false, false);
        }
    }

    /** @param budget paused and resumed with the process's connection budget: every socket bound here */
    public ListenerRegistry(Transport transport, ConnectionBudget budget) {
        this(transport, budget, SocketActivation.NONE);
    }

    /** @param activation the sockets systemd passed: adopted, where one fits, instead of binding */
    public ListenerRegistry(Transport transport, ConnectionBudget budget, SocketActivation activation) {
        this.transport = transport;
        this.budget = budget;
        this.activation = activation;
    }

    /** As {@link #attach(InetSocketAddress, String, String, ConnectionOwner, PipelineInitializer)}, for no listener key. */
    public BoundListener attach(
            InetSocketAddress address, String daemon, ConnectionOwner owner, PipelineInitializer protocol)
            throws AddressTaken, BindFailed {
        return attach(address, daemon, null, owner, protocol);
    }

    /**
     * Attaches {@code owner} (a version of daemon {@code daemon}) to {@code address}: takes over the
     * socket if this daemon already has one there, adopts a socket systemd passed for that address or
     * for {@code daemon}'s listener {@code key} ({@link SocketActivation}), binds a new one otherwise
     * (waiting for the bind). Returns the bound listener; throws {@link AddressTaken} when another daemon of this process
     * holds the address, {@link BindFailed} (with the bind's cause) when it cannot be bound.
     */
    public synchronized BoundListener attach(
            InetSocketAddress address, String daemon, String key, ConnectionOwner owner, PipelineInitializer protocol)
            throws AddressTaken, BindFailed {
        Entry e = address.getPort() == 0 ? null : byAddress.get(address);
        if (e != null) {
            if (!e.daemon.equals(daemon)) {
                throw new AddressTaken("daemon '" + e.daemon + "' of this launcher listens there");
            }
            e.owner = owner;
            e.listener.attach(owner, protocol);
            return e.listener;
        }
        BoundListener listener = open(address, daemon, key, owner, protocol);
        Entry created = new Entry(listener);
        created.daemon = daemon;
        created.owner = owner;
        byAddress.put(listener.bound(), created);
        if (address.getPort() != 0) {
            byAddress.put(address, created);
        }
        return listener;
    }

    /** The daemon of this process whose socket is at {@code address}, or null. */
    public synchronized String holder(InetSocketAddress address) {
        Entry e = byAddress.get(address);
        return e == null ? null : e.daemon;
    }

    /**
     * Binds a socket for {@code daemon} at {@code address} with nothing attached yet (a connection
     * accepted before {@link #attach} is closed at once): a reload binds every new address before it
     * changes anything, and {@link #releaseUnattached} closes the socket if it is abandoned.
     */
    public synchronized BoundListener reserve(InetSocketAddress address, String daemon)
            throws AddressTaken, BindFailed {
        Entry e = byAddress.get(address);
        if (e != null) {
            if (!e.daemon.equals(daemon)) {
                throw new AddressTaken("daemon '" + e.daemon + "' of this launcher listens there");
            }
            return e.listener;
        }
        BoundListener listener = open(address, daemon, null, null, null);
        Entry created = new Entry(listener);
        created.daemon = daemon;
        byAddress.put(address, created);
        if (listener.bound() != null) {
            byAddress.put(listener.bound(), created); // an adopted socket may be elsewhere than configured
        }
        return listener;
    }

    /**
     * A listener with {@code owner} attached (none when null), on a socket systemd passed for it or on
     * a new one bound here.
     */
    private BoundListener open(
            InetSocketAddress address, String daemon, String key, ConnectionOwner owner, PipelineInitializer protocol)
            throws BindFailed {
        SocketActivation.Inherited passed = activation.claim(address, daemon, key);
        BoundListener listener;
        if (passed == null) {
            listener = new BoundListener(address);
        } else {
            if (passed.listener == null) {
                passed.listener = new BoundListener(address, passed.channel);
            }
            listener = passed.listener;
        }
        if (owner != null) {
            listener.attach(owner, protocol);
        }
        try {
            bindNew(listener);
        } catch (BindFailed e) {
            if (passed != null) {
                activation.giveBack(passed);
            }
            throw e;
        }
        return listener;
    }

    /**
     * Binds a new socket (or registers an adopted one) and waits; it then pauses and resumes with the
     * connection budget.
     */
    private void bindNew(BoundListener listener) throws BindFailed {
        ChannelFuture f = listener.bind(transport).awaitUninterruptibly();
        if (!f.isSuccess()) {
            listener.close();
            throw new BindFailed(f.cause());
        }
        budget.register(f.channel());
    }

    /** Closes {@code listener}; a socket systemd passed is paused and kept for the next daemon that claims it. */
    private void close(BoundListener listener) {
        listener.close();
        SocketActivation.Inherited passed = activation.of(listener);
        if (passed != null) {
            budget.unregister(passed.channel); // a resume of the budget must not restart its accepting
            activation.giveBack(passed);
        }
    }

    /** Logs each socket systemd passed that no daemon claimed (once; call when the start has bound everything). */
    public synchronized void reportUnclaimed() {
        activation.reportUnclaimed();
    }

    /** Closes {@code listener} if nothing is attached to it (a reserved socket nobody took). */
    public synchronized void releaseUnattached(BoundListener listener) {
        Entry e = entryOf(listener);
        if (e != null && e.owner == null) {
            byAddress.values().removeIf(x -> x == e);
            close(listener);
        }
    }

    /** The bind error of {@link #attach}. */
    public static final class BindFailed extends Exception {
        public BindFailed(Throwable cause) {
            super(cause.getMessage(), cause, false, false);
        }
    }

    /**
     * Closes the socket at {@code listener}'s address if {@code owner} is still the one attached
     * (a daemon that stops for good); does nothing if a newer version took it over.
     */
    public synchronized void release(BoundListener listener, ConnectionOwner owner) {
        Entry e = entryOf(listener);
        if (e == null || e.owner != owner) {
            return;
        }
        byAddress.values().removeIf(x -> x == e);
        close(listener);
    }

    /** Detaches {@code owner} (new connections are refused) but keeps the socket bound. */
    public synchronized void detach(BoundListener listener, ConnectionOwner owner) {
        Entry e = entryOf(listener);
        if (e != null && e.owner == owner) {
            e.owner = null;
            listener.detach();
        }
    }

    private Entry entryOf(BoundListener listener) {
        for (Entry e : byAddress.values()) {
            if (e.listener == listener) {
                return e;
            }
        }
        return null;
    }

    /** Closes every socket (the launcher is stopping). */
    public synchronized void closeAll() {
        for (Entry e : byAddress.values()) {
            e.listener.close();
        }
        byAddress.clear();
    }
}
