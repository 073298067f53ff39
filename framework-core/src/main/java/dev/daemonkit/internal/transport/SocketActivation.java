package dev.daemonkit.internal.transport;

import dev.daemonkit.internal.config.Addresses;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Listening sockets passed by systemd (socket activation, sd_listen_fds(3)): {@code LISTEN_FDS}
 * descriptors from fd 3 on, named in {@code LISTEN_FDNAMES}, for the process {@code LISTEN_PID}. The
 * {@link ListenerRegistry} adopts one instead of binding: first the socket whose local address is the
 * daemon's configured address, else the one named {@code DAEMON.KEY} (e.g. {@code echo.listen}), else
 * the one named {@code DAEMON}. (systemd separates the names with ':', so a name cannot hold one.)
 *
 * <p>systemd owns the sockets: one nobody claims stays open, unregistered, with its connections waiting
 * in its backlog; one a daemon lets go of is paused and kept for the next daemon that claims it. Not
 * thread-safe: the registry calls it under its own lock.
 */
public final class SocketActivation {
    private static final Logger log = LoggerFactory.getLogger(SocketActivation.class);
    static final int FIRST_FD = 3; // SD_LISTEN_FDS_START

    /** No sockets passed. */
    public static final SocketActivation NONE = new SocketActivation(List.of());

    /** One passed socket; {@code listener} is created at its first adoption and kept for the next. */
    static final class Inherited {
        final int fd;
        final String name; // "" when unnamed
        final InetSocketAddress address;
        final ServerChannel channel;
        BoundListener listener;
        boolean claimed;

        Inherited(int fd, String name, InetSocketAddress address, ServerChannel channel) {
            this.fd = fd;
            this.name = name;
            this.address = address;
            this.channel = channel;
        }

        String describe() {
            return "fd " + fd + " (" + Addresses.format(address) + (name.isEmpty() ? "" : ", named '" + name + "'")
                    + ")";
        }
    }

    private final List<Inherited> sockets;
    private boolean reported;

    private SocketActivation(List<Inherited> sockets) {
        this.sockets = sockets;
    }

    /**
     * Whether {@code env} passes this process at least one socket, checked quietly (before the transport
     * exists: io_uring cannot adopt them, so the transport is chosen with this in mind).
     */
    public static boolean passesSockets(Map<String, String> env) {
        try {
            String pid = env.get("LISTEN_PID");
            String fds = env.get("LISTEN_FDS");
            return pid != null
                    && fds != null
                    && Long.parseLong(pid.trim()) == ProcessHandle.current().pid()
                    && Integer.parseInt(fds.trim()) > 0;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** Reads {@code LISTEN_PID}, {@code LISTEN_FDS} and {@code LISTEN_FDNAMES}; needs the epoll transport. */
    public static SocketActivation fromEnvironment(Map<String, String> env, Transport transport) {
        return fromEnvironment(env, transport, FIRST_FD);
    }

    /** @param firstFd where the descriptors start (3, except in tests that pass sockets of their own) */
    static SocketActivation fromEnvironment(Map<String, String> env, Transport transport, int firstFd) {
        String fds = env.get("LISTEN_FDS");
        if (fds == null || fds.isBlank()) {
            return NONE;
        }
        long self = ProcessHandle.current().pid();
        int count;
        try {
            String pid = env.get("LISTEN_PID");
            if (pid == null || Long.parseLong(pid.trim()) != self) {
                log.info(
                        "LISTEN_FDS={} is meant for process {}, not this one ({}): no socket is adopted",
                        fds,
                        pid,
                        self);
                return NONE;
            }
            count = Integer.parseInt(fds.trim());
        } catch (NumberFormatException e) {
            log.warn("LISTEN_PID/LISTEN_FDS are not numbers ({}): no socket is adopted", e.getMessage());
            return NONE;
        }
        if (count <= 0) {
            return NONE;
        }
        if (!transport.kind().equals("epoll")) {
            log.warn(
                    "systemd passed {} listening socket(s) (LISTEN_FDS), but the {} transport cannot adopt them:"
                            + " the daemons bind their addresses themselves, which fails where systemd holds them."
                            + " Socket activation needs the epoll transport: daemonkit.transport.native = auto, epoll"
                            + " or io_uring (which gives way to epoll then), on Linux.",
                    count,
                    transport.kind());
            return NONE;
        }
        String[] names = env.getOrDefault("LISTEN_FDNAMES", "").split(":", -1);
        List<Inherited> sockets = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int fd = firstFd + i;
            String name = i < names.length ? names[i].trim() : "";
            try {
                EpollServerSocketChannel ch = new EpollServerSocketChannel(fd);
                InetSocketAddress address = ch.localAddress();
                if (address == null) {
                    log.warn("systemd passed fd {}, which is not a bound TCP socket: left alone", fd);
                    continue;
                }
                sockets.add(new Inherited(fd, name, address, ch));
            } catch (RuntimeException e) {
                log.warn(
                        "systemd passed fd {}, which is not a listening TCP socket ({}): left alone", fd, e.toString());
            }
        }
        log.info(
                "socket activation: systemd passed {}",
                sockets.stream().map(Inherited::describe).toList());
        return new SocketActivation(List.copyOf(sockets));
    }

    /**
     * The unclaimed socket for listener {@code key} of {@code daemon} configured at {@code address}
     * (by address first, then by name), now claimed; or null: bind.
     */
    Inherited claim(InetSocketAddress address, String daemon, String key) {
        if (sockets.isEmpty()) {
            return null;
        }
        Inherited found = null;
        if (address.getPort() != 0) {
            found = first(s -> sameAddress(s.address, address));
        }
        if (found == null && key != null) {
            found = first(s -> s.name.equals(daemon + "." + key));
        }
        if (found == null) {
            found = first(s -> s.name.equals(daemon));
        }
        if (found != null) {
            found.claimed = true;
            log.info(
                    "daemon '{}': adopted the socket systemd passed as {} instead of binding {}",
                    daemon,
                    found.describe(),
                    Addresses.format(address));
        }
        return found;
    }

    private Inherited first(java.util.function.Predicate<Inherited> p) {
        for (Inherited s : sockets) {
            if (!s.claimed && p.test(s)) {
                return s;
            }
        }
        return null;
    }

    /** Equal, or both a wildcard on one port (systemd's {@code ListenStream=7000} is {@code [::]:7000}). */
    static boolean sameAddress(InetSocketAddress passed, InetSocketAddress configured) {
        if (passed.getPort() != configured.getPort()) {
            return false;
        }
        if (passed.getAddress() == null || configured.getAddress() == null) {
            return passed.equals(configured);
        }
        return passed.getAddress().equals(configured.getAddress())
                || (passed.getAddress().isAnyLocalAddress()
                        && configured.getAddress().isAnyLocalAddress());
    }

    /** {@code s} is free for the next claim (its daemon stopped; the listener is paused, not closed). */
    void giveBack(Inherited s) {
        s.claimed = false;
    }

    /** The claimed socket whose listener is {@code listener}, or null (a socket bound by this process). */
    Inherited of(BoundListener listener) {
        for (Inherited s : sockets) {
            if (s.listener == listener) {
                return s;
            }
        }
        return null;
    }

    /** Logs, once (after the start), each passed socket no daemon claimed. */
    void reportUnclaimed() {
        if (reported) {
            return;
        }
        reported = true;
        for (Inherited s : sockets) {
            if (!s.claimed) {
                log.warn(
                        "the socket systemd passed as {} is not claimed by any daemon: none listens at {}{}. It stays"
                                + " open (systemd owns it) and its connections wait; give a daemon that address"
                                + " or name the socket DAEMON or DAEMON.KEY (FileDescriptorName=).",
                        s.describe(),
                        Addresses.format(s.address),
                        s.name.isEmpty() ? "" : " and none is named '" + s.name + "'");
            }
        }
    }
}
