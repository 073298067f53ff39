package dev.daemonkit.cli;

import dev.daemonkit.internal.config.Addresses;
import dev.daemonkit.internal.config.ConfigError;
import dev.daemonkit.internal.config.ConfigLoader;
import dev.daemonkit.internal.config.LauncherSettings;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLException;

/**
 * The control commands ({@code status}, {@code reload}, {@code stop}, {@code start}, {@code restart},
 * {@code log-level}): they talk to the running launcher through its admin endpoint, whose address and
 * token come from the same config file the launcher uses. With {@code daemonkit.admin.tls} they speak
 * https and trust what {@link AdminTrust} says.
 */
final class ControlClient {
    private final PrintStream out;
    private final PrintStream err;
    /** The config file the commands read the admin token from: named when the launcher refuses the token. */
    private Path config;

    ControlClient(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    int run(CommandLine cli) {
        config = cli.config();
        LauncherSettings settings;
        try {
            settings = ConfigLoader.load(cli.config(), cli.configExplicit(), ControlClient.class.getClassLoader())
                    .launcherSettings();
        } catch (ConfigError e) {
            err.println("daemonkit: " + e.getMessage());
            return Main.BAD_CONFIG;
        }
        LauncherSettings.Admin admin = settings.admin();
        String where = Addresses.format(admin.listen()) + " (daemonkit.admin.listen in " + cli.config() + ")";
        if (!admin.enabled()) {
            err.println("daemonkit: the admin endpoint is off (daemonkit.admin.enabled = false in " + cli.config()
                    + "), and control commands go through it. Turn it on, or stop the launcher with kill -TERM.");
            return Main.FATAL;
        }
        String host = admin.listen().getAddress().isAnyLocalAddress()
                ? "127.0.0.1"
                : Addresses.format(admin.listen()).replaceFirst(":\\d+$", "");
        String base = (admin.https() ? "https://" : "http://") + host + ":"
                + admin.listen().getPort();
        Duration slow =
                settings.shutdown().delay().plus(settings.shutdown().grace()).plusSeconds(15);
        HttpClient.Builder client = HttpClient.newBuilder()
                .connectTimeout(Duration.ofSeconds(3))
                .version(HttpClient.Version.HTTP_1_1); // the admin endpoint speaks HTTP/1.1 only
        if (admin.https()) {
            try {
                client.sslContext(AdminTrust.context(
                        admin.tls(), cli.clientCert(), cli.clientKey(), cli.clientKeyPasswordFile()));
            } catch (ConfigError e) {
                err.println("daemonkit: " + e.getMessage());
                return Main.BAD_CONFIG;
            }
        } else if (cli.clientCert() != null) {
            err.println(
                    "daemonkit: --client-cert is for an https admin endpoint, and daemonkit.admin.tls is not set in "
                            + cli.config() + ".");
            return Main.BAD_CONFIG;
        }
        HttpClient http = client.build();
        try {
            return switch (cli.command()) {
                case "status" ->
                    print(
                            send(http, admin, "GET", base + "/daemons?format=table", null, Duration.ofSeconds(10)),
                            false);
                case "reload" -> print(send(http, admin, "POST", base + "/reload", "", Duration.ofSeconds(60)), true);
                case "start" ->
                    print(
                            send(
                                    http,
                                    admin,
                                    "POST",
                                    base + "/daemons/" + cli.args().get(0) + "/start",
                                    "",
                                    slow),
                            true);
                case "restart" ->
                    print(
                            send(
                                    http,
                                    admin,
                                    "POST",
                                    base + "/daemons/" + cli.args().get(0) + "/restart",
                                    "",
                                    slow),
                            true);
                case "log-level" ->
                    print(
                            send(
                                    http,
                                    admin,
                                    "PUT",
                                    base + "/loggers/"
                                            + URLEncoder.encode(cli.args().get(0), StandardCharsets.UTF_8)
                                            + (cli.daemonOption() == null
                                                    ? ""
                                                    : "?daemon="
                                                            + URLEncoder.encode(
                                                                    cli.daemonOption(), StandardCharsets.UTF_8)),
                                    cli.args().get(1),
                                    Duration.ofSeconds(10)),
                            true);
                case "stop" ->
                    cli.args().isEmpty()
                            ? stopLauncher(http, admin, base, slow)
                            : print(
                                    send(
                                            http,
                                            admin,
                                            "POST",
                                            base + "/daemons/" + cli.args().get(0) + "/stop",
                                            "",
                                            slow),
                                    true);
                default -> throw new IllegalArgumentException(cli.command());
            };
        } catch (ConnectException | HttpConnectTimeoutException e) {
            err.println("daemonkit: no launcher is running at " + where + ". Start one with: bin/daemonkit run");
            return Main.FATAL;
        } catch (SSLException e) {
            err.println("daemonkit: the TLS handshake with the launcher at " + where + " failed: " + e.getMessage()
                    + ". Control commands trust the certificate in daemonkit.admin.tls.cert-file (or one signed by"
                    + " its ca-file) of " + cli.config() + "; pass the launcher's config with --config FILE, and"
                    + " under client-auth = require a client certificate with --client-cert FILE --client-key FILE.");
            return Main.FATAL;
        } catch (IOException e) {
            err.println("daemonkit: talking to the launcher at " + where + " failed: " + e
                    + (admin.https()
                            ? ". If the launcher refused this command's client certificate (client-auth = require),"
                                    + " pass one signed by daemonkit.admin.tls.ca-file: --client-cert FILE --client-key FILE."
                            : ". If the launcher's admin endpoint speaks https, pass its config: --config FILE."));
            return Main.FATAL;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Main.FATAL;
        }
    }

    private int stopLauncher(HttpClient http, LauncherSettings.Admin admin, String base, Duration wait)
            throws IOException, InterruptedException {
        int rc = print(send(http, admin, "POST", base + "/shutdown", "", Duration.ofSeconds(10)), true);
        if (rc != Main.OK) {
            return rc;
        }
        long deadline = System.nanoTime() + wait.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                send(http, admin, "GET", base + "/health", null, Duration.ofSeconds(2));
                Thread.sleep(200); // polling the stopping launcher, bounded by the deadline
            } catch (ConnectException | HttpConnectTimeoutException e) {
                out.println("stopped");
                return Main.OK;
            } catch (IOException e) {
                // The endpoint closed mid-answer: it is going away; look again.
                Thread.sleep(100);
            }
        }
        err.println("daemonkit: the launcher is still running after " + wait.toSeconds() + " s");
        return Main.FATAL;
    }

    private static HttpResponse<String> send(
            HttpClient http, LauncherSettings.Admin admin, String method, String url, String body, Duration timeout)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url))
                .timeout(timeout)
                .method(
                        method,
                        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (!admin.token().isBlank()) {
            b.header("Authorization", "Bearer " + admin.token());
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static final Pattern FIELD = Pattern.compile("\"(message|error)\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");

    /**
     * Prints the answer ({@code message} or {@code error} of a JSON answer, else the body); 0 for 2xx. An error is
     * always JSON, also for a command whose answer is text ({@code status}), so its message is what is printed.
     */
    private int print(HttpResponse<String> response, boolean json) {
        boolean ok = response.statusCode() / 100 == 2;
        String text = response.body();
        if (json || !ok) {
            Matcher m = FIELD.matcher(text);
            if (m.find()) {
                text = m.group(2).replace("\\n", "\n").replace("\\\"", "\"").replace("\\\\", "\\");
            }
        }
        if (ok) {
            out.print(text.endsWith("\n") ? text : text + "\n");
            return Main.OK;
        }
        err.print("daemonkit: " + (text.endsWith("\n") ? text : text + "\n"));
        if (response.statusCode() == 401) {
            err.println("daemonkit: this command read daemonkit.admin.token from " + config
                    + ". If the launcher runs with another config file, pass that file: --config FILE.");
        }
        return Main.FATAL;
    }
}
