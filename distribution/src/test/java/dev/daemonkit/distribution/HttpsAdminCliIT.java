package dev.daemonkit.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import dev.daemonkit.testkit.TestCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin endpoint over https in the real distribution, driven by {@code bin/daemonkit} as separate
 * processes, with encrypted keys on both sides (the launcher's through {@code key-password}, the
 * command's through {@code --client-key-password-file}) and {@code client-auth = require}. The class
 * path is the distribution's, without BouncyCastle: the keys are opened by the JDK through Netty, as
 * they are in production. And what an operator gets for an encrypted key without its password, a
 * wrong password, or no client certificate at all: exit codes and messages that say what to do.
 */
class HttpsAdminCliIT {
    @TempDir
    Path tmp;

    @Test
    void controlCommandsWithAnEncryptedClientKeyReachAnHttpsAdminWhoseKeyIsEncryptedAndFaultsSayWhatToDo()
            throws Exception {
        Path certs = Files.createDirectories(tmp.resolve("certs"));
        TestCertificates ca = TestCertificates.newCa("admin-ca");
        Path caFile = ca.writeCa(certs.resolve("ca.crt"));
        TestCertificates.Issued server =
                TestCertificates.encryptKey(ca.server(certs, "admin", Duration.ofDays(1)), "launcher secret");
        TestCertificates.Issued operator = TestCertificates.encryptKey(ca.client(certs, "operator"), "op secret");
        Path password = Files.writeString(certs.resolve("operator.pass"), "op secret\n");
        Path wrong = Files.writeString(certs.resolve("wrong.pass"), "not it\n");
        assertThat(Files.readString(server.keyFile())).startsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----");

        int admin = LauncherProcess.freePort();
        int echo = LauncherProcess.freePort();
        int daytime = LauncherProcess.freePort();
        try (var launcher = new LauncherProcess(tmp.resolve("home"))) {
            launcher.writeConfig(
                    """
                    daemonkit.admin.listen = "127.0.0.1:%d"
                    daemonkit.admin.tls {
                      cert-file = "%s", key-file = "%s", key-password = "launcher secret"
                      ca-file = "%s", client-auth = require
                    }
                    daemonkit.shutdown.grace = 2 s
                    daemonkit.plugins.watch = false
                    daemons {
                      echo.listen = "127.0.0.1:%d"
                      daytime { listen = "127.0.0.1:%d", listen-udp = "127.0.0.1:%d" }
                    }
                    """.formatted(admin, server.certFile(), server.keyFile(), caFile, echo, daytime, daytime));
            launcher.start().awaitStarted();
            assertThat(launcher.output()).contains("admin endpoint on https://127.0.0.1:" + admin + "/");

            // What an operator gets: status, and a stop of one daemon, over https with their certificate.
            String[] as = {
                "--client-cert", operator.certFile().toString(),
                "--client-key", operator.keyFile().toString(),
                "--client-key-password-file", password.toString()
            };
            var status = launcher.command(with(as, "status"));
            assertThat(status.exitCode()).as(status.output()).isZero();
            assertThat(status.output()).contains("echo").contains("RUNNING");
            var stop = launcher.command(with(as, "stop", "daytime"));
            assertThat(stop.exitCode()).as(stop.output()).isZero();
            assertThat(LauncherProcess.echoLine(echo, "still served")).isEqualTo("still served");

            // Faults: each exits non-zero with what to do, and the launcher serves on.
            var noPassword = launcher.command(
                    "status",
                    "--client-cert",
                    operator.certFile().toString(),
                    "--client-key",
                    operator.keyFile().toString());
            assertThat(noPassword.exitCode()).isEqualTo(2);
            assertThat(noPassword.output())
                    .contains("--client-key " + operator.keyFile() + " is encrypted")
                    .contains("--client-key-password-file FILE");
            var wrongPassword = launcher.command(
                    "status",
                    "--client-cert",
                    operator.certFile().toString(),
                    "--client-key",
                    operator.keyFile().toString(),
                    "--client-key-password-file",
                    wrong.toString());
            assertThat(wrongPassword.exitCode()).isEqualTo(2);
            assertThat(wrongPassword.output())
                    .contains("cannot be used")
                    .contains("is the password in --client-key-password-file " + wrong + " the key's?");
            var noCertificate = launcher.command("status");
            assertThat(noCertificate.exitCode()).isEqualTo(1);
            assertThat(noCertificate.output()).contains("--client-cert FILE --client-key FILE");

            assertThat(LauncherProcess.echoLine(echo, "after the faults")).isEqualTo("after the faults");
            assertThat(launcher.terminate()).isZero();
        }
    }

    /** {@code command} then the client certificate options {@code as}. */
    private static String[] with(String[] as, String... command) {
        String[] all = new String[command.length + as.length];
        System.arraycopy(command, 0, all, 0, command.length);
        System.arraycopy(as, 0, all, command.length, as.length);
        return all;
    }
}
