package dev.daemonkit.internal.transport;

import dev.daemonkit.internal.config.ConfigError;
import dev.daemonkit.internal.config.TlsSettings;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.ReferenceCountUtil;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TLS of one TCP listener: the server context made from the files of its {@link TlsSettings},
 * and the {@link SslHandler} it puts on each new connection, right after the framework's front
 * handler and before the protocol's handlers (which so see plaintext). With OpenSSL, the
 * {@link OpenSslRecordHandler} takes the {@code SslHandler}'s place once the handshake is done.
 *
 * <p>The context is one volatile reference: {@link #reload} (the {@link TlsWatch} when a file
 * changes, or a config reload) makes a new context from the files and swaps it in only if every file
 * reads and the key matches the certificate; otherwise the running one stays and the error is logged.
 * A new connection takes the context current at its accept; an open one keeps its engine, and so its
 * certificate, until it closes.
 */
public final class TlsContext {
    private static final Logger log = LoggerFactory.getLogger(TlsContext.class);
    private static final MethodHandle TO_PRIVATE_KEY;

    /**
     * The JDK's engine (provider {@code jdk}, and {@code auto} where OpenSSL does not load: every platform but
     * linux-x86_64) accepts a TLS 1.2 client's renegotiation by default: a full handshake, the server's private
     * key operation included, as often as the client asks on one connection, which no connection cap or rate
     * sees (found by a hostile review: three connections made 2,550 handshakes in 10 s, 1.1 cores of the
     * server, and an echo client's p99 went from 1.9 to 14 ms). BoringSSL refuses them. The property is read once,
     * at the JDK's first server handshake: set here, before any listener of ours is built, unless the operator
     * set it.
     */
    static final String REJECT_RENEGOTIATION = "jdk.tls.rejectClientInitiatedRenegotiation";

    static {
        if (System.getProperty(REJECT_RENEGOTIATION) == null) {
            System.setProperty(REJECT_RENEGOTIATION, "true");
        }
        MethodHandle h = null;
        try {
            // Netty's PEM key reader (PKCS#8, encrypted or not) is protected: reached the way InboundDecoders
            // reaches the decoders' buffers. Reading the key ourselves lets a bad key file be named as such.
            h = MethodHandles.privateLookupIn(SslContext.class, MethodHandles.lookup())
                    .findStatic(
                            SslContext.class,
                            "toPrivateKey",
                            MethodType.methodType(PrivateKey.class, File.class, String.class));
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.debug("Netty's key reader is out of reach; keys are read by SslContextBuilder", e);
        }
        TO_PRIVATE_KEY = h;
    }

    private final String daemon;
    private final String key;
    private final TlsSettings settings;
    private volatile Loaded current;
    /** The files' stamps at the last attempt, good or bad: a bad set is tried again only once it changes. */
    private volatile List<String> triedStamps;

    /**
     * OpenSSL connections' records go through {@link OpenSslRecordHandler} after the handshake, unless the
     * daemon is named in the system property {@value #NETTY_RECORDS} (comma-separated names, or {@code *}):
     * those keep Netty's {@code SslHandler} throughout (a way back should the lean path misbehave, and the
     * benchmark's same-launcher comparison).
     */
    private final boolean leanRecords;

    static final String NETTY_RECORDS = "daemonkit.tls.netty-records";

    private long lastExpiryWarningNanos;
    private ScheduledFuture<?> watching;

    /** What a context was made from: the context, the server's certificate, the provider, the files' stamps. */
    record Loaded(SslContext ssl, X509Certificate certificate, SslProvider provider, List<String> stamps) {}

    private TlsContext(String daemon, String key, TlsSettings settings, Loaded loaded) {
        this.daemon = daemon;
        this.key = key;
        this.settings = settings;
        this.current = loaded;
        this.triedStamps = loaded.stamps;
        this.leanRecords = OpenSslRecordHandler.available() && !nettyRecords(daemon);
    }

    private static boolean nettyRecords(String daemon) {
        String names = System.getProperty(NETTY_RECORDS, "").trim();
        for (String n : names.split(",")) {
            if (n.trim().equals("*") || n.trim().equals(daemon)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Makes the context of listener {@code key} of {@code daemon}. Throws a {@link ConfigError} naming
     * the file and the key when a file cannot be read, the key does not match the certificate, or the
     * provider, a protocol or a cipher is not available.
     */
    public static TlsContext load(String daemon, String key, TlsSettings settings) {
        TlsContext c = new TlsContext(daemon, key, settings, build(settings));
        c.warnIfExpiring(true);
        return c;
    }

    public String daemon() {
        return daemon;
    }

    /** The listener's key ({@code listen}). */
    public String key() {
        return key;
    }

    public TlsSettings settings() {
        return settings;
    }

    /** The provider of the current context. */
    public SslProvider provider() {
        return current.provider;
    }

    /** The current server certificate. */
    public X509Certificate certificate() {
        return current.certificate;
    }

    /** When the current certificate expires. */
    public Instant notAfter() {
        return current.certificate.getNotAfter().toInstant();
    }

    /**
     * Puts a TLS handler for a new connection at the end of {@code pipeline} (right after the front
     * handler, before the protocol's) and tells the front handler a handshake is under way: until it
     * completes, the connection is inside a request and {@code request-timeout} cuts a handshake that
     * stalls. On the connection's event loop, at accept.
     */
    public void install(ChannelPipeline pipeline) {
        SslHandler ssl = current.ssl.newHandler(pipeline.channel().alloc());
        // The framework's request deadline bounds the handshake (counted, logged and configurable per daemon);
        // SslHandler's own 10 s timer would be a second, silent one.
        ssl.setHandshakeTimeoutMillis(0);
        pipeline.addLast("daemonkit-tls", ssl);
        if (current.provider == SslProvider.OPENSSL && leanRecords) {
            // After the handshake, the records are OpenSslRecordHandler's (about 30 % less of what TLS adds to a
            // request's CPU in the process than SslHandler, docs/benchmarks.md#tls). A task, so that it runs after
            // the read that finished the handshake, once SslHandler has fired the handshake's events.
            ssl.handshakeFuture().addListener(done -> {
                if (done.isSuccess()) {
                    pipeline.channel().eventLoop().execute(() -> takeOver(pipeline, ssl));
                }
            });
        }
        FrontHandler front = pipeline.get(FrontHandler.class);
        if (front != null) {
            front.tlsHandshakeStarted(ssl.handshakeFuture());
            pipeline.addLast(PlaintextMark.NAME, new PlaintextMark(front::plaintextRead));
        }
    }

    private void takeOver(ChannelPipeline pipeline, SslHandler ssl) {
        try {
            OpenSslRecordHandler.takeOver(pipeline, ssl);
        } catch (Exception e) {
            // SslHandler's flush failed: the connection is broken; SslHandler has closed it or will.
            log.debug("daemon '{}': the TLS record handler did not take over from SslHandler", daemon, e);
            pipeline.channel().close();
        }
    }

    /** Watched by {@code watch} (set by {@link TlsWatch}). */
    synchronized void watching(ScheduledFuture<?> watch) {
        if (watching != null) {
            watching.cancel(false);
        }
        watching = watch;
    }

    /**
     * Called by the {@link TlsWatch} on its thread: if a file changed since the last attempt, makes a
     * new context and swaps it in; on failure the running context stays and the error is logged (once
     * per change of the files). Also repeats the expiry warning once a day.
     */
    synchronized void check() {
        List<String> stamps = stamps(settings);
        if (!stamps.equals(triedStamps)) {
            triedStamps = stamps;
            reload("its files changed");
        }
        warnIfExpiring(false);
    }

    /**
     * Makes a new context from the files now (a config reload): returns the swap, to run once the
     * whole reload is accepted, or throws the {@link ConfigError} that rejects it.
     */
    Runnable prepare() {
        Loaded fresh = build(settings);
        return () -> {
            synchronized (this) {
                swap(fresh, "the config was reloaded");
            }
        };
    }

    private void reload(String why) {
        Object previous = LogScope.of(daemon).enter();
        try {
            Loaded fresh;
            try {
                fresh = build(settings);
            } catch (ConfigError e) {
                log.error(
                        "daemon '{}': {} changed but cannot be used, so new connections keep the certificate"
                                + " they had (expires {}): {}",
                        daemon,
                        settings.where(),
                        notAfter(),
                        e.getMessage());
                return;
            }
            swap(fresh, why);
        } finally {
            LogScope.of(daemon).exit(previous);
        }
    }

    private void swap(Loaded fresh, String why) {
        Loaded was = current;
        current = fresh;
        triedStamps = fresh.stamps;
        log.info(
                "daemon '{}': {} reloaded ({}): new connections get {} (serial {}, expires {}); open ones keep {}",
                daemon,
                settings.where(),
                why,
                fresh.certificate.getSubjectX500Principal().getName(),
                fresh.certificate.getSerialNumber().toString(16),
                fresh.certificate.getNotAfter().toInstant(),
                was.certificate.getSerialNumber().toString(16));
        warnIfExpiring(true);
    }

    /** WARN when the certificate expires within {@code warn-before-expiry} (or has): at each load, else daily. */
    private void warnIfExpiring(boolean now) {
        Instant notAfter = notAfter();
        Duration left = Duration.between(Instant.now(), notAfter);
        if (left.compareTo(settings.warnBeforeExpiry()) > 0) {
            return;
        }
        long t = System.nanoTime();
        if (!now && lastExpiryWarningNanos != 0 && t - lastExpiryWarningNanos < TimeUnit.DAYS.toNanos(1)) {
            return;
        }
        lastExpiryWarningNanos = t;
        String when = left.isNegative()
                ? "expired at " + notAfter + " (" + left.negated().toDays() + " days ago): clients refuse it"
                : "expires at " + notAfter + ", in " + left.toDays() + " d " + left.toHoursPart() + " h";
        log.warn(
                "daemon '{}': the certificate of {} ({}) {}. Replace the file: it is reloaded within {} without"
                        + " dropping connections (metric daemonkit_tls_certificate_expiry_seconds).",
                daemon,
                settings.where(),
                settings.certFile().path(),
                when,
                settings.watchInterval().isZero()
                        ? "the next reload"
                        : settings.watchInterval().toMillis() % 1000 == 0
                                ? settings.watchInterval().toSeconds() + " s"
                                : settings.watchInterval().toMillis() + " ms");
    }

    /** The provider {@code p} names: OpenSSL where it loads for auto; a ConfigError for openssl where it does not. */
    static SslProvider provider(TlsSettings s) {
        return switch (s.provider()) {
            case JDK -> SslProvider.JDK;
            case AUTO -> OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
            case OPENSSL -> {
                if (!OpenSsl.isAvailable()) {
                    throw new ConfigError(
                            s.where() + ".provider = openssl, but OpenSSL (netty-tcnative-boringssl-static)"
                                    + " did not load here: " + OpenSsl.unavailabilityCause()
                                    + ". Use provider = auto (the JDK's engine where OpenSSL does not load) or jdk.");
                }
                yield SslProvider.OPENSSL;
            }
        };
    }

    /** Reads the files and makes a context; every failure is a ConfigError naming the file and key. */
    static Loaded build(TlsSettings s) {
        List<String> stamps = stamps(s);
        SslProvider provider = provider(s);
        X509Certificate[] chain = certificates(s.certFile(), "the server's certificate");
        PrivateKey privateKey = privateKey(s);
        if (privateKey != null) {
            checkPair(s, chain[0], privateKey);
        }
        SslContextBuilder b;
        try {
            b = privateKey != null
                    ? SslContextBuilder.forServer(privateKey, chain)
                    : SslContextBuilder.forServer(
                            s.certFile().path().toFile(),
                            s.keyFile().path().toFile(),
                            s.keyPassword().isEmpty() ? null : s.keyPassword());
        } catch (IllegalArgumentException e) {
            throw new ConfigError(s.keyFile().where() + " cannot be read: " + e.getMessage() + ". " + KEY_HINT);
        }
        b.sslProvider(provider).protocols(s.protocols());
        b.clientAuth(
                switch (s.clientAuth()) {
                    case NONE -> ClientAuth.NONE;
                    case OPTIONAL -> ClientAuth.OPTIONAL;
                    case REQUIRE -> ClientAuth.REQUIRE;
                });
        if (s.caFile() != null) {
            b.trustManager(certificates(s.caFile(), "CA certificates"));
        }
        if (!s.ciphers().isEmpty()) {
            b.ciphers(s.ciphers());
        }
        if (!s.alpn().isEmpty()) {
            b.applicationProtocolConfig(new ApplicationProtocolConfig(
                    ApplicationProtocolConfig.Protocol.ALPN,
                    ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                    ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                    s.alpn()));
        }
        SslContext ssl;
        try {
            ssl = b.build();
            // An engine made now finds a protocol or cipher the provider does not know, before a client does.
            SSLEngine probe = ssl.newEngine(ByteBufAllocator.DEFAULT);
            try {
                if (probe.getEnabledProtocols().length == 0) {
                    throw new IllegalArgumentException("none of " + s.protocols() + " is supported");
                }
                if (probe.getEnabledCipherSuites().length == 0) {
                    throw new IllegalArgumentException("none of the ciphers " + s.ciphers() + " is supported");
                }
            } finally {
                ReferenceCountUtil.release(probe);
            }
        } catch (javax.net.ssl.SSLException | RuntimeException e) {
            throw new ConfigError(s.where() + " (protocols " + s.protocols() + ", ciphers "
                    + (s.ciphers().isEmpty() ? "the provider's defaults" : s.ciphers()) + ", provider "
                    + provider.name().toLowerCase(Locale.ROOT) + ") cannot make a TLS context: " + e.getMessage()
                    + ". Check these keys against what the provider supports.");
        }
        return new Loaded(ssl, chain[0], provider, stamps);
    }

    private static final String KEY_HINT = "It must be a PEM private key (PKCS#8, BEGIN PRIVATE KEY; convert an"
            + " older one with openssl pkcs8 -topk8 -nocrypt -in old.key -out new.key), readable by this user";

    private static X509Certificate[] certificates(TlsSettings.Source file, String what) {
        try (InputStream in = Files.newInputStream(file.path())) {
            List<X509Certificate> out = new ArrayList<>();
            for (var c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                out.add((X509Certificate) c);
            }
            if (out.isEmpty()) {
                throw new ConfigError(
                        file.where() + " holds no certificate. It must hold " + what + " in PEM (BEGIN CERTIFICATE).");
            }
            return out.toArray(new X509Certificate[0]);
        } catch (NoSuchFileException e) {
            throw new ConfigError(file.where() + ": " + file.path() + " does not exist. It must hold " + what
                    + " in PEM (BEGIN CERTIFICATE).");
        } catch (IOException e) {
            throw new ConfigError(file.where() + ": " + file.path() + " cannot be read (" + e
                    + "). Check its permissions for the user the launcher runs as.");
        } catch (GeneralSecurityException e) {
            throw new ConfigError(file.where() + ": " + file.path() + " is not " + what + " in PEM (" + e.getMessage()
                    + "). It must hold BEGIN CERTIFICATE blocks.");
        }
    }

    /** The key, read with Netty's reader; null if that is out of reach (SslContextBuilder then reads it). */
    private static PrivateKey privateKey(TlsSettings s) {
        Path p = s.keyFile().path();
        if (!Files.isRegularFile(p)) {
            throw new ConfigError(s.keyFile().where() + ": " + p + " does not exist. " + KEY_HINT + ".");
        }
        if (!Files.isReadable(p)) {
            throw new ConfigError(
                    s.keyFile().where() + ": " + p + " cannot be read by this user. Check its permissions.");
        }
        if (TO_PRIVATE_KEY == null) {
            return null;
        }
        try {
            PrivateKey k = (PrivateKey)
                    TO_PRIVATE_KEY.invoke(p.toFile(), s.keyPassword().isEmpty() ? null : s.keyPassword());
            if (k == null) {
                throw new ConfigError(s.keyFile().where() + ": " + p + " holds no private key. " + KEY_HINT + ".");
            }
            return k;
        } catch (ConfigError e) {
            throw e;
        } catch (Throwable e) {
            throw new ConfigError(s.keyFile().where() + ": " + p + " is not a usable private key ("
                    + e.getClass().getSimpleName() + ": " + e.getMessage() + ")"
                    + (s.keyPassword().isEmpty() ? "" : "; or key-password is wrong") + ". " + KEY_HINT + ".");
        }
    }

    /** The key must be the certificate's: else every handshake would fail while the listener looks fine. */
    private static void checkPair(TlsSettings s, X509Certificate certificate, PrivateKey key) {
        String kind = switch (key.getAlgorithm()) {
            case "RSA" -> "RSA";
            case "EC", "ECDSA" -> "EC"; // ECDSA: a key read through BouncyCastle, when it is on the class path
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> null; // another kind: the first handshake will tell
        };
        if (kind == null) {
            return;
        }
        String algorithm = kind.equals("RSA") ? "SHA256withRSA" : kind.equals("EC") ? "SHA256withECDSA" : "Ed25519";
        byte[] data = "daemonkit".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        boolean matches;
        try {
            // The JDK's own key from the same PKCS#8 bytes: its signature engines take only their own keys.
            PrivateKey own = java.security.KeyFactory.getInstance(kind)
                    .generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(key.getEncoded()));
            Signature sign = Signature.getInstance(algorithm);
            sign.initSign(own);
            sign.update(data);
            byte[] signature = sign.sign();
            Signature verify = Signature.getInstance(algorithm);
            verify.initVerify(certificate.getPublicKey());
            verify.update(data);
            matches = verify.verify(signature);
        } catch (GeneralSecurityException | RuntimeException e) {
            log.debug("the key of {} could not be checked against its certificate", s.where(), e);
            return; // the first handshake will tell
        }
        if (!matches) {
            throw new ConfigError(s.keyFile().where() + " is not the key of the certificate in "
                    + s.certFile().where()
                    + " (" + certificate.getSubjectX500Principal().getName() + "). Give the key the certificate"
                    + " was made for; when replacing both, write the key first and the certificate last.");
        }
    }

    /**
     * Where each file really is (its symlinks resolved), and its modification time, size and inode, to
     * see a change without reading it. The real path is there for the Kubernetes Secret volume's way of
     * replacing files: {@code tls.crt -> ..data/tls.crt}, {@code ..data -> ..2026_11_30_12_00_00.123}, the
     * {@code ..data} link swapped in one rename to a new folder of new files. Attributes read through the
     * links see the new files already; the real path also tells them apart when a recycled inode, the
     * same size and a coarse clock would make their stamps equal.
     */
    static List<String> stamps(TlsSettings s) {
        List<String> out = new ArrayList<>(3);
        for (TlsSettings.Source f : new TlsSettings.Source[] {s.certFile(), s.keyFile(), s.caFile()}) {
            if (f == null) {
                continue;
            }
            try {
                Path real = f.path().toRealPath();
                BasicFileAttributes a = Files.readAttributes(real, BasicFileAttributes.class);
                out.add(real + "/" + a.lastModifiedTime().to(TimeUnit.NANOSECONDS) + "/" + a.size() + "/"
                        + a.fileKey());
            } catch (IOException e) {
                out.add("unreadable");
            }
        }
        return out;
    }

    @Override
    public String toString() {
        return "tls " + current.provider.name().toLowerCase(Locale.ROOT);
    }
}
