package dev.daemonkit.cli;

import dev.daemonkit.internal.config.ConfigError;
import dev.daemonkit.internal.config.TlsSettings;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * How the control commands trust an https admin endpoint ({@code daemonkit.admin.tls}), from the same
 * config file the launcher reads:
 *
 * <ul>
 *   <li>the certificate the launcher presents is accepted when it is one of those in {@code cert-file}
 *       (the launcher's own file, on the same host): a self-signed certificate needs nothing more, and
 *       no host name is checked, since it is the very certificate the launcher was told to use;
 *   <li>else it must chain to a certificate of {@code ca-file} or to an issuer listed after the leaf in
 *       {@code cert-file}, and name the host the command connects to (ordinary https checks): this
 *       covers the second or so after {@code cert-file} was replaced and before the launcher re-read it.
 * </ul>
 *
 * <p>With {@code --client-cert FILE --client-key FILE} the commands present that certificate, which an
 * endpoint with {@code client-auth = require} (or {@code optional}) checks against its {@code ca-file}.
 */
final class AdminTrust {
    private AdminTrust() {}

    /** The client context for {@code tls}; a ConfigError names the file that cannot be used. */
    static SSLContext context(TlsSettings tls, Path clientCert, Path clientKey, Path clientKeyPasswordFile) {
        List<X509Certificate> served = read(tls.certFile());
        List<X509Certificate> anchors = new ArrayList<>(served.subList(1, served.size()));
        if (tls.caFile() != null) {
            anchors.addAll(read(tls.caFile()));
        }
        X509ExtendedTrustManager trust = new Pinned(served.get(0), anchors.isEmpty() ? null : pkix(anchors));
        SslContextBuilder b = SslContextBuilder.forClient()
                .sslProvider(SslProvider.JDK)
                .protocols(tls.protocols())
                .trustManager(trust);
        boolean encrypted = false;
        String password = null;
        if (clientCert != null) {
            encrypted = isEncrypted(clientKey);
            if (encrypted && clientKeyPasswordFile == null) {
                throw new ConfigError("--client-key " + clientKey + " is encrypted (BEGIN ENCRYPTED PRIVATE KEY) and"
                        + " no password was given: put it on the first line of a file readable only by you and"
                        + " pass --client-key-password-file FILE.");
            }
            password = clientKeyPasswordFile == null ? null : password(clientKeyPasswordFile);
        }
        SslContext ssl;
        try {
            if (clientCert != null) {
                // Netty reads and decrypts the key here, not at build(): a wrong password fails on this line.
                b.keyManager(clientCert.toFile(), clientKey.toFile(), password);
            }
            ssl = b.build();
        } catch (IOException | RuntimeException e) {
            throw new ConfigError("--client-cert " + clientCert + " / --client-key " + clientKey
                    + " cannot be used: " + e.getMessage()
                    + (encrypted
                            ? "; is the password in --client-key-password-file " + clientKeyPasswordFile
                                    + " the key's? "
                            : ". ")
                    + "Give a PEM certificate and its PEM private key (PKCS#8: BEGIN PRIVATE KEY, or BEGIN"
                    + " ENCRYPTED PRIVATE KEY with --client-key-password-file).");
        }
        return ((JdkSslContext) ssl).context();
    }

    private static boolean isEncrypted(Path key) {
        try {
            return Files.readString(key, StandardCharsets.US_ASCII).contains("BEGIN ENCRYPTED PRIVATE KEY");
        } catch (IOException | RuntimeException e) {
            return false; // the key manager then says the file cannot be used
        }
    }

    /** The first line of {@code file}: a password file as ssh-agent or a web server's would be. */
    private static String password(Path file) {
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            if (lines.isEmpty() || lines.get(0).isEmpty()) {
                throw new ConfigError("--client-key-password-file " + file + " is empty: put the key's password"
                        + " on its first line.");
            }
            return lines.get(0);
        } catch (IOException e) {
            throw new ConfigError("--client-key-password-file " + file + " cannot be read: " + e.getMessage() + ".");
        }
    }

    private static List<X509Certificate> read(TlsSettings.Source file) {
        try (InputStream in = Files.newInputStream(file.path())) {
            List<X509Certificate> out = new ArrayList<>();
            for (var c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                out.add((X509Certificate) c);
            }
            if (out.isEmpty()) {
                throw new ConfigError(file.where() + " holds no certificate (PEM, BEGIN CERTIFICATE), so the"
                        + " launcher's https admin endpoint cannot be trusted.");
            }
            return out;
        } catch (IOException e) {
            throw new ConfigError(file.where() + ": " + file.path() + " cannot be read by this command (" + e
                    + "). Control commands trust the admin endpoint's certificate through this file: run them as a"
                    + " user who can read it.");
        } catch (GeneralSecurityException e) {
            throw new ConfigError(file.where() + ": " + file.path() + " is not a PEM certificate (" + e.getMessage()
                    + "), so the launcher's https admin endpoint cannot be trusted. It must hold BEGIN CERTIFICATE"
                    + " blocks.");
        }
    }

    private static X509ExtendedTrustManager pkix(List<X509Certificate> anchors) {
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            int i = 0;
            for (X509Certificate c : anchors) {
                ks.setCertificateEntry("anchor-" + i++, c);
            }
            TrustManagerFactory f = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            f.init(ks);
            for (TrustManager t : f.getTrustManagers()) {
                if (t instanceof X509ExtendedTrustManager x) {
                    return x;
                }
            }
            throw new IllegalStateException("the JDK has no X509ExtendedTrustManager");
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot make a trust store of the admin endpoint's CA certificates", e);
        }
    }

    /** The leaf of {@code cert-file} as is; else PKIX with host name checks, or nothing. */
    private static final class Pinned extends X509ExtendedTrustManager {
        private final X509Certificate pinned;
        private final X509ExtendedTrustManager chained;

        Pinned(X509Certificate pinned, X509ExtendedTrustManager chained) {
            this.pinned = pinned;
            this.chained = chained;
        }

        private boolean isPinned(X509Certificate[] chain) {
            return chain != null && chain.length > 0 && chain[0].equals(pinned);
        }

        private CertificateException refused(X509Certificate[] chain) {
            return new CertificateException("the admin endpoint presents "
                    + (chain == null || chain.length == 0
                            ? "no certificate"
                            : chain[0].getSubjectX500Principal().getName() + " (serial "
                                    + chain[0].getSerialNumber().toString(16) + ")")
                    + ", which is not the certificate of daemonkit.admin.tls.cert-file ("
                    + pinned.getSubjectX500Principal().getName() + ", serial "
                    + pinned.getSerialNumber().toString(16)
                    + ") and does not chain to its ca-file");
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            if (isPinned(chain)) {
                return;
            }
            if (chained == null) {
                throw refused(chain);
            }
            try {
                chained.checkServerTrusted(chain, authType, engine);
            } catch (CertificateException e) {
                CertificateException r = refused(chain);
                r.addSuppressed(e);
                throw r;
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            if (isPinned(chain)) {
                return;
            }
            if (chained == null) {
                throw refused(chain);
            }
            chained.checkServerTrusted(chain, authType, socket);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            if (isPinned(chain)) {
                return;
            }
            if (chained == null) {
                throw refused(chain);
            }
            chained.checkServerTrusted(chain, authType);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            throw new CertificateException("a control command is no server");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            throw new CertificateException("a control command is no server");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("a control command is no server");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[] {pinned};
        }
    }
}
