package dev.daemonkit.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.PKCS8Generator;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.io.pem.PemGenerationException;

/**
 * Certificates made at test time, for testing a daemon over TLS: a CA, and server and client
 * certificates it signs (EC P-256, SHA256withECDSA, valid for localhost and 127.0.0.1), written as PEM
 * files the way an operator's would be, to name in {@code daemons.NAME.tls.KEY { cert-file, key-file,
 * ca-file }}. BouncyCastle builds them; the JDK alone has no public API for it.
 *
 * <pre>{@code
 * TestCertificates ca = TestCertificates.newCa("test-ca");
 * TestCertificates.Issued server = ca.server(dir, "server", Duration.ofDays(1));
 * launcher.start("daemons.echo.tls.listen { cert-file = \"" + server.certFile() + "\", key-file = \""
 *         + server.keyFile() + "\" }");
 * SSLSocket s = (SSLSocket) ca.clientContext(null).getSocketFactory().createSocket(host, port);
 * }</pre>
 *
 * <p>framework-core's own tests have a copy (they cannot depend on the kit, which depends on them).
 */
public final class TestCertificates {
    private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

    private final KeyPair caKeys;
    private final X509Certificate ca;

    /** A key and the certificate made for it, and where both were written. */
    public record Issued(Path certFile, Path keyFile, X509Certificate certificate, PrivateKey key) {}

    private TestCertificates(KeyPair caKeys, X509Certificate ca) {
        this.caKeys = caKeys;
        this.ca = ca;
    }

    /** A new CA named {@code CN=name}, valid for a day. */
    public static TestCertificates newCa(String name) {
        KeyPair keys = keyPair();
        X509Certificate cert = sign(
                new X500Name("CN=" + name),
                keys,
                new X500Name("CN=" + name),
                keys.getPrivate(),
                true,
                null,
                null,
                Duration.ofDays(1));
        return new TestCertificates(keys, cert);
    }

    public X509Certificate ca() {
        return ca;
    }

    /** Writes the CA certificate (PEM) to {@code file}. */
    public Path writeCa(Path file) {
        write(file, pem("CERTIFICATE", encoded(ca)));
        return file;
    }

    /** A server certificate for localhost and 127.0.0.1, valid for {@code validity} from now, written to dir/name.crt|.key. */
    public Issued server(Path dir, String name, Duration validity) {
        return issue(dir, name, KeyPurposeId.id_kp_serverAuth, validity);
    }

    /** A client certificate, valid for a day, written to dir/name.crt|.key. */
    public Issued client(Path dir, String name) {
        return issue(dir, name, KeyPurposeId.id_kp_clientAuth, Duration.ofDays(1));
    }

    private Issued issue(Path dir, String name, KeyPurposeId purpose, Duration validity) {
        KeyPair keys = keyPair();
        X509Certificate cert = sign(
                new X500Name("CN=" + name),
                keys,
                new X500Name(ca.getSubjectX500Principal().getName()),
                caKeys.getPrivate(),
                false,
                purpose,
                new GeneralNames(new GeneralName[] {
                    new GeneralName(GeneralName.dNSName, "localhost"),
                    new GeneralName(GeneralName.iPAddress, "127.0.0.1")
                }),
                validity);
        Path certFile = dir.resolve(name + ".crt");
        Path keyFile = dir.resolve(name + ".key");
        // Key first, certificate last, each replaced in one rename: what a careful rotation does.
        write(keyFile, pem("PRIVATE KEY", keys.getPrivate().getEncoded()));
        write(certFile, pem("CERTIFICATE", encoded(cert)));
        return new Issued(certFile, keyFile, cert, keys.getPrivate());
    }

    /**
     * Rewrites {@code issued}'s key file encrypted with {@code password} as {@code openssl pkcs8 -topk8
     * -v2 aes-256-cbc} writes it (PKCS#8, PBES2: PBKDF2 with HMAC-SHA256, AES-256-CBC; {@code BEGIN
     * ENCRYPTED PRIVATE KEY}), for a {@code key-password} or a CLI's password file to open.
     */
    public static Issued encryptKey(Issued issued, String password) {
        try {
            var encryptor = new JceOpenSSLPKCS8EncryptorBuilder(PKCS8Generator.AES_256_CBC)
                    .setPRF(PKCS8Generator.PRF_HMACSHA256)
                    .setIterationCount(10_000)
                    // BouncyCastle's own AES: the JDK names PKCS#5 padding what it asks for as PKCS7Padding.
                    .setProvider(new BouncyCastleProvider())
                    .setPassword(password.toCharArray())
                    .build();
            byte[] der =
                    new JcaPKCS8Generator(issued.key(), encryptor).generate().getContent();
            write(issued.keyFile(), pem("ENCRYPTED PRIVATE KEY", der));
            return issued;
        } catch (OperatorCreationException | PemGenerationException e) {
            throw new IllegalStateException("cannot encrypt the key of " + issued.certFile(), e);
        }
    }

    /** A client-side context that trusts this CA and, if {@code client} is given, presents it (whoever signed it). */
    public SSLContext clientContext(Issued client) {
        try {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("ca", ca);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            KeyManagerFactory kmf = null;
            if (client != null) {
                KeyStore keys = KeyStore.getInstance("PKCS12");
                keys.load(null, null);
                keys.setKeyEntry("client", client.key(), new char[0], new X509Certificate[] {client.certificate()});
                kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(keys, new char[0]);
            }
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(
                    kmf == null
                            ? null
                            : new KeyManager[] {new Presenting((X509ExtendedKeyManager) kmf.getKeyManagers()[0])},
                    tmf.getTrustManagers(),
                    null);
            return ctx;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The base64 SHA-256 of the certificate's public key (SubjectPublicKeyInfo): what Chromium's
     * {@code --ignore-certificate-errors-spki-list} takes to trust that one key and no other.
     */
    public static String spkiSha256(X509Certificate certificate) {
        try {
            return Base64.getEncoder()
                    .encodeToString(java.security.MessageDigest.getInstance("SHA-256")
                            .digest(certificate.getPublicKey().getEncoded()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Presents the client certificate whatever CA names the server asks for: the JDK's key manager
     * would send none when its issuer is not among them (as a server with a {@code ca-file} lists it),
     * and a test of a stranger's certificate would then only test a client without one.
     */
    private static final class Presenting extends X509ExtendedKeyManager {
        private final X509ExtendedKeyManager keys;

        Presenting(X509ExtendedKeyManager keys) {
            this.keys = keys;
        }

        @Override
        public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
            return "client";
        }

        @Override
        public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
            return "client";
        }

        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers) {
            return new String[] {"client"};
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers) {
            return null;
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
            return null;
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return keys.getCertificateChain(alias);
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            return keys.getPrivateKey(alias);
        }
    }

    private static KeyPair keyPair() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static X509Certificate sign(
            X500Name subject,
            KeyPair subjectKeys,
            X500Name issuer,
            PrivateKey issuerKey,
            boolean isCa,
            KeyPurposeId purpose,
            GeneralNames names,
            Duration validity) {
        try {
            Instant now = Instant.now();
            // Issued a minute in the past: clocks of test JVMs and of a browser may differ by a little.
            Instant from = validity.isNegative() ? now.plus(validity).minus(Duration.ofDays(1)) : now.minusSeconds(60);
            Instant to = validity.isNegative() ? now.plus(validity) : now.plus(validity);
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(
                    issuer,
                    BigInteger.valueOf(SERIAL.incrementAndGet()),
                    Date.from(from),
                    Date.from(to),
                    subject,
                    subjectKeys.getPublic());
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(isCa));
            if (purpose != null) {
                b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
            }
            if (names != null) {
                b.addExtension(Extension.subjectAlternativeName, false, names);
            }
            return new JcaX509CertificateConverter()
                    .getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKey)));
        } catch (Exception e) {
            throw new IllegalStateException("cannot make a test certificate: " + e, e);
        }
    }

    private static byte[] encoded(X509Certificate c) {
        try {
            return c.getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    /** Writes through a temporary file and one rename, as a rotation should (a reader never sees half a file). */
    private static void write(Path file, String text) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.writeString(tmp, text, StandardCharsets.US_ASCII);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
