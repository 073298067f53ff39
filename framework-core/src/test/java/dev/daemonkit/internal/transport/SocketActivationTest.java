package dev.daemonkit.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.daemonkit.api.PipelineInitializer;
import io.netty.channel.Channel;
import io.netty.channel.epoll.Epoll;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Sockets passed as systemd passes them (here listening sockets this test opened, standing for fds 3
 * and on): adopted by address or name instead of bound, kept open when a daemon lets go of one.
 */
class SocketActivationTest {
    private final List<io.netty.channel.unix.Socket> passed = new ArrayList<>();
    private final List<io.netty.channel.unix.Socket> fillers = new ArrayList<>();
    private Transport transport;
    private ListenerRegistry registry;
    private final PipelineInitializer nothing = p -> {};

    private static final class Version implements ConnectionOwner {
        final LinkedBlockingQueue<Channel> accepted = new LinkedBlockingQueue<>();

        @Override
        public void accept(Channel connection, PipelineInitializer protocol) {
            accepted.add(connection);
            connection.close();
        }
    }

    @BeforeEach
    void epoll() {
        assumeTrue(Epoll.isAvailable(), "socket activation needs the epoll transport");
        transport = Transport.create("epoll", 1);
    }

    @AfterEach
    void close() {
        if (registry != null) {
            registry.closeAll();
        }
        if (transport != null) {
            transport.close();
        }
        for (io.netty.channel.unix.Socket s : fillers) {
            try {
                s.close();
            } catch (java.io.IOException ignored) {
                // closing a test's spare listening socket
            }
        }
    }

    /** Opens {@code count} listening sockets on consecutive descriptors; returns the activation for them. */
    private SocketActivation passSockets(int count, String names) throws Exception {
        // Consecutive descriptors, as systemd passes them: retry until the kernel hands out a run.
        for (int attempt = 0; attempt < 20; attempt++) {
            List<io.netty.channel.unix.Socket> run = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                io.netty.channel.unix.Socket s = io.netty.channel.unix.Socket.newSocketStream();
                s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                s.listen(128);
                run.add(s);
            }
            boolean consecutive = true;
            for (int i = 1; i < count; i++) {
                consecutive &= run.get(i).intValue() == run.get(0).intValue() + i;
            }
            if (!consecutive) {
                // Not a run: keep these open (they fill the holes that broke it) but apart, so that passed.get(i)
                // is always the i-th passed descriptor.
                fillers.addAll(run);
                continue;
            }
            passed.addAll(run);
            Map<String, String> env = names == null
                    ? Map.of("LISTEN_PID", pid(), "LISTEN_FDS", Integer.toString(count))
                    : Map.of("LISTEN_PID", pid(), "LISTEN_FDS", Integer.toString(count), "LISTEN_FDNAMES", names);
            return SocketActivation.fromEnvironment(env, transport, run.get(0).intValue());
        }
        throw new IllegalStateException("no consecutive descriptors");
    }

    private static String pid() {
        return Long.toString(ProcessHandle.current().pid());
    }

    private static InetSocketAddress addressOf(io.netty.channel.unix.Socket s) throws Exception {
        return s.localAddress();
    }

    private static void connect(InetSocketAddress address) throws Exception {
        try (Socket s = new Socket(address.getAddress(), address.getPort())) {
            s.setSoTimeout(5_000);
            try (InputStream in = s.getInputStream()) {
                assertThat(in.read()).isEqualTo(-1); // closed by the daemon
            }
        }
    }

    @Test
    void faultIoUringAskedForUnderSocketActivationRunsOnEpollAndStillAdoptsThePassedSocket() throws Exception {
        // What the launcher does when LISTEN_FDS is for it (SocketActivation.passesSockets): io_uring cannot
        // adopt a descriptor, so the transport is epoll, and the passed socket is adopted rather than bound over.
        transport.close();
        transport = Transport.create("io_uring", 1, true);
        assertThat(transport.kind()).isEqualTo("epoll");
        registry = new ListenerRegistry(transport, new ConnectionBudget(100), passSockets(1, null));
        InetSocketAddress address = addressOf(passed.get(0));
        Version echo = new Version();
        BoundListener listener = registry.attach(address, "echo", "listen", echo, nothing);
        assertThat(listener.inherited()).isNotNull();
        connect(address);
        assertThat(echo.accepted.poll(5, TimeUnit.SECONDS)).isNotNull();
    }

    @Test
    void passesSocketsOnlyForThisProcessAndAPositiveCount() {
        assertThat(SocketActivation.passesSockets(Map.of("LISTEN_PID", pid(), "LISTEN_FDS", "2")))
                .isTrue();
        assertThat(SocketActivation.passesSockets(Map.of("LISTEN_PID", "1", "LISTEN_FDS", "2")))
                .isFalse();
        assertThat(SocketActivation.passesSockets(Map.of("LISTEN_PID", pid(), "LISTEN_FDS", "0")))
                .isFalse();
        assertThat(SocketActivation.passesSockets(Map.of("LISTEN_PID", pid(), "LISTEN_FDS", "x")))
                .isFalse();
        assertThat(SocketActivation.passesSockets(Map.of())).isFalse();
    }

    @Test
    void aPassedSocketAtTheConfiguredAddressIsAdoptedInsteadOfBound() throws Exception {
        registry = new ListenerRegistry(transport, new ConnectionBudget(100), passSockets(1, null));
        InetSocketAddress address = addressOf(passed.get(0));
        Version echo = new Version();
        BoundListener listener = registry.attach(address, "echo", "listen", echo, nothing);
        assertThat(listener.inherited()).isNotNull();
        assertThat(listener.bound()).isEqualTo(address);
        connect(address);
        assertThat(echo.accepted.poll(5, TimeUnit.SECONDS)).isNotNull();
    }

    @Test
    void aPassedSocketNamedDaemonDotKeyIsAdoptedWhateverTheConfiguredAddress() throws Exception {
        registry = new ListenerRegistry(transport, new ConnectionBudget(100), passSockets(2, "cache:echo.listen"));
        InetSocketAddress configured = new InetSocketAddress(InetAddress.getLoopbackAddress(), 1);
        Version echo = new Version();
        BoundListener listener = registry.attach(configured, "echo", "listen", echo, nothing);
        assertThat(listener.bound()).isEqualTo(addressOf(passed.get(1)));
        connect(addressOf(passed.get(1)));
        assertThat(echo.accepted.poll(5, TimeUnit.SECONDS)).isNotNull();
        Version cache = new Version();
        InetSocketAddress elsewhere = new InetSocketAddress(InetAddress.getLoopbackAddress(), 2);
        assertThat(registry.attach(elsewhere, "cache", "listen", cache, nothing).bound())
                .isEqualTo(addressOf(passed.get(0)));
    }

    @Test
    void aDaemonThatStopsLeavesThePassedSocketOpenAndTheNextAdoptsItWithItsWaitingConnection() throws Exception {
        registry = new ListenerRegistry(transport, new ConnectionBudget(100), passSockets(1, null));
        InetSocketAddress address = addressOf(passed.get(0));
        Version first = new Version();
        BoundListener listener = registry.attach(address, "echo", "listen", first, nothing);
        registry.release(listener, first);
        try (Socket waiting = new Socket(address.getAddress(), address.getPort())) { // queued, not refused
            Version second = new Version();
            assertThat(registry.attach(address, "echo", "listen", second, nothing))
                    .isSameAs(listener);
            assertThat(second.accepted.poll(5, TimeUnit.SECONDS)).isNotNull();
        }
        assertThat(first.accepted).isEmpty();
    }

    @Test
    void socketsMeantForAnotherProcessAreIgnored() throws Exception {
        SocketActivation other =
                SocketActivation.fromEnvironment(Map.of("LISTEN_PID", "1", "LISTEN_FDS", "1"), transport, 1000);
        registry = new ListenerRegistry(transport, new ConnectionBudget(100), other);
        InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        assertThat(registry.attach(any, "echo", "listen", new Version(), nothing)
                        .inherited())
                .isNull();
    }

    @Test
    void aWildcardPassedSocketMatchesAWildcardConfiguredOnTheSamePort() throws Exception {
        InetSocketAddress v6any = new InetSocketAddress(InetAddress.getByName("::"), 7000);
        InetSocketAddress v4any = new InetSocketAddress(InetAddress.getByName("0.0.0.0"), 7000);
        assertThat(SocketActivation.sameAddress(v6any, v4any)).isTrue();
        assertThat(SocketActivation.sameAddress(v6any, new InetSocketAddress(v4any.getAddress(), 7001)))
                .isFalse();
        assertThat(SocketActivation.sameAddress(v6any, new InetSocketAddress(InetAddress.getLoopbackAddress(), 7000)))
                .isFalse();
    }
}
