package dev.daemonkit.samples.presence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.daemonkit.testkit.TestCertificates;
import dev.daemonkit.testkit.TestLauncher;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * The web page in a real headless browser (Debian's chromium through its chromedriver, driven by
 * Selenium): two browser sessions see each other join and chat, and a line-protocol user's message
 * shows up in both pages. Skipped when chromium is not installed, unless DAEMONKIT_REQUIRE_BROWSER=1
 * (as in .ci/run, which installs it), where that is a failure.
 */
class BrowserTest {
    private static final String CHROMIUM = "/usr/bin/chromium";
    private static final String CHROMEDRIVER = "/usr/bin/chromedriver";

    @TempDir
    Path dir;

    private TestLauncher home;
    private final List<WebDriver> browsers = new ArrayList<>();

    @BeforeEach
    void needsChromium() {
        boolean installed = Files.isExecutable(Path.of(CHROMIUM)) && Files.isExecutable(Path.of(CHROMEDRIVER));
        String hint = CHROMIUM + " and " + CHROMEDRIVER + " are needed: apt-get install -y chromium chromium-driver";
        if (!installed && "1".equals(System.getenv("DAEMONKIT_REQUIRE_BROWSER"))) {
            throw new AssertionError("DAEMONKIT_REQUIRE_BROWSER=1 but " + hint);
        }
        Assumptions.assumeTrue(installed, "browser test skipped: " + hint);
    }

    @AfterEach
    void close() {
        browsers.forEach(WebDriver::quit);
        if (home != null) {
            home.close();
        }
    }

    private WebDriver browser(String name, String... more) throws IOException {
        ChromeOptions options = new ChromeOptions();
        options.addArguments(more);
        options.setBinary(CHROMIUM);
        options.addArguments(
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--user-data-dir=" + Files.createDirectories(dir.resolve("chromium-" + name)));
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(CHROMEDRIVER)) // never Selenium Manager: nothing is downloaded
                .usingAnyFreePort()
                .build();
        WebDriver driver = new ChromeDriver(service, options);
        browsers.add(driver);
        return driver;
    }

    private static void type(WebDriver page, String id, String text) {
        page.findElement(By.id(id)).clear();
        page.findElement(By.id(id)).sendKeys(text);
    }

    private static void eventually(Supplier<String> actual, String contains) {
        await().atMost(Duration.ofSeconds(15))
                .untilAsserted(() -> assertThat(actual.get()).contains(contains));
    }

    private static String text(WebDriver page, String id) {
        return page.findElement(By.id(id)).getText();
    }

    @Test
    void twoBrowsersSeeEachOtherJoinAndChatAndALineUsersMessageShowsUp() throws Exception {
        home = Launchers.presence().start();
        String url =
                "http://127.0.0.1:" + home.address("presence", "listen-http").getPort() + "/";
        WebDriver alice = browser("alice");
        WebDriver bob = browser("bob");

        for (var user : List.of(List.of(alice, "alice"), List.of(bob, "bob"))) {
            WebDriver page = (WebDriver) user.get(0);
            page.get(url);
            eventually(() -> text(page, "status"), "connected");
            type(page, "name", (String) user.get(1));
            page.findElement(By.id("login")).click();
            eventually(() -> text(page, "me"), "you are " + user.get(1));
            type(page, "room", "lobby");
            page.findElement(By.id("join")).click();
            eventually(() -> text(page, "current"), "lobby");
        }
        eventually(() -> text(alice, "members"), "bob");
        eventually(() -> text(bob, "members"), "alice");
        eventually(() -> text(alice, "rooms"), "lobby (2)");

        type(alice, "text", "hello bob");
        alice.findElement(By.id("send")).click();
        eventually(() -> text(bob, "messages"), "alicehello bob");

        try (Client carol = Client.line(home.address("presence", "listen"))) {
            assertThat(carol.request("LOGIN carol")).isEqualTo("OK LOGIN carol");
            assertThat(carol.request("JOIN lobby")).isEqualTo("OK JOIN lobby");
            eventually(() -> text(bob, "members"), "carol");
            assertThat(carol.request("SAY lobby <b>hi</b> from a terminal")).isEqualTo("OK SAY lobby");
            eventually(() -> text(alice, "messages"), "carol<b>hi</b> from a terminal"); // shown as text, not HTML
            eventually(() -> text(bob, "messages"), "carol<b>hi</b> from a terminal");

            type(bob, "text", "welcome carol");
            bob.findElement(By.id("send")).click();
            carol.expectLine("EVENT MSG lobby bob welcome carol");
        }
        eventually(() -> text(alice, "messages"), "carolleft");
        assertThat(text(alice, "error")).isEmpty();
    }

    @Test
    void thePageAndItsWebSocketWorkOverHttpsAndWssWithNoCodeInThePlugin() throws Exception {
        TestCertificates ca = TestCertificates.newCa("presence-test-ca");
        TestCertificates.Issued server = ca.server(dir, "presence", Duration.ofDays(1));
        home = Launchers.presence()
                .start("daemons.presence.tls.listen-http { cert-file = \"" + server.certFile() + "\", key-file = \""
                        + server.keyFile() + "\" }");
        String url =
                "https://localhost:" + home.address("presence", "listen-http").getPort() + "/";
        // Chromium trusts this one server key (by the hash of its public key) and nothing else it would refuse.
        WebDriver dana = browser(
                "dana", "--ignore-certificate-errors-spki-list=" + TestCertificates.spkiSha256(server.certificate()));
        dana.get(url);
        eventually(() -> text(dana, "status"), "connected"); // the page's WebSocket: wss://, since the page is https
        assertThat(((JavascriptExecutor) dana).executeScript("return location.protocol + ' ' + state.ws.url"))
                .isEqualTo("https: wss://localhost:"
                        + home.address("presence", "listen-http").getPort() + "/ws");
        type(dana, "name", "dana");
        dana.findElement(By.id("login")).click();
        eventually(() -> text(dana, "me"), "you are dana");
        type(dana, "room", "secure");
        dana.findElement(By.id("join")).click();
        eventually(() -> text(dana, "current"), "secure");

        try (Client erin = Client.line(home.address("presence", "listen"))) { // the line listener stays plaintext
            assertThat(erin.request("LOGIN erin")).isEqualTo("OK LOGIN erin");
            assertThat(erin.request("JOIN secure")).isEqualTo("OK JOIN secure");
            assertThat(erin.request("SAY secure over a plain line")).isEqualTo("OK SAY secure");
            eventually(() -> text(dana, "messages"), "erinover a plain line");
            type(dana, "text", "over wss");
            dana.findElement(By.id("send")).click();
            erin.expectLine("EVENT MSG secure dana over wss");
        }
        assertThat(text(dana, "error")).isEmpty();
    }
}
