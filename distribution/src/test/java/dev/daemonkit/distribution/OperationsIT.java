package dev.daemonkit.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The admin endpoint, the control commands and SIGHUP, against a launcher in its own process. */
class OperationsIT {
    @TempDir
    Path tmp;

    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private HttpResponse<String> call(String method, int port, String path, String body, String token)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30))
                .method(
                        method,
                        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String config(int admin, int echo, String extra) throws Exception {
        return """
                daemonkit.admin.listen = "127.0.0.1:%d"
                daemonkit.shutdown.grace = 3 s
                daemons {
                  echo.listen = "127.0.0.1:%d"
                  daytime { listen = "127.0.0.1:%d", listen-udp = "127.0.0.1:%d" }
                }
                %s
                """.formatted(admin, echo, LauncherProcess.freePort(), LauncherProcess.freePort(), extra);
    }

    @Test
    void everyEndpointAndCommandWorksAgainstARunningLauncher() throws Exception {
        int admin = LauncherProcess.freePort();
        int echo = LauncherProcess.freePort();
        try (var launcher = new LauncherProcess(tmp)) {
            launcher.writeConfig(config(admin, echo, ""));
            launcher.start().awaitStarted();
            assertThat(LauncherProcess.echoLine(echo, "hi")).isEqualTo("hi");

            var health = call("GET", admin, "/health", null, null);
            assertThat(health.statusCode()).isEqualTo(200);
            assertThat(health.body()).contains("ok").contains("echo RUNNING").contains("daytime RUNNING");

            var daemons = call("GET", admin, "/daemons", null, null);
            assertThat(daemons.statusCode()).isEqualTo(200);
            assertThat(daemons.headers().firstValue("content-type"))
                    .hasValueSatisfying(v -> assertThat(v).contains("json"));
            assertThat(daemons.body())
                    .contains("\"name\":\"echo\"")
                    .contains("\"plugin\":\"echo\"")
                    .contains("\"state\":\"RUNNING\"")
                    .contains("\"listeners\":[\"tcp 127.0.0.1:" + echo + "\"]")
                    .contains("\"restarts\":0")
                    .contains("\"last_failure\":null")
                    .contains("\"version\":\"0.1.0-SNAPSHOT\"");

            var metrics = call("GET", admin, "/metrics", null, null);
            assertThat(metrics.statusCode()).isEqualTo(200);
            assertThat(metrics.body())
                    .contains("daemonkit_connections_accepted_total{daemon=\"echo\"} 1")
                    .contains("daemonkit_connections_open{daemon=\"echo\"}")
                    .contains("daemonkit_bytes_in_total{daemon=\"echo\"} 3")
                    .contains("daemonkit_timers_pending{daemon=\"echo\"}")
                    .contains("daemonkit_eventloop_pending_tasks{loop=\"0\"}")
                    .contains("daemonkit_log_events_dropped_total")
                    .contains("daemonkit_log_lines_lost_total")
                    .contains("jvm_memory_used_bytes");

            var status = launcher.command("status");
            assertThat(status.exitCode()).isZero();
            assertThat(status.output())
                    .contains("DAEMON")
                    .contains("STATE")
                    .contains("echo")
                    .contains("RUNNING")
                    .contains("tcp 127.0.0.1:" + echo);

            assertThat(call("POST", admin, "/daemons/echo/stop", "", null).body())
                    .contains("\"state\":\"STOPPED\"");
            var unhealthy = call("GET", admin, "/health", null, null);
            assertThat(unhealthy.statusCode()).isEqualTo(503);
            assertThat(unhealthy.body()).contains("echo STOPPED");
            assertThat(call("POST", admin, "/daemons/echo/start", "", null).body())
                    .contains("\"state\":\"RUNNING\"");
            assertThat(LauncherProcess.echoLine(echo, "back")).isEqualTo("back");

            var stopOne = launcher.command("stop", "daytime");
            assertThat(stopOne.exitCode()).isZero();
            assertThat(stopOne.output()).contains("daemon 'daytime' STOPPED");
            assertThat(launcher.command("status").output()).containsPattern("daytime +daytime +\\S+ +STOPPED");
            var startOne = launcher.command("start", "daytime");
            assertThat(startOne.exitCode()).isZero();
            assertThat(startOne.output()).contains("daemon 'daytime' RUNNING");

            var restart = launcher.command("restart", "echo");
            assertThat(restart.exitCode()).isZero();
            assertThat(restart.output()).contains("daemon 'echo' RUNNING");
            assertThat(call("POST", admin, "/daemons/nope/restart", "", null).statusCode())
                    .isEqualTo(404);

            var level = launcher.command("log-level", "echo", "DEBUG");
            assertThat(level.exitCode()).isZero();
            assertThat(level.output()).contains("daemon 'echo' is now DEBUG");
            assertThat(call("PUT", admin, "/loggers/io.netty", "{\"level\":\"ERROR\"}", null)
                            .body())
                    .contains("logger 'io.netty' is now ERROR");
            assertThat(call("PUT", admin, "/loggers/echo", "LOUD", null).statusCode())
                    .isEqualTo(400);

            // reload through the command: a changed limit is applied in place.
            Files.writeString(
                    launcher.home.resolve("conf/daemonkit.conf"),
                    config(admin, echo, "daemons.echo.max-connections = 5"));
            var reload = launcher.command("reload");
            assertThat(reload.exitCode()).isZero();
            assertThat(reload.output()).contains("updated in place: echo");

            // SIGHUP does the same; a bad config is refused and the running one stays.
            Files.writeString(
                    launcher.home.resolve("conf/daemonkit.conf"), config(admin, echo, "daemons.echo.colour = blue"));
            new ProcessBuilder("kill", "-HUP", Long.toString(launcher.pid()))
                    .start()
                    .waitFor();
            await().atMost(Duration.ofSeconds(10)).until(() -> launcher.output().contains("reload rejected"));
            assertThat(launcher.output()).contains("unknown key daemons.echo.colour");
            assertThat(LauncherProcess.echoLine(echo, "still")).isEqualTo("still");
            var badReload = launcher.command("reload");
            assertThat(badReload.exitCode()).isEqualTo(1);
            assertThat(badReload.output()).contains("rejected, the running config stays");

            var stop = launcher.command("stop");
            assertThat(stop.exitCode()).isZero();
            assertThat(stop.output()).contains("stopped");
            assertThat(launcher.awaitExit()).isZero();
            assertThat(launcher.output()).doesNotContain("\tat ").doesNotContain("LEAK:");
            // Each rejected reload (SIGHUP, then the command) is reported once, not again by the signal handler.
            assertThat(launcher.output().lines().filter(l -> l.contains("unknown key daemons.echo.colour")))
                    .hasSize(2);
        }
    }

    @Test
    void controlCommandsSayClearlyWhenNoLauncherRuns() throws Exception {
        try (var launcher = new LauncherProcess(tmp)) {
            launcher.writeConfig(config(LauncherProcess.freePort(), LauncherProcess.freePort(), ""));
            var status = launcher.command("status");
            assertThat(status.exitCode()).isEqualTo(1);
            assertThat(status.output())
                    .contains("no launcher is running at 127.0.0.1:")
                    .contains("daemonkit.admin.listen");
        }
    }

    @Test
    void aTokenIsRequiredWhenConfigured() throws Exception {
        int admin = LauncherProcess.freePort();
        try (var launcher = new LauncherProcess(tmp)) {
            launcher.writeConfig(config(admin, LauncherProcess.freePort(), "daemonkit.admin.token = s3cret"));
            launcher.start().awaitStarted();
            assertThat(call("GET", admin, "/daemons", null, null).statusCode()).isEqualTo(401);
            assertThat(call("POST", admin, "/shutdown", "", "wrong").statusCode())
                    .isEqualTo(401);
            assertThat(call("GET", admin, "/daemons", null, "s3cret").statusCode())
                    .isEqualTo(200);
            // The commands read the token from the same config file.
            assertThat(launcher.command("status").exitCode()).isZero();
            await().until(() -> launcher.output().contains("admin: refused GET /daemons"));
            assertThat(launcher.terminate()).isZero();
        }
    }
}
