package dev.daemonkit.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.daemonkit.internal.admin.DaemonkitMetrics;
import dev.daemonkit.internal.config.ConfigError;
import dev.daemonkit.internal.lifecycle.Launcher;
import dev.daemonkit.testing.TestCertificates;
import dev.daemonkit.testing.TestHome;
import dev.daemonkit.testplugins.Jars;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;

/**
 * TLS on a listener with no code in the plugin (the plain line-echo test plugin): what a client gets
 * with each provider, with and without a client certificate, across a certificate swap and a reload;
 * what an attacker gets who stalls the handshake or sends no TLS at all; and what an operator gets
 * for a file that cannot be used.
 */
class TlsListenerTest {
    @RegisterExtension
    final TestHome home = new TestHome();

    private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
    private final Logger tlsLog = (Logger) LoggerFactory.getLogger(TlsContext.class);

    private TestCertificates ca;
    private TestCertificates.Issued server;
    private Path certs;

    @BeforeEach
    void makeCertificates() throws IOException {
        logged.start();
        tlsLog.addAppender(logged);
        certs = Files.createTempDirectory("daemonkit-tls-");
        ca = TestCertificates.newCa("test-ca");
        ca.writeCa(certs.resolve("ca.crt"));
        server = ca.server(certs, "server", Duration.ofDays(1));
    }

    @AfterEach
    void removeCertificates() throws IOException {
        tlsLog.detachAppender(logged);
        try (var files = Files.walk(certs)) { // links are deleted, not followed
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private String tls(String provider, String more) {
        return "daemons.line-echo.tls.listen { cert-file = \"" + server.certFile() + "\", key-file = \""
                + server.keyFile() + "\", provider = " + provider + ", watch-interval = 50 ms" + more + " }\n";
    }

    @ParameterizedTest(name = "provider {0}")
    @ValueSource(strings = {"jdk", "openssl"})
    void userHandshakesAndEchoesOverTlsWithEitherProvider(String provider) throws Exception {
        if (provider.equals("openssl")) {
            assertThat(OpenSsl.isAvailable())
                    .as("netty-tcnative-boringssl-static loads on linux-x86_64: %s", OpenSsl.unavailabilityCause())
                    .isTrue();
        }
        Jars.lineEcho(home.plugins());
        home.config(tls(provider, ""));
        Launcher launcher = home.start();
        TlsContext context = launcher.tls().active().get(0);
        assertThat(context.provider()).isEqualTo(provider.equals("jdk") ? SslProvider.JDK : SslProvider.OPENSSL);
        try (TlsClient c = new TlsClient(home.address("line-echo"), ca.clientContext(null))) {
            assertThat(c.request("hello over tls")).isEqualTo("hello over tls");
            assertThat(c.request("x".repeat(1000))).isEqualTo("x".repeat(1000));
            assertThat(c.peerCertificate()).isEqualTo(server.certificate());
            assertThat(c.socket.getSession().getProtocol()).isEqualTo("TLSv1.3");
        }
        // The protocol's decoders saw plaintext: no bytes held, none refused.
        DaemonConnections connections = launcher.daemon("line-echo").connections();
        await().atMost(Duration.ofSeconds(5)).until(() -> connections.open() == 0);
        assertThat(connections.inboundRefused()).isZero();
        assertThat(connections.inboundBuffered()).isZero();
    }

    @ParameterizedTest(name = "provider {0}")
    @ValueSource(strings = {"jdk", "openssl"})
    void clientWithoutCertificateIsRefusedUnderClientAuthRequireAndOneWithACertificateIsServed(String provider)
            throws Exception {
        Jars.lineEcho(home.plugins());
        home.config(tls(provider, ", ca-file = \"" + certs.resolve("ca.crt") + "\", client-auth = require"));
        home.start();
        TestCertificates.Issued client = ca.client(certs, "client");
        try (TlsClient c = new TlsClient(home.address("line-echo"), ca.clientContext(client))) {
            assertThat(c.request("with a certificate")).isEqualTo("with a certificate");
        }
        // TLS 1.3: the client's handshake ends before the server checks its certificate, so the refusal
        // shows at the first read (a handshake alert, or the close that follows it), or at the handshake.
        assertThatThrownBy(() -> roundTrip(ca.clientContext(null), "without one"))
                .isInstanceOf(IOException.class);
        // A certificate from another CA is no better.
        Path elsewhere = Files.createDirectories(certs.resolve("elsewhere"));
        TestCertificates.Issued forged = TestCertificates.newCa("stranger-ca").client(elsewhere, "forged");
        assertThatThrownBy(() -> roundTrip(ca.clientContext(forged), "forged")).isInstanceOf(IOException.class);
        for (Path p : new Path[] {forged.certFile(), forged.keyFile(), elsewhere}) {
            Files.deleteIfExists(p);
        }
        try (TlsClient c = new TlsClient(home.address("line-echo"), ca.clientContext(client))) {
            assertThat(c.request("and the user again")).isEqualTo("and the user again");
        }
    }

    private String roundTrip(SSLContext context, String line) throws IOException {
        try (TlsClient c = new TlsClient(home.address("line-echo"), context)) {
            return c.request(line);
        }
    }

    @ParameterizedTest(name = "provider {0}")
    @ValueSource(strings = {"jdk", "openssl"})
    void certificateSwapKeepsTheOpenConnectionAndNewConnectionsSeeTheNewCertificate(String provider) throws Exception {
        Jars.lineEcho(home.plugins());
        home.config(tls(provider, ""));
        Launcher launcher = home.start();
        TlsContext context = launcher.tls().active().get(0);
        try (TlsClient before = new TlsClient(home.address("line-echo"), ca.clientContext(null))) {
            assertThat(before.request("one")).isEqualTo("one");
            X509Certificate old = before.peerCertificate();

            TestCertificates.Issued renewed = ca.server(certs, "server", Duration.ofDays(2)); // same files, new pair
            await("the watch swaps the context in")
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> context.certificate().equals(renewed.certificate()));

            assertThat(before.request("still served")).isEqualTo("still served");
            assertThat(before.peerCertificate()).isEqualTo(old);
            try (TlsClient after = new TlsClient(home.address("line-echo"), ca.clientContext(null))) {
                assertThat(after.request("two")).isEqualTo("two");
                assertThat(after.peerCertificate()).isEqualTo(renewed.certificate());
            }
            assertThat(before.request("and still")).isEqualTo("and still");
        }
        assertThat(launcher.daemon("line-echo").connections().accepted()).isEqualTo(2);
    }

    @Test
    void faultHalfWrittenRotationKeepsTheRunningCertificateUntilTheFilesMatchAgain() throws Exception {
        Jars.lineEcho(home.plugins());
        home.config(tls("auto", ""));
        Launcher launcher = home.start();
        TlsContext context = launcher.tls().active().get(0);
        // A key that is not the certificate's (a rotation caught between its two writes).
        TestCertificates.Issued other =
                ca.server(Files.createDirectories(certs.resolve("o")), "other", Duration.ofDays(1));
        Files.copy(other.keyFile(), server.keyFile(), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> logged.list.stream()
                        .anyMatch(e -> e.getLevel() == Level.ERROR
                                && e.getFormattedMessage().contains("is not the key of the certificate")));
        assertThat(context.certificate()).isEqualTo(server.certificate());
        try (TlsClient c = new TlsClient(home.address("line-echo"), ca.clientContext(null))) {
            assertThat(c.request("served on")).isEqualTo("served on");
            assertThat(c.peerCertificate()).isEqualTo(server.certificate());
        }
        Files.copy(other.certFile(), server.certFile(), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        await().atMost(Duration.ofSeconds(10)).until(() -> context.certificate().equals(other.certificate()));
        for (Path p :
                new Path[] {other.certFile(), other.keyFile(), other.certFile().getParent()}) {
            Files.deleteIfExists(p);
        }
    }

    @Test
    void attackerRenegotiatingOverAndOverOnOneConnectionIsRefusedWithTheJdkProvider() throws Exception {
        // TLS 1.2: a client may ask for a new handshake on the connection it has; each one costs the server a
        // private key operation, and no connection cap sees them. BoringSSL refuses; the JDK's engine accepted.
        Jars.lineEcho(home.plugins());
        home.config(tls("jdk", ", protocols = [TLSv1.2]"));
        home.start();
        SSLContext context = ca.clientContext(null);
        try (TlsClient user = new TlsClient(home.address("line-echo"), context);
                TlsClient attacker = new TlsClient(home.address("line-echo"), context)) {
            assertThat(attacker.request("hello")).isEqualTo("hello");
            assertThat(attacker.socket.getSession().getProtocol()).isEqualTo("TLSv1.2");
            int renegotiated = 0;
            try {
                for (; renegotiated < 20; renegotiated++) {
                    attacker.socket.startHandshake(); // a new ClientHello on the same connection
                    attacker.request("again");
                }
            } catch (IOException refused) {
                // the server's handshake_failure alert
            }
            assertThat(renegotiated)
                    .as("renegotiations the server went through")
                    .isZero();
            assertThat(attacker.socket.isClosed())
                    .as("the JDK socket closes itself on the server's alert")
                    .isTrue();
            assertThat(user.request("still served")).isEqualTo("still served");
        }
    }

    @Test
    void attackerStallingTheHandshakeIsCutAtTheRequestDeadlineWhileAUserIsServed() throws Exception {
        Jars.lineEcho(home.plugins());
        home.config(tls("auto", "") + "daemons.line-echo.request-timeout = 1 s\n");
        Launcher launcher = home.start();
        DaemonConnections connections = launcher.daemon("line-echo").connections();
        InetSocketAddress at = home.address("line-echo");
        try (Socket silent = new Socket(at.getAddress(), at.getPort());
                Socket halfHello = new Socket(at.getAddress(), at.getPort());
                TlsClient user = new TlsClient(at, ca.clientContext(null))) {
            // A record header announcing a 512-byte handshake message, and only 10 bytes of it.
            OutputStream out = halfHello.getOutputStream();
            out.write(new byte[] {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, (byte) 0xfc, 0x03, 0x03, 1, 2, 3, 4});
            out.flush();
            assertThat(user.request("meanwhile")).isEqualTo("meanwhile");
            assertClosedByServer(silent);
            assertClosedByServer(halfHello);
            assertThat(user.request("after them")).isEqualTo("after them");
        }
        assertThat(connections.deadlineClosed()).isEqualTo(2);
    }

    @Test
    void httpsKeepAliveConnectionIdleAfterItsHandshakeIsNotCutAtTheRequestDeadlineButASlowlorisIs() throws Exception {
        Jars.httpHello(home.plugins());
        home.config(("daemons.http-hello.tls.listen { cert-file = \"%s\", key-file = \"%s\" }\n"
                        + "daemons.http-hello.request-timeout = 1 s\n")
                .formatted(server.certFile(), server.keyFile()));
        Launcher launcher = home.start();
        InetSocketAddress at = home.address("http-hello");
        // A browser's preconnect: the handshake completes (its last flight alone in a read), then nothing.
        try (TlsClient preconnect = new TlsClient(at, ca.clientContext(null));
                TlsClient slowloris = new TlsClient(at, ca.clientContext(null))) {
            slowloris.send("GET /slow HTTP/1.1\r\nHost: x\r\n"); // headers never finished
            assertClosedByServer(slowloris.socket); // the deadline works on this listener...
            // ...and the idle connection, older than the slowloris, was not in a request: it is served.
            preconnect.send("GET /late HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(preconnect.readLine()).isEqualTo("HTTP/1.1 200 OK");
        }
        assertThat(launcher.daemon("http-hello").connections().deadlineClosed()).isEqualTo(1);
    }

    @Test
    void attackerSendingPlaintextInsteadOfAClientHelloClosesOnlyThatConnection() throws Exception {
        Jars.lineEcho(home.plugins());
        home.config(tls("auto", ""));
        Launcher launcher = home.start();
        InetSocketAddress at = home.address("line-echo");
        try (TlsClient user = new TlsClient(at, ca.clientContext(null));
                Socket garbage = new Socket(at.getAddress(), at.getPort())) {
            assertThat(user.request("before")).isEqualTo("before");
            garbage.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            garbage.getOutputStream().write(new byte[4096]);
            assertClosedByServer(garbage);
            assertThat(user.request("after")).isEqualTo("after");
        }
        DaemonConnections connections = launcher.daemon("line-echo").connections();
        await().atMost(Duration.ofSeconds(5)).until(() -> connections.open() == 0);
        assertThat(connections.inboundBuffered()).isZero();
    }

    @Test
    void faultUnusableFilesAreConfigErrorsNamingFileAndKeyAndNothingIsBound() throws Exception {
        Jars.lineEcho(home.plugins());
        Path missing = certs.resolve("missing.crt");
        home.config("daemons.line-echo.tls.listen { cert-file = \"" + missing + "\", key-file = \"" + server.keyFile()
                + "\" }\n");
        assertThatThrownBy(home::start)
                .isInstanceOf(ConfigError.class)
                .hasMessageContaining("daemons.line-echo.tls.listen.cert-file")
                .hasMessageContaining(missing + " does not exist");

        home.config("daemons.line-echo.tls.listen { cert-file = \"tls/relative.crt\", key-file = \"" + server.keyFile()
                + "\" }\n");
        assertThatThrownBy(home::start)
                .as("a relative path is taken from the folder of the config file that names it")
                .hasMessageContaining(home.configFile().getParent().resolve("tls/relative.crt") + " does not exist");

        Path garbage = Files.writeString(certs.resolve("garbage.key"), "-----BEGIN PRIVATE KEY-----\nAAAA\n");
        home.config("daemons.line-echo.tls.listen { cert-file = \"" + server.certFile() + "\", key-file = \"" + garbage
                + "\" }\n");
        assertThatThrownBy(home::start)
                .isInstanceOf(ConfigError.class)
                .hasMessageContaining("daemons.line-echo.tls.listen.key-file")
                .hasMessageContaining(garbage.toString())
                .hasMessageContaining("PKCS#8");

        TestCertificates.Issued other = ca.client(certs, "other");
        home.config("daemons.line-echo.tls.listen { cert-file = \"" + server.certFile() + "\", key-file = \""
                + other.keyFile() + "\" }\n");
        assertThatThrownBy(home::start)
                .isInstanceOf(ConfigError.class)
                .hasMessageContaining("key-file")
                .hasMessageContaining("is not the key of the certificate in daemons.line-echo.tls.listen.cert-file");

        home.config("daemons.line-echo.tls.lisen { cert-file = \"" + server.certFile() + "\", key-file = \""
                + server.keyFile() + "\" }\n");
        assertThatThrownBy(home::start)
                .isInstanceOf(ConfigError.class)
                .hasMessageContaining("daemons.line-echo.tls.lisen")
                .hasMessageContaining("names no listener of daemon 'line-echo': its TCP listeners are [listen]");

        home.config(tls("auto", "") + "daemons.line-echo.inbound.max-buffered = 4 KiB\n");
        assertThatThrownBy(home::start)
                .isInstanceOf(ConfigError.class)
                .hasMessageContaining("daemons.line-echo.inbound.max-buffered = 4096 bytes")
                .hasMessageContaining("below one TLS record");

        home.config(tls("auto", ", client-auth = require, colour = blue"));
        assertThatThrownBy(home::start)
                .isInstanceOf(ConfigError.class)
                .hasMessageContaining("unknown key daemons.line-echo.tls.listen.colour")
                .hasMessageContaining("client-auth = require");
    }

    @Test
    void faultReloadWithAnUnreadableKeyIsRejectedAndTheRunningCertificateStays() throws Exception {
        Jars.lineEcho(home.plugins());
        home.config(tls("auto", ""));
        Launcher launcher = home.start();
        Path gone = certs.resolve("gone.key");
        home.config(tls("auto", "").replace(server.keyFile().toString(), gone.toString()));
        assertThatThrownBy(() -> launcher.reload().get())
                .isInstanceOf(ExecutionException.class)
                .cause()
                .isInstanceOf(ConfigError.class)
                .hasMessageContaining("daemons.line-echo.tls.listen.key-file")
                .hasMessageContaining(gone + " does not exist");
        try (TlsClient c = new TlsClient(home.address("line-echo"), ca.clientContext(null))) {
            assertThat(c.request("still")).isEqualTo("still");
            assertThat(c.peerCertificate()).isEqualTo(server.certificate());
        }
        // A reload with the same config reads the files again: a renewed pair is taken at once.
        home.config(tls("auto", ""));
        TestCertificates.Issued renewed = ca.server(certs, "server", Duration.ofDays(3));
        launcher.reload().get();
        try (TlsClient c = new TlsClient(home.address("line-echo"), ca.clientContext(null))) {
            assertThat(c.peerCertificate()).isEqualTo(renewed.certificate());
        }
    }

    @Test
    void certificateNearExpiryIsWarnedAndItsExpiryIsAMetric() throws Exception {
        server = ca.server(certs, "server", Duration.ofDays(2));
        Jars.lineEcho(home.plugins());
        home.config(tls("auto", ""));
        Launcher launcher = home.start();
        assertThat(logged.list)
                .anyMatch(e -> e.getLevel() == Level.WARN
                        && e.getFormattedMessage().contains("daemons.line-echo.tls.listen")
                        && e.getFormattedMessage().contains("expires at")
                        && e.getFormattedMessage().contains("in 1 d "));
        try (DaemonkitMetrics metrics = new DaemonkitMetrics(launcher, null, null)) {
            long expiry = server.certificate().getNotAfter().toInstant().getEpochSecond();
            Matcher m = Pattern.compile(
                            "daemonkit_tls_certificate_expiry_seconds\\{daemon=\"line-echo\",listener=\"listen\"} (\\S+)")
                    .matcher(metrics.scrape());
            assertThat(m.find()).as("the expiry gauge is scraped").isTrue();
            assertThat(Double.parseDouble(m.group(1))).isEqualTo((double) expiry);
        }
    }

    @ParameterizedTest(name = "provider {0}")
    @ValueSource(strings = {"jdk", "openssl"})
    void clientAuthOptionalServesClientsWithoutACertificateAndWithOneOfTheCaButRefusesAStrangersCertificate(
            String provider) throws Exception {
        Jars.lineEcho(home.plugins());
        home.config(tls(provider, ", ca-file = \"" + certs.resolve("ca.crt") + "\", client-auth = optional"));
        home.start();
        try (TlsClient c = new TlsClient(home.address("line-echo"), ca.clientContext(null))) {
            assertThat(c.request("without a certificate")).isEqualTo("without a certificate");
            assertThat(c.socket.getSession().getLocalCertificates()).isNull();
        }
        TestCertificates.Issued client = ca.client(certs, "client");
        try (TlsClient c = new TlsClient(home.address("line-echo"), ca.clientContext(client))) {
            assertThat(c.request("with the CA's certificate")).isEqualTo("with the CA's certificate");
            assertThat(c.socket.getSession().getLocalCertificates()[0]).isEqualTo(client.certificate());
        }
        // Optional is not "anything goes": a certificate that is presented must be signed by ca-file.
        Path elsewhere = Files.createDirectories(certs.resolve("elsewhere"));
        TestCertificates.Issued forged = TestCertificates.newCa("stranger-ca").client(elsewhere, "forged");
        assertThatThrownBy(() -> roundTrip(ca.clientContext(forged), "forged")).isInstanceOf(IOException.class);
        try (TlsClient c = new TlsClient(home.address("line-echo"), ca.clientContext(null))) {
            assertThat(c.request("and again without")).isEqualTo("and again without");
        }
    }

    /** A client that offers {@code protocols} by ALPN; its handshake is done when this returns. */
    private TlsClient alpnClient(String... protocols) throws IOException {
        SSLContext context = ca.clientContext(null);
        SSLSocket socket = (SSLSocket) context.getSocketFactory()
                .createSocket(
                        home.address("line-echo").getAddress(),
                        home.address("line-echo").getPort());
        javax.net.ssl.SSLParameters p = socket.getSSLParameters();
        p.setApplicationProtocols(protocols);
        socket.setSSLParameters(p);
        return new TlsClient(socket);
    }

    @ParameterizedTest(name = "provider {0}")
    @ValueSource(strings = {"jdk", "openssl"})
    void alpnNegotiatesTheServersPreferredProtocolThatTheClientOffers(String provider) throws Exception {
        Jars.lineEcho(home.plugins());
        home.config(tls(provider, ", alpn = [daemonkit-b, daemonkit-a]"));
        home.start();
        // The server's order wins: the client prefers a, the server's list puts b first.
        try (TlsClient c = alpnClient("daemonkit-a", "daemonkit-b", "http/1.1")) {
            assertThat(c.socket.getApplicationProtocol()).isEqualTo("daemonkit-b");
            assertThat(c.request("over b")).isEqualTo("over b");
        }
        try (TlsClient c = alpnClient("daemonkit-a")) {
            assertThat(c.socket.getApplicationProtocol()).isEqualTo("daemonkit-a");
            assertThat(c.request("over a")).isEqualTo("over a");
        }
    }

    @ParameterizedTest(name = "provider {0}")
    @ValueSource(strings = {"jdk", "openssl"})
    void clientOfferingNoneOfTheAlpnProtocolsIsServedWithNoProtocolNegotiated(String provider) throws Exception {
        Jars.lineEcho(home.plugins());
        home.config(tls(provider, ", alpn = [daemonkit-b, daemonkit-a]"));
        home.start();
        // What docs/configuration.md#tls says: the server does not answer the ALPN extension (RFC 7301
        // allows it) and the handshake goes on; the client sees no protocol, the protocol handlers decide.
        try (TlsClient c = alpnClient("h2", "http/1.1")) {
            assertThat(c.socket.getApplicationProtocol()).isEmpty();
            assertThat(c.request("no protocol agreed")).isEqualTo("no protocol agreed");
        }
        // A client that offers no ALPN at all: the same.
        try (TlsClient c = new TlsClient(home.address("line-echo"), ca.clientContext(null))) {
            assertThat(c.socket.getApplicationProtocol()).isEmpty();
            assertThat(c.request("none offered")).isEqualTo("none offered");
        }
    }

    /**
     * Writes {@code pair} the way the kubelet updates a Secret volume: a new timestamped folder, a
     * {@code ..data_tmp} link to it renamed over {@code ..data} in one step, the old folder removed.
     * {@code tls.crt} and {@code tls.key} are links through {@code ..data} and never change themselves.
     */
    private static void secretVolume(Path volume, TestCertificates.Issued pair, String stamp) throws IOException {
        Path folder = Files.createDirectories(volume.resolve("..2026_11_30_" + stamp));
        Files.copy(pair.certFile(), folder.resolve("tls.crt"));
        Files.copy(pair.keyFile(), folder.resolve("tls.key"));
        Path data = volume.resolve("..data");
        Path old = Files.isSymbolicLink(data) ? volume.resolve(Files.readSymbolicLink(data)) : null;
        Path tmp = Files.createSymbolicLink(volume.resolve("..data_tmp"), folder.getFileName());
        Files.move(tmp, data, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        for (String name : new String[] {"tls.crt", "tls.key"}) {
            if (!Files.isSymbolicLink(volume.resolve(name))) {
                Files.createSymbolicLink(volume.resolve(name), Path.of("..data", name));
            }
        }
        if (old != null) {
            try (var files = Files.list(old)) {
                for (Path p : files.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(old);
        }
    }

    @Test
    void certificateSwappedThroughAKubernetesSecretVolumeDataLinkIsReloadedAndTheOpenConnectionKeepsItsOwn()
            throws Exception {
        Path volume = Files.createDirectories(certs.resolve("secret-volume"));
        Path issued = Files.createDirectories(certs.resolve("issued"));
        TestCertificates.Issued first = ca.server(issued, "first", Duration.ofDays(1));
        secretVolume(volume, first, "12_00_00");
        Jars.lineEcho(home.plugins());
        home.config("daemons.line-echo.tls.listen { cert-file = \"" + volume.resolve("tls.crt") + "\", key-file = \""
                + volume.resolve("tls.key") + "\", watch-interval = 50 ms }\n");
        Launcher launcher = home.start();
        TlsContext context = launcher.tls().active().get(0);
        assertThat(context.certificate()).isEqualTo(first.certificate());
        try (TlsClient before = new TlsClient(home.address("line-echo"), ca.clientContext(null))) {
            assertThat(before.request("one")).isEqualTo("one");

            TestCertificates.Issued second = ca.server(issued, "second", Duration.ofDays(2));
            // The same mtime as the first pair's files: only the link swap (and the new inodes) tells them apart.
            for (String name : new String[] {"tls.crt", "tls.key"}) {
                Path now = volume.resolve("..data").toRealPath().resolve(name);
                Files.setLastModifiedTime(
                        name.equals("tls.crt") ? second.certFile() : second.keyFile(), Files.getLastModifiedTime(now));
            }
            secretVolume(volume, second, "12_05_00");
            await("the watch sees the ..data swap")
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> context.certificate().equals(second.certificate()));

            assertThat(before.request("still served")).isEqualTo("still served");
            assertThat(before.peerCertificate()).isEqualTo(first.certificate());
            try (TlsClient after = new TlsClient(home.address("line-echo"), ca.clientContext(null))) {
                assertThat(after.request("two")).isEqualTo("two");
                assertThat(after.peerCertificate()).isEqualTo(second.certificate());
            }
        }
        assertThat(logged.list).noneMatch(e -> e.getLevel() == Level.ERROR);
    }

    private static void assertClosedByServer(Socket s) throws IOException {
        s.setSoTimeout(10_000);
        InputStream in = s.getInputStream();
        try {
            while (true) {
                int b = in.read(new byte[512]);
                if (b < 0) {
                    return; // closed
                }
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the server did not close the connection within 10 s");
        } catch (IOException reset) {
            // closed with a reset: closed all the same
        }
    }

    /** A line client over TLS: the JDK's SSLSocket, trusting the test CA. */
    static final class TlsClient implements AutoCloseable {
        final SSLSocket socket;
        private final BufferedReader in;
        private final OutputStream out;

        TlsClient(InetSocketAddress at, SSLContext context) throws IOException {
            this((SSLSocket) context.getSocketFactory().createSocket(at.getAddress(), at.getPort()));
        }

        TlsClient(SSLSocket socket) throws IOException {
            this.socket = socket;
            socket.setSoTimeout(10_000);
            socket.startHandshake();
            in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            out = socket.getOutputStream();
        }

        void send(String text) throws IOException {
            out.write(text.getBytes(StandardCharsets.UTF_8));
            out.flush();
        }

        String readLine() throws IOException {
            return in.readLine();
        }

        String request(String line) throws IOException {
            out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            String reply = in.readLine();
            if (reply == null) {
                throw new IOException("closed by the server");
            }
            return reply;
        }

        X509Certificate peerCertificate() throws IOException {
            return (X509Certificate) socket.getSession().getPeerCertificates()[0];
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
