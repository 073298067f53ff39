package dev.daemonkit.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringDatagramChannel;
import io.netty.channel.uring.IoUringServerSocketChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Which transport {@code daemonkit.transport.native} gets, and what the operator reads when it is not the one asked. */
class TransportTest {
    private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
    private final Logger logger = (Logger) LoggerFactory.getLogger(Transport.class);
    private static final Throwable KERNEL_SAYS_NO =
            new UnsupportedOperationException("io_uring_setup: Operation not permitted");

    @BeforeEach
    void capture() {
        logged.start();
        logger.addAppender(logged);
    }

    @AfterEach
    void release() {
        logger.detachAppender(logged);
    }

    @Test
    void ioUringAskedForWhereItLoadsGivesIoUringLoopsAndChannels() {
        assumeTrue(IoUring.isAvailable(), () -> "io_uring is not available here: " + IoUring.unavailabilityCause());
        try (Transport t = Transport.create("io_uring", 1)) {
            assertThat(t.kind()).isEqualTo("io_uring");
            assertThat(t.serverChannel()).isEqualTo(IoUringServerSocketChannel.class);
            assertThat(t.datagramChannel()).isEqualTo(IoUringDatagramChannel.class);
        }
        assertThat(warnings()).isEmpty();
    }

    @Test
    void autoStaysOnEpollWhereBothLoad() {
        assumeTrue(Epoll.isAvailable());
        assertThat(Transport.choose("auto", false)).isEqualTo("epoll");
        assertThat(warnings()).isEmpty();
    }

    @Test
    void faultIoUringUnavailableFallsBackToEpollWithAWarningNamingTheCauseAndWhatToDo() {
        assertThat(Transport.choose("io_uring", false, KERNEL_SAYS_NO, null)).isEqualTo("epoll");
        assertThat(warnings())
                .singleElement()
                .asString()
                .contains("daemonkit.transport.native = io_uring, but io_uring is not available here")
                .contains("io_uring_setup: Operation not permitted")
                .contains("using epoll")
                .contains("kernel.io_uring_disabled = 0")
                .contains("daemonkit.transport.native = auto");
    }

    @Test
    void faultIoUringAndEpollUnavailableFallsBackToNioNamingBothCauses() {
        Throwable noEpoll = new UnsatisfiedLinkError("no netty_transport_native_epoll");
        assertThat(Transport.choose("io_uring", false, KERNEL_SAYS_NO, noEpoll)).isEqualTo("nio");
        assertThat(warnings())
                .singleElement()
                .asString()
                .contains("Operation not permitted")
                .contains("using NIO (epoll is not available either: java.lang.UnsatisfiedLinkError");
    }

    @Test
    void faultSocketActivationMakesIoUringGiveWayToEpollWhichCanAdoptTheSockets() {
        assertThat(Transport.choose("io_uring", true, null, null)).isEqualTo("epoll");
        assertThat(warnings())
                .singleElement()
                .asString()
                .contains("systemd passed listening sockets (LISTEN_FDS)")
                .contains("cannot adopt a socket by its descriptor; using epoll")
                .contains("let the daemons bind their addresses");
        logged.list.clear();
        assertThat(Transport.choose("io_uring", false, null, null)).isEqualTo("io_uring");
        assertThat(warnings()).isEmpty();
    }

    private java.util.List<String> warnings() {
        return logged.list.stream()
                .filter(e -> e.getLevel() == Level.WARN)
                .map(ILoggingEvent::getFormattedMessage)
                .toList();
    }
}
