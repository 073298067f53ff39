package dev.daemonkit.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.daemonkit.internal.config.ConfigError;
import dev.daemonkit.internal.config.TlsSettings;
import dev.daemonkit.testing.TestCertificates;
import io.netty.handler.ssl.SslProvider;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** What each provider makes of the protocol and cipher lists an operator writes. */
class TlsContextTest {
    @TempDir
    Path dir;

    private TlsSettings settings(String provider, String more) {
        TestCertificates.Issued server = TestCertificates.newCa("ca").server(dir, "server", Duration.ofDays(1));
        Config block = ConfigFactory.parseString("tls.listen { cert-file = \"" + server.certFile() + "\", key-file = \""
                + server.keyFile() + "\", provider = " + provider + more + " }");
        return TlsSettings.read(block, "listen", "daemons.x");
    }

    @ParameterizedTest(name = "provider {0}")
    @ValueSource(strings = {"jdk", "openssl"})
    void knownProtocolsAndCiphersMakeAContext(String provider) {
        TlsContext c = TlsContext.load(
                "x",
                "listen",
                settings(
                        provider,
                        ", protocols = [TLSv1.2], ciphers = [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256], alpn = [\"http/1.1\"]"));
        assertThat(c.provider()).isEqualTo(provider.equals("jdk") ? SslProvider.JDK : SslProvider.OPENSSL);
    }

    @ParameterizedTest(name = "provider {0}")
    @ValueSource(strings = {"jdk", "openssl"})
    void faultProtocolNoProviderKnowsIsAConfigErrorNamingTheBlock(String provider) {
        assertThatThrownBy(() -> TlsContext.load("x", "listen", settings(provider, ", protocols = [TLSv1.9]")))
                .isInstanceOf(ConfigError.class)
                .hasMessageContaining("daemons.x.tls.listen (protocols [TLSv1.9]");
    }

    @ParameterizedTest(name = "provider {0}")
    @ValueSource(strings = {"jdk", "openssl"})
    void faultCiphersNoProviderKnowsAreAConfigErrorNamingTheBlock(String provider) {
        assertThatThrownBy(() -> TlsContext.load(
                        "x", "listen", settings(provider, ", protocols = [TLSv1.2], ciphers = [NO_SUCH_CIPHER]")))
                .isInstanceOf(ConfigError.class)
                .hasMessageContaining("daemons.x.tls.listen (protocols [TLSv1.2], ciphers [NO_SUCH_CIPHER]");
    }
}
