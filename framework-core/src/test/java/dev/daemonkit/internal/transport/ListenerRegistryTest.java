package dev.daemonkit.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.daemonkit.api.PipelineInitializer;
import dev.daemonkit.testing.TestHome;
import io.netty.channel.Channel;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The launcher's TCP sockets: take-over by a new version, refusal of another daemon, release and detach. */
class ListenerRegistryTest {
    private final Transport transport = Transport.create("nio", 1);
    private final ListenerRegistry registry = new ListenerRegistry(transport, new ConnectionBudget(100));
    private final InetSocketAddress address =
            new InetSocketAddress(InetAddress.getLoopbackAddress(), TestHome.freePort());
    private final PipelineInitializer nothing = p -> {};

    /** A version of a daemon that records which connections it was given, and closes them. */
    private static final class Version implements ConnectionOwner {
        final LinkedBlockingQueue<Channel> accepted = new LinkedBlockingQueue<>();

        @Override
        public void accept(Channel connection, PipelineInitializer protocol) {
            accepted.add(connection);
            connection.close();
        }
    }

    @AfterEach
    void close() {
        registry.closeAll();
        transport.close();
    }

    private void connect() throws Exception {
        try (Socket s = new Socket(address.getAddress(), address.getPort())) {
            s.setSoTimeout(5_000);
            try (InputStream in = s.getInputStream()) {
                assertThat(in.read()).isEqualTo(-1); // closed by the server
            }
        }
    }

    @Test
    void aNewVersionTakesOverTheSocketOfTheOldOneWithoutRebinding() throws Exception {
        Version old = new Version();
        Version fresh = new Version();
        BoundListener first = registry.attach(address, "echo", old, nothing);
        BoundListener second = registry.attach(address, "echo", fresh, nothing);
        assertThat(second).isSameAs(first);
        assertThat(second.bound()).isEqualTo(address);
        connect();
        assertThat(fresh.accepted.poll(5, TimeUnit.SECONDS)).isNotNull();
        assertThat(old.accepted).isEmpty();
    }

    @Test
    void anotherDaemonOfTheLauncherCannotAttachWhereOneListens() throws Exception {
        registry.attach(address, "echo", new Version(), nothing);
        assertThatThrownBy(() -> registry.attach(address, "cache", new Version(), nothing))
                .isInstanceOf(ListenerRegistry.AddressTaken.class)
                .hasMessage("daemon 'echo' of this launcher listens there");
        assertThat(registry.holder(address)).isEqualTo("echo");
    }

    @Test
    void anOldVersionReleasingAfterATakeOverLeavesTheSocketBoundAndTheCurrentOneClosesIt() throws Exception {
        Version old = new Version();
        Version fresh = new Version();
        BoundListener listener = registry.attach(address, "echo", old, nothing);
        registry.attach(address, "echo", fresh, nothing);
        registry.release(listener, old);
        assertThat(listener.bound()).isEqualTo(address);
        registry.release(listener, fresh);
        assertThat(listener.bound()).isNull();
        assertThat(registry.holder(address)).isNull();
    }

    @Test
    void aDetachedSocketStaysBoundAndClosesWhatItAcceptsUntilAVersionAttachesAgain() throws Exception {
        Version version = new Version();
        BoundListener listener = registry.attach(address, "echo", version, nothing);
        registry.detach(listener, version);
        connect();
        assertThat(version.accepted).isEmpty();
        assertThat(listener.bound()).isEqualTo(address);
        registry.attach(address, "echo", version, nothing);
        connect();
        assertThat(version.accepted.poll(5, TimeUnit.SECONDS)).isNotNull();
    }
}
