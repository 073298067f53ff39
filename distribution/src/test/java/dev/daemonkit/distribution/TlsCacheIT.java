package dev.daemonkit.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import dev.daemonkit.testkit.TestCertificates;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.spy.memcached.ClientMode;
import net.spy.memcached.ConnectionFactoryBuilder;
import net.spy.memcached.MemcachedClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cache daemon over TLS in the real distribution, with no code of its own for it: a memcached
 * client that speaks TLS (AWS's ElastiCache client, a fork of spymemcached with setSSLContext) stores
 * and reads through it; the OpenSSL provider shipped in lib/ is the one chosen; the certificate's
 * expiry is on /metrics. And what an operator gets for a key file that is not there: exit 2, naming
 * the file and the key, nothing bound.
 */
class TlsCacheIT {
    @TempDir
    Path tmp;

    private static String config(int admin, int cache, String tls) {
        return """
                daemonkit.admin.listen = "127.0.0.1:%d"
                daemonkit.shutdown.grace = 3 s
                daemons {
                  echo.listen = "127.0.0.1:%d"
                  daytime { listen = "127.0.0.1:%d", listen-udp = "127.0.0.1:%d" }
                  presence { listen = "127.0.0.1:%d", listen-http = "127.0.0.1:%d" }
                  cache.listen = "127.0.0.1:%d"
                  cache.tls.listen { %s }
                }
                """.formatted(
                        admin,
                        LauncherProcess.freePort(),
                        LauncherProcess.freePort(),
                        LauncherProcess.freePort(),
                        LauncherProcess.freePort(),
                        LauncherProcess.freePort(),
                        cache,
                        tls);
    }

    @Test
    void aMemcachedClientSpeakingTlsStoresAndReadsThroughTheCacheAndTheExpiryIsOnMetrics() throws Exception {
        TestCertificates ca = TestCertificates.newCa("cache-test-ca");
        TestCertificates.Issued server = ca.server(tmp, "cache", Duration.ofDays(1));
        int admin = LauncherProcess.freePort();
        int cache = LauncherProcess.freePort();
        try (var launcher = new LauncherProcess(tmp.resolve("home"), true)) {
            launcher.writeConfig(config(
                    admin,
                    cache,
                    "cert-file = \"" + server.certFile() + "\", key-file = \"" + server.keyFile() + "\""));
            launcher.start().awaitStarted();
            assertThat(launcher.output())
                    .contains("daemon 'cache': 127.0.0.1:" + cache + " speaks TLS (daemons.cache.tls.listen,"
                            + " provider openssl)");

            MemcachedClient c = new MemcachedClient(
                    new ConnectionFactoryBuilder()
                            .setClientMode(ClientMode.Static) // one server, no ElastiCache auto-discovery
                            .setProtocol(ConnectionFactoryBuilder.Protocol.TEXT)
                            .setSSLContext(ca.clientContext(null))
                            .setHostnameForTlsVerification("localhost") // the certificate names localhost
                            .setOpTimeout(10_000)
                            .build(),
                    List.of(new InetSocketAddress("127.0.0.1", cache)));
            try {
                assertThat(c.set("greeting", 0, "hello over tls").get(10, TimeUnit.SECONDS))
                        .isTrue();
                assertThat(c.get("greeting")).isEqualTo("hello over tls");
                byte[] big = new byte[300_000]; // many TLS records for one value
                new Random(7).nextBytes(big);
                assertThat(c.set("big", 0, big).get(10, TimeUnit.SECONDS)).isTrue();
                assertThat((byte[]) c.get("big")).isEqualTo(big);
                assertThat(c.incr("n", 5, 10)).isEqualTo(10);
                assertThat(c.incr("n", 5)).isEqualTo(15);
                assertThat(c.delete("greeting").get(10, TimeUnit.SECONDS)).isTrue();
                assertThat(c.get("greeting")).isNull();
            } finally {
                c.shutdown(5, TimeUnit.SECONDS);
            }

            HttpResponse<String> metrics = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/metrics"))
                                    .timeout(Duration.ofSeconds(10))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            Matcher m = Pattern.compile(
                            "daemonkit_tls_certificate_expiry_seconds\\{daemon=\"cache\",listener=\"listen\"} (\\S+)")
                    .matcher(metrics.body());
            assertThat(m.find()).as("the expiry gauge on /metrics").isTrue();
            assertThat(Double.parseDouble(m.group(1))).isEqualTo((double)
                    server.certificate().getNotAfter().toInstant().getEpochSecond());
            assertThat(launcher.terminate()).isZero();
        }
    }

    @Test
    void faultMissingKeyFileExitsWith2NamingTheFileAndTheKeyAndBindsNothing() throws Exception {
        TestCertificates ca = TestCertificates.newCa("cache-test-ca");
        TestCertificates.Issued server = ca.server(tmp, "cache", Duration.ofDays(1));
        Path missing = tmp.resolve("nowhere.key");
        int admin = LauncherProcess.freePort();
        int cache = LauncherProcess.freePort();
        try (var launcher = new LauncherProcess(tmp.resolve("home"), true)) {
            launcher.writeConfig(
                    config(admin, cache, "cert-file = \"" + server.certFile() + "\", key-file = \"" + missing + "\""));
            assertThat(launcher.start().awaitExit()).isEqualTo(2);
            assertThat(launcher.output())
                    .contains("daemons.cache.tls.listen.key-file = \"" + missing + "\"")
                    .contains(missing + " does not exist");
            assertThat(LauncherProcess.canBind(cache)).isTrue();
            assertThat(LauncherProcess.canBind(admin)).isTrue();
        }
    }
}
