package dev.daemonkit.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.daemonkit.api.DaemonState;
import dev.daemonkit.internal.admin.AdminServer;
import dev.daemonkit.internal.admin.DaemonkitMetrics;
import dev.daemonkit.internal.lifecycle.Launcher;
import dev.daemonkit.testing.TestCertificates;
import dev.daemonkit.testing.TestHome;
import dev.daemonkit.testplugins.Jars;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/**
 * The admin endpoint over https ({@code daemonkit.admin.tls}): what probes, a metrics scraper and the
 * control commands get; what a client that speaks plain http, or has no client certificate, gets; and
 * what an operator gets for a certificate file that cannot be used.
 */
class HttpsAdminTest {
    @RegisterExtension
    final TestHome home = new TestHome();

    private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
    private final Logger adminLog = (Logger) LoggerFactory.getLogger(AdminServer.class);

    private Path certs;
    private TestCertificates ca;
    private TestCertificates.Issued server;
    private int port;
    private final List<AutoCloseable> opened = new ArrayList<>();

    @BeforeEach
    void makeCertificates() throws IOException {
        logged.start();
        adminLog.addAppender(logged);
        certs = Files.createTempDirectory("daemonkit-admin-tls-");
        ca = TestCertificates.newCa("admin-ca");
        ca.writeCa(certs.resolve("ca.crt"));
        server = ca.server(certs, "admin", Duration.ofDays(1));
        port = TestHome.freePort();
    }

    @AfterEach
    void cleanUp() throws Exception {
        adminLog.detachAppender(logged);
        for (int i = opened.size() - 1; i >= 0; i--) {
            opened.get(i).close();
        }
        try (var files = Files.walk(certs)) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Starts the launcher with the line-echo daemon and its admin endpoint (as Main does), with {@code tls}. */
    private AdminServer start(String tls) throws IOException {
        Jars.lineEcho(home.plugins());
        home.config(
                "daemonkit.admin { listen = \"127.0.0.1:" + port + "\", token = \"s3cret\", tls { " + tls + " } }\n");
        Launcher launcher = home.start();
        DaemonkitMetrics metrics = new DaemonkitMetrics(launcher, null, null);
        opened.add(metrics);
        AdminServer admin =
                AdminServer.start(launcher, metrics, null, launcher.settings().admin(), () -> {});
        if (admin != null) {
            metrics.bindAdmin(admin.connections());
            opened.add(admin);
        }
        return admin;
    }

    private String files() {
        return "cert-file = \"" + server.certFile() + "\", key-file = \"" + server.keyFile()
                + "\", watch-interval = 50 ms";
    }

    private HttpResponse<String> get(SSLContext trust, String path) throws IOException, InterruptedException {
        HttpClient http = HttpClient.newBuilder()
                .sslContext(trust)
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5))
                .build();
        return http.send(
                HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + path))
                        .header("Authorization", "Bearer s3cret")
                        .timeout(Duration.ofSeconds(10))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private record Run(int rc, String out, String err) {}

    /** A control command, as {@code bin/daemonkit ARGS --config conf/daemonkit.conf} runs it. */
    private Run cli(String... args) throws Exception {
        List<String> argv = new ArrayList<>(List.of(args));
        argv.add("--config");
        argv.add(home.configFile().toString());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = new ControlClient(
                        new PrintStream(out, true, StandardCharsets.UTF_8),
                        new PrintStream(err, true, StandardCharsets.UTF_8))
                .run(CommandLine.parse(
                        argv.toArray(new String[0]), home.configFile().getParent()));
        return new Run(rc, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void userProbesScrapesAndRunsControlCommandsOverHttpsAndTheCertificateRotates() throws Exception {
        AdminServer admin = start(files());
        assertThat(admin).isNotNull();
        assertThat(logged.list).anyMatch(e -> e.getFormattedMessage().startsWith("admin endpoint on https://"));

        // Probes: kubelet's httpGet with scheme HTTPS, no token.
        for (String probe : List.of("/health/live", "/health/ready", "/health/started")) {
            HttpResponse<String> r = get(ca.clientContext(null), probe);
            assertThat(r.statusCode()).as(probe).isEqualTo(200);
            assertThat(r.sslSession()).isPresent();
        }
        // A scraper: the admin certificate's expiry is a metric like a daemon listener's.
        HttpResponse<String> metrics = get(ca.clientContext(null), "/metrics");
        assertThat(metrics.statusCode()).isEqualTo(200);
        long expiry = server.certificate().getNotAfter().toInstant().getEpochSecond();
        assertThat(metrics.body())
                .contains("daemonkit_tls_certificate_expiry_seconds{daemon=\"admin\",listener=\"listen\"} "
                        + (double) expiry);

        // The control commands trust the certificate of cert-file: no CA given to them.
        Run status = cli("status");
        assertThat(status.rc()).as(status.err()).isZero();
        assertThat(status.out()).contains("line-echo");
        Run stop = cli("stop", "line-echo");
        assertThat(stop.rc()).as(stop.err()).isZero();
        assertThat(home.launcher().daemon("line-echo").state()).isEqualTo(DaemonState.STOPPED);
        Run start = cli("start", "line-echo");
        assertThat(start.rc()).as(start.err()).isZero();

        // Rotation: the same files, a new pair; new connections (and the CLI) get the new certificate.
        TestCertificates.Issued renewed = ca.server(certs, "admin", Duration.ofDays(2));
        await("the admin endpoint's certificate is re-read")
                .atMost(Duration.ofSeconds(10))
                .until(() -> get(ca.clientContext(null), "/health/live")
                        .sslSession()
                        .orElseThrow()
                        .getPeerCertificates()[0]
                        .equals(renewed.certificate()));
        assertThat(cli("status").rc()).isZero();
    }

    @Test
    void controlCommandsTrustACertificateSignedByCaFileWhileTheLauncherStillServesTheOldOne() throws Exception {
        // The second after cert-file was replaced and before the launcher re-read it: the CLI reads the new
        // file, the launcher presents the old certificate, which chains to ca-file.
        start(files() + ", watch-interval = 0 s, ca-file = \"" + certs.resolve("ca.crt") + "\"");
        ca.server(certs, "admin", Duration.ofDays(2));
        Run status = cli("status");
        assertThat(status.rc()).as(status.err()).isZero();
        // A launcher certificate neither in cert-file nor signed by ca-file is refused, with what to do.
        TestCertificates stranger = TestCertificates.newCa("stranger-ca");
        stranger.writeCa(certs.resolve("ca.crt"));
        Run refused = cli("status");
        assertThat(refused.rc()).isEqualTo(Main.FATAL);
        assertThat(refused.err())
                .contains("TLS handshake with the launcher at 127.0.0.1:" + port)
                .contains("daemonkit.admin.tls.cert-file");
    }

    @Test
    void plainHttpToTheHttpsPortIsToldToUseHttpsAnAttackersGarbageIsClosedAndTheEndpointKeepsServing()
            throws Exception {
        AdminServer admin = start(files());
        String probe = "GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        try (Socket user = ca.clientContext(null).getSocketFactory().createSocket("127.0.0.1", port);
                Socket plain = new Socket("127.0.0.1", port);
                Socket garbage = new Socket("127.0.0.1", port)) {
            plain.getOutputStream().write(probe.getBytes(StandardCharsets.US_ASCII));
            // What a probe or a curl left on http:// gets: a plain 400 saying what to do, not the health.
            assertThat(readUntilClosed(plain))
                    .startsWith("HTTP/1.1 400 Bad Request\r\n")
                    .contains("use https://127.0.0.1:" + port + "/")
                    .doesNotContain("ok");
            garbage.getOutputStream().write(new byte[] {0, (byte) 0xff, 13, 10, 'x'});
            assertThat(readUntilClosed(garbage)).isEmpty();
            // A user connected before the attacker is served after it.
            user.getOutputStream().write(probe.getBytes(StandardCharsets.US_ASCII));
            assertThat(readUntilClosed(user)).startsWith("HTTP/1.1 200 OK").endsWith("ok\n");
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> admin.connections().open() == 0);
        assertThat(admin.connections().inboundBuffered()).isZero();
        assertThat(admin.connections().accepted()).isEqualTo(3);
    }

    @Test
    void attackerWithoutAClientCertificateIsRefusedUnderClientAuthRequireAndTheCliPresentsOne() throws Exception {
        start(files() + ", ca-file = \"" + certs.resolve("ca.crt") + "\", client-auth = require");
        assertThatThrownBy(() -> get(ca.clientContext(null), "/health/live")).isInstanceOf(IOException.class);
        Path elsewhere = Files.createDirectories(certs.resolve("elsewhere"));
        TestCertificates.Issued forged = TestCertificates.newCa("stranger-ca").client(elsewhere, "forged");
        assertThatThrownBy(() -> get(ca.clientContext(forged), "/health/live")).isInstanceOf(IOException.class);

        Run without = cli("status");
        assertThat(without.rc()).isEqualTo(Main.FATAL);
        assertThat(without.out()).isEmpty();
        assertThat(without.err()).contains("--client-cert FILE --client-key FILE");

        TestCertificates.Issued operator = ca.client(certs, "operator");
        assertThat(get(ca.clientContext(operator), "/health/live").statusCode()).isEqualTo(200);
        Run with = cli(
                "status",
                "--client-cert",
                operator.certFile().toString(),
                "--client-key",
                operator.keyFile().toString());
        assertThat(with.rc()).as(with.err()).isZero();
        assertThat(with.out()).contains("line-echo");
    }

    @Test
    void faultUnusableCertificateFileLeavesTheAdminEndpointOffNamingFileAndKeyWhileTheDaemonsRun() throws Exception {
        Path garbage = Files.writeString(certs.resolve("garbage.crt"), "not a certificate\n");
        AdminServer admin = start("cert-file = \"" + garbage + "\", key-file = \"" + server.keyFile() + "\"");
        assertThat(admin).isNull();
        assertThat(logged.list)
                .anyMatch(e -> e.getLevel() == Level.ERROR
                        && e.getFormattedMessage().startsWith("admin endpoint not started")
                        && e.getFormattedMessage().contains("daemonkit.admin.tls.cert-file")
                        && e.getFormattedMessage().contains(garbage.toString())
                        && e.getFormattedMessage().contains("The daemons run without it"));
        assertThat(home.launcher().daemon("line-echo").state()).isEqualTo(DaemonState.RUNNING);
        InetSocketAddress echo = home.address("line-echo");
        try (Socket s = new Socket(echo.getAddress(), echo.getPort())) {
            s.setSoTimeout(5_000);
            s.getOutputStream().write("still served\n".getBytes(StandardCharsets.UTF_8));
            byte[] reply = s.getInputStream().readNBytes("still served\n".length());
            assertThat(new String(reply, StandardCharsets.UTF_8)).isEqualTo("still served\n");
        }
        // The control commands read the same file, and say what is wrong with it.
        Run status = cli("status");
        assertThat(status.rc()).isEqualTo(Main.BAD_CONFIG);
        assertThat(status.err())
                .contains("daemonkit.admin.tls.cert-file")
                .contains(garbage + " is not a PEM certificate");
        // Nothing listens on the admin port.
        assertThatThrownBy(() -> new Socket("127.0.0.1", port).close()).isInstanceOf(IOException.class);
    }

    @Test
    void faultReloadWithAnUnusableAdminCertificateIsRejectedAndTheRunningOneStaysUntilAGoodReload() throws Exception {
        start(files() + ", watch-interval = 0 s"); // a reload is the only way in
        Launcher launcher = home.launcher();
        Files.writeString(server.certFile(), "half a certificate\n");
        assertThatThrownBy(() -> launcher.reload().get())
                .isInstanceOf(java.util.concurrent.ExecutionException.class)
                .cause()
                .hasMessageContaining("daemon 'admin'")
                .hasMessageContaining("daemonkit.admin.tls.cert-file")
                .hasMessageContaining(server.certFile().toString());
        assertThat(peer(get(ca.clientContext(null), "/health/live"))).isEqualTo(server.certificate());

        TestCertificates.Issued renewed = ca.server(certs, "admin", Duration.ofDays(3));
        launcher.reload().get();
        assertThat(peer(get(ca.clientContext(null), "/health/live"))).isEqualTo(renewed.certificate());
        assertThat(cli("status").rc()).isZero();
    }

    private static java.security.cert.Certificate peer(HttpResponse<?> r) throws IOException {
        return r.sslSession().orElseThrow().getPeerCertificates()[0];
    }

    private static String readUntilClosed(Socket s) throws IOException {
        s.setSoTimeout(10_000);
        InputStream in = s.getInputStream();
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[512];
        try {
            for (int n; (n = in.read(buf)) >= 0; ) {
                got.write(buf, 0, n);
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the admin endpoint did not close a plaintext connection within 10 s");
        } catch (IOException reset) {
            // closed with a reset: closed all the same
        }
        return got.toString(StandardCharsets.ISO_8859_1);
    }
}
