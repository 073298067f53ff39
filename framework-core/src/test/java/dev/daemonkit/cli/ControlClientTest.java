package dev.daemonkit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The control commands against a stand-in admin endpoint that refuses the token. */
class ControlClientTest {
    @TempDir
    Path home;

    private HttpServer admin;

    @AfterEach
    void stop() {
        if (admin != null) {
            admin.stop(0);
        }
    }

    @Test
    void statusWithoutTheLaunchersTokenPrintsTheErrorAndHowToPassTheConfigNotJson() throws Exception {
        admin = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        admin.createContext("/", exchange -> {
            byte[] body = "{\"error\":\"this admin endpoint needs the token of daemonkit.admin.token: send"
                    .concat(" Authorization: Bearer TOKEN\"}")
                    .getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(401, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        admin.start();
        Path conf = home.resolve("conf/daemonkit.conf");
        Files.createDirectories(conf.getParent());
        Files.writeString(
                conf,
                "daemonkit.admin.listen = \"127.0.0.1:" + admin.getAddress().getPort() + "\"\n");

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = new ControlClient(
                        new PrintStream(out, true, StandardCharsets.UTF_8),
                        new PrintStream(err, true, StandardCharsets.UTF_8))
                .run(CommandLine.parse(new String[] {"status"}, home));

        assertThat(rc).isEqualTo(Main.FATAL);
        assertThat(out.toString(StandardCharsets.UTF_8)).isEmpty();
        assertThat(err.toString(StandardCharsets.UTF_8))
                .startsWith("daemonkit: this admin endpoint needs the token of daemonkit.admin.token")
                .contains("read daemonkit.admin.token from " + conf)
                .contains("--config FILE")
                .doesNotContain("{\"error\"");
    }
}
