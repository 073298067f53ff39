package dev.daemonkit.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.daemonkit.internal.lifecycle.Launcher;
import dev.daemonkit.testing.TestCertificates;
import dev.daemonkit.testing.TestHome;
import dev.daemonkit.testplugins.Jars;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The record path of a TLS listener once handshakes are done, through the launcher: with OpenSSL the
 * framework's {@link OpenSslRecordHandler} takes over from {@code SslHandler} (checked in each test),
 * with the JDK's engine {@code SslHandler} keeps it; both must give a user the same: large data both
 * ways, a held-back slow reader that gets every byte, close_notify, a peer that vanishes, and a certificate
 * rotation that new connections see while open ones keep theirs. (Records split and joined, data larger
 * than a record, KeyUpdate, garbage and renegotiation: {@link OpenSslRecordHandlerTest}, byte by byte.)
 */
class TlsRecordsListenerTest {
    @RegisterExtension
    final TestHome home = new TestHome();

    private TestCertificates ca;
    private TestCertificates.Issued server;
    private Path certs;

    @BeforeEach
    void makeCertificates() throws IOException {
        certs = Files.createTempDirectory("daemonkit-tls-records-");
        ca = TestCertificates.newCa("records-ca");
        server = ca.server(certs, "server", Duration.ofDays(1));
    }

    @AfterEach
    void removeCertificates() throws IOException {
        try (var files = Files.walk(certs)) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private Launcher start(String provider) throws Exception {
        Jars.lineEcho(home.plugins());
        home.config("daemons.line-echo.tls.listen { cert-file = \"" + server.certFile() + "\", key-file = \""
                + server.keyFile() + "\", provider = " + provider + ", watch-interval = 50 ms }\n");
        return home.start();
    }

    private SSLSocket connect() throws IOException {
        InetSocketAddress at = home.address("line-echo");
        SSLSocket s = (SSLSocket) ca.clientContext(null).getSocketFactory().createSocket(at.getAddress(), at.getPort());
        s.setSoTimeout(20_000);
        s.startHandshake();
        return s;
    }

    /** The OpenSSL listener's connections are the record handler's once their handshake is done. */
    private static void awaitTakeOver(String provider, long before, int connections) {
        if (provider.equals("openssl")) {
            await("the record handler takes over")
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> OpenSslRecordHandler.TOOK_OVER.sum() >= before + connections);
        }
    }

    private static byte[] readExactly(InputStream in, int n) throws IOException {
        byte[] b = in.readNBytes(n);
        assertThat(b.length).as("bytes read before the server closed").isEqualTo(n);
        return b;
    }

    @ParameterizedTest(name = "provider {0}")
    @ValueSource(strings = {"jdk", "openssl"})
    void fullResourceClientThatStopsReadingGetsEveryByteInOrderOnceItReadsAgain(String provider) throws Exception {
        // The default request-timeout (20 s): 16 MB through a busy machine took longer than that once, and the
        // deadline closed the connection at 12.7 MB: the stream of lines was timed as one request, each read
        // ending inside the next line. Now each line is timed on its own (FrontHandler.afterRead).
        Launcher launcher = start(provider);
        DaemonConnections connections = launcher.daemon("line-echo").connections();
        long before = OpenSslRecordHandler.TOOK_OVER.sum();
        byte[] lines = new byte[16_000_000]; // 16,000 lines of 1,000 bytes (the test plugin's limit is 1,024)
        for (int i = 0; i < lines.length; i++) {
            lines[i] = (byte) ((i + 1) % 1000 == 0 ? '\n' : 'a' + (i / 1000) % 26);
        }
        try (SSLSocket client = connect()) {
            awaitTakeOver(provider, before, 1);
            OutputStream out = client.getOutputStream();
            // The client writes everything and reads nothing until the server has read a quarter: replies
            // pile up, the server's outbound buffer passes its high-water mark and it stops reading, so
            // the writer is held back by TCP instead of the server buffering 16 MiB.
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    out.write(lines);
                    out.flush();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            await().atMost(Duration.ofSeconds(30)).until(() -> connections.bytesIn() > lines.length / 4);
            byte[] back = readExactly(client.getInputStream(), lines.length);
            writer.get(30, TimeUnit.SECONDS);
            assertThat(Arrays.equals(back, lines))
                    .as("every byte back, in order")
                    .isTrue();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> connections.open() == 0);
        assertThat(connections.inboundBuffered()).isZero();
        assertThat(connections.inboundRefused()).isZero();
    }

    @ParameterizedTest(name = "provider {0}")
    @ValueSource(strings = {"jdk", "openssl"})
    void userCloseNotifyGetsTheServersAndAClientThatVanishesWithoutOneFreesTheConnection(String provider)
            throws Exception {
        Launcher launcher = start(provider);
        DaemonConnections connections = launcher.daemon("line-echo").connections();
        long before = OpenSslRecordHandler.TOOK_OVER.sum();
        try (SSLSocket client = connect()) {
            awaitTakeOver(provider, before, 1);
            client.getOutputStream().write("bye\n".getBytes(StandardCharsets.US_ASCII));
            client.getOutputStream().flush();
            assertThat(readExactly(client.getInputStream(), 4)).isEqualTo("bye\n".getBytes(StandardCharsets.US_ASCII));
            client.shutdownOutput(); // TLS 1.3: close_notify, the read side stays open
            assertThat(client.getInputStream().read())
                    .as("the server's close_notify ends the stream")
                    .isEqualTo(-1);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> connections.open() == 0);

        // A client that vanishes mid-connection: its TCP connection reset, no close_notify.
        InetSocketAddress at = home.address("line-echo");
        Socket tcp = new Socket(at.getAddress(), at.getPort());
        SSLSocket vanishing = (SSLSocket)
                ca.clientContext(null).getSocketFactory().createSocket(tcp, "localhost", at.getPort(), true);
        vanishing.setSoTimeout(20_000);
        vanishing.startHandshake();
        awaitTakeOver(provider, before, 2);
        vanishing.getOutputStream().write("half a line".getBytes(StandardCharsets.US_ASCII));
        vanishing.getOutputStream().flush();
        await().atMost(Duration.ofSeconds(10)).until(() -> connections.inboundBuffered() > 0);
        tcp.setSoLinger(true, 0);
        tcp.close(); // a reset
        await().atMost(Duration.ofSeconds(10)).until(() -> connections.open() == 0);
        assertThat(connections.inboundBuffered()).isZero();
        try (SSLSocket next = connect()) { // and the daemon serves on
            next.getOutputStream().write("next\n".getBytes(StandardCharsets.US_ASCII));
            next.getOutputStream().flush();
            assertThat(readExactly(next.getInputStream(), 5)).isEqualTo("next\n".getBytes(StandardCharsets.US_ASCII));
        }
    }

    @ParameterizedTest(name = "provider {0}")
    @ValueSource(strings = {"jdk", "openssl"})
    void certificateRotationGivesNewConnectionsTheNewCertificateWhileTheOpenOneKeepsItsRecordsAndCertificate(
            String provider) throws Exception {
        Launcher launcher = start(provider);
        TlsContext context = launcher.tls().active().get(0);
        long before = OpenSslRecordHandler.TOOK_OVER.sum();
        try (SSLSocket old = connect()) {
            awaitTakeOver(provider, before, 1);
            X509Certificate first = (X509Certificate) old.getSession().getPeerCertificates()[0];
            TestCertificates.Issued renewed = ca.server(certs, "server", Duration.ofDays(2));
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> context.certificate().equals(renewed.certificate()));
            try (SSLSocket fresh = connect()) {
                awaitTakeOver(provider, before, 2);
                assertThat(fresh.getSession().getPeerCertificates()[0]).isEqualTo(renewed.certificate());
                fresh.getOutputStream().write("new\n".getBytes(StandardCharsets.US_ASCII));
                fresh.getOutputStream().flush();
                assertThat(readExactly(fresh.getInputStream(), 4))
                        .isEqualTo("new\n".getBytes(StandardCharsets.US_ASCII));
            }
            old.getOutputStream().write("old\n".getBytes(StandardCharsets.US_ASCII));
            old.getOutputStream().flush();
            assertThat(readExactly(old.getInputStream(), 4)).isEqualTo("old\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(old.getSession().getPeerCertificates()[0]).isEqualTo(first);
        }
    }
}
