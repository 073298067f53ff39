package dev.daemonkit.samples.presence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.daemonkit.testkit.LogLine;
import dev.daemonkit.testkit.TestLauncher;
import io.lettuce.core.RedisClient;
import io.netty.channel.uring.IoUring;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;
import redis.clients.authentication.core.TokenListener;

/**
 * Two launchers in this JVM sharing one real redis-server ({@code broker = redis}): what users on different launchers
 * see of each other, and what they get when Redis goes away, comes back, or is too slow. The plugin runs from a plugin
 * folder with Lettuce and its libraries beside its jar, as the distribution ships it.
 */
class PresenceClusterTest {
    private RedisServer redis;
    private final List<TestLauncher> launchers = new ArrayList<>();
    private final String prefix = "test-" + UUID.randomUUID();

    @BeforeEach
    void redis() throws Exception {
        redis = RedisServer.start();
    }

    @AfterEach
    void stop() throws Exception {
        try {
            for (TestLauncher l : launchers) {
                l.close(); // throws when the kit's checks fail: Redis is stopped all the same
            }
        } finally {
            if (redis != null) {
                redis.close();
            }
        }
    }

    /** A launcher with the presence daemon on the Redis broker; {@code extra} HOCON lines win. */
    private TestLauncher launcher(String extra) {
        TestLauncher l = TestLauncher.withPlugin(PresencePlugin.class)
                .bundling(
                        RedisClient.class,
                        Mono.class,
                        Publisher.class,
                        TokenListener.class,
                        DnsAddressResolverGroup.class,
                        DnsRecord.class)
                .config("daemons.presence { listen = \"127.0.0.1:0\", listen-http = \"127.0.0.1:0\", broker = redis,"
                        + " redis { address = \"" + redis.address() + "\", key-prefix = \"" + prefix
                        + "\", ttl = 1 s } }\n");
        launchers.add(l);
        l.start(extra);
        // STARTING until its first attempt to reach Redis has ended (readyWhen), then bound and RUNNING.
        await().atMost(Duration.ofSeconds(30)).until(() -> !l.state("presence").equals("STARTING"));
        return l;
    }

    private TestLauncher launcher() {
        return launcher("");
    }

    @Test
    void aLineUserOnOneLauncherAndAWebSocketUserOnTheOtherSeeEachOthersJoinSayAndLeave() throws Exception {
        TestLauncher a = launcher();
        TestLauncher b = launcher();
        try (Client alice = Client.line(a.address("presence", "listen"));
                Client bob = Client.web(b.address("presence", "listen-http"))) {
            assertThat(alice.request("LOGIN alice")).isEqualTo("OK LOGIN alice");
            assertThat(alice.request("JOIN lobby")).isEqualTo("OK JOIN lobby");
            alice.expectLine("EVENT JOIN lobby alice");
            assertThat(bob.request("LOGIN bob")).isEqualTo("OK LOGIN bob");
            assertThat(bob.request("JOIN lobby")).isEqualTo("OK JOIN lobby");
            bob.expectLine("EVENT JOIN lobby bob");
            alice.expectLine("EVENT JOIN lobby bob");

            assertThat(bob.request("SAY lobby hello from the web")).isEqualTo("OK SAY lobby");
            alice.expectLine("EVENT MSG lobby bob hello from the web");
            bob.expectLine("EVENT MSG lobby bob hello from the web"); // once: not again through Redis
            assertThat(alice.request("SAY lobby hello from a terminal")).isEqualTo("OK SAY lobby");
            bob.expectLine("EVENT MSG lobby alice hello from a terminal");
            alice.expectLine("EVENT MSG lobby alice hello from a terminal");

            assertThat(bob.request("WHO lobby")).isEqualTo("OK WHO lobby 2 alice bob");
            assertThat(alice.request("ROOMS")).isEqualTo("OK ROOMS 1 lobby:2");

            assertThat(alice.request("LEAVE lobby")).isEqualTo("OK LEAVE lobby");
            bob.expectLine("EVENT LEAVE lobby alice");
            assertThat(bob.request("WHO lobby")).isEqualTo("OK WHO lobby 1 bob");
            // Nothing more reached bob twice: the next line after a PING is its reply.
            assertThat(bob.request("PING done")).isEqualTo("OK PING done");
            assertThat(bob.lines).isEmpty();
        }
    }

    @Test
    void usersOnAnIoUringLauncherAndOnAnEpollLauncherSeeEachOtherThroughRedis() throws Exception {
        assumeTrue(IoUring.isAvailable(), () -> "io_uring is not available here: " + IoUring.unavailabilityCause());
        // Lettuce runs on each launcher's own loops: IoUringSocketChannels on a, EpollSocketChannels on b.
        TestLauncher a = launcher("daemonkit.transport.native = io_uring\n");
        TestLauncher b = launcher("daemonkit.transport.native = epoll\n");
        assertThat(a.state("presence")).isEqualTo("RUNNING");
        assertThat(b.state("presence")).isEqualTo("RUNNING");
        assertThat(a.logs().stream().map(LogLine::message)).anyMatch(m -> m.startsWith("transport: io_uring "));
        try (Client alice = Client.line(a.address("presence", "listen"));
                Client bob = Client.line(b.address("presence", "listen"))) {
            assertThat(alice.request("LOGIN alice")).isEqualTo("OK LOGIN alice");
            assertThat(alice.request("JOIN lobby")).isEqualTo("OK JOIN lobby");
            alice.expectLine("EVENT JOIN lobby alice");
            assertThat(bob.request("LOGIN bob")).isEqualTo("OK LOGIN bob");
            assertThat(bob.request("JOIN lobby")).isEqualTo("OK JOIN lobby");
            bob.expectLine("EVENT JOIN lobby bob");
            alice.expectLine("EVENT JOIN lobby bob");
            assertThat(alice.request("SAY lobby over io_uring")).isEqualTo("OK SAY lobby");
            bob.expectLine("EVENT MSG lobby alice over io_uring");
            assertThat(bob.request("SAY lobby over epoll")).isEqualTo("OK SAY lobby");
            alice.expectLine("EVENT MSG lobby bob over epoll");
        }
    }

    /**
     * A hot deploy of presence on Redis while the launcher runs: the old version's class loader, and Lettuce's in it,
     * is collected once its last user has gone, although Lettuce connected, and so started event loop threads, from
     * the old version's start (docs/plugin-guide.md, "Class loaders and threads").
     */
    @Test
    void faultAHotDeployOfPresenceOnRedisUnloadsTheOldVersionAndTheNewOneSpansLaunchers() throws Exception {
        TestLauncher a = launcher("daemonkit.plugins.watch = true\ndaemonkit.plugins.scan-interval = 50 ms\n");
        TestLauncher b = launcher();
        try (Client bob = Client.line(b.address("presence", "listen"))) {
            assertThat(bob.request("LOGIN bob")).isEqualTo("OK LOGIN bob");
            assertThat(bob.request("JOIN lobby")).isEqualTo("OK JOIN lobby");
            bob.expectLine("EVENT JOIN lobby bob");
            try (Client alice = Client.line(a.address("presence", "listen"))) {
                assertThat(alice.request("LOGIN alice")).isEqualTo("OK LOGIN alice");
                assertThat(alice.request("JOIN lobby")).isEqualTo("OK JOIN lobby");
                alice.expectLine("EVENT JOIN lobby alice");
                bob.expectLine("EVENT JOIN lobby alice");

                // A new version of the plugin: the same jar, written again.
                Path jar = a.home().resolve("plugins/presence/presence.jar");
                Files.setLastModifiedTime(
                        jar, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() + 2_000));
                await().atMost(Duration.ofSeconds(30))
                        .until(() ->
                                a.logs().stream().anyMatch(l -> l.message().contains("daemon 'presence' now runs")));
                // The old version retires: it says goodbye to its users and stops once they are gone.
                alice.expectLine("BYE stopping the server is stopping");
            }
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> a.logs().stream()
                            .anyMatch(l -> l.message().contains("unloaded cleanly")
                                    || l.message().contains("did not unload")));
            assertThat(a.logs().stream().map(l -> l.message()).filter(m -> m.contains("unload")))
                    .as("the old version's class loader was collected")
                    .anySatisfy(m -> assertThat(m).contains("presence").contains("unloaded cleanly"))
                    .noneSatisfy(m -> assertThat(m).contains("did not unload"));

            // The new version serves, across launchers.
            try (Client dave = Client.line(a.address("presence", "listen"))) {
                await().atMost(Duration.ofSeconds(10))
                        .untilAsserted(
                                () -> assertThat(dave.request("LOGIN dave")).isEqualTo("OK LOGIN dave"));
                assertThat(dave.request("JOIN lobby")).isEqualTo("OK JOIN lobby");
                dave.expectLine("EVENT JOIN lobby dave");
                bob.expectLine("EVENT JOIN lobby dave");
            }
        }
    }

    @Test
    void aLoneSayReachesTheOtherLauncherWithNothingAfterItToPushItOut() throws Exception {
        // The PUBLISH waits for the end of its loop's turn (the outbox): a turn that ends with nothing else to do
        // still sends it.
        TestLauncher a = launcher();
        TestLauncher b = launcher();
        try (Client alice = Client.line(a.address("presence", "listen"));
                Client bob = Client.line(b.address("presence", "listen"))) {
            assertThat(alice.request("LOGIN alice")).isEqualTo("OK LOGIN alice");
            assertThat(bob.request("LOGIN bob")).isEqualTo("OK LOGIN bob");
            assertThat(bob.request("JOIN lobby")).isEqualTo("OK JOIN lobby");
            assertThat(alice.request("JOIN lobby")).isEqualTo("OK JOIN lobby");
            bob.expectLine("EVENT JOIN lobby alice");
            alice.send("SAY lobby only this");
            bob.expectLine("EVENT MSG lobby alice only this");
        }
    }

    @Test
    void aLeaveMadeOutsideAnyReadCrossesWhenItsLoopTurnEndsWithNothingElseToDo() throws Exception {
        // A connection that drops leaves its rooms in channelInactive, after the read that saw the end: no read ends
        // after its LEAVE to send it, the end of the loop's turn does.
        TestLauncher a = launcher();
        TestLauncher b = launcher();
        try (Client bob = Client.line(b.address("presence", "listen"))) {
            assertThat(bob.request("LOGIN bob")).isEqualTo("OK LOGIN bob");
            assertThat(bob.request("JOIN lobby")).isEqualTo("OK JOIN lobby");
            try (Client alice = Client.line(a.address("presence", "listen"))) {
                assertThat(alice.request("LOGIN alice")).isEqualTo("OK LOGIN alice");
                assertThat(alice.request("JOIN lobby")).isEqualTo("OK JOIN lobby");
                bob.expectLine("EVENT JOIN lobby alice");
            } // closed without QUIT
            bob.expectLine("EVENT LEAVE lobby alice");
        }
    }

    @Test
    void manySaysReadAtOnceCrossInOrderAndShareWritesToRedis() throws Exception {
        TestLauncher a = launcher("daemons.presence { stats-interval = 200 ms, rate-limit { per-second = 100000,"
                + " burst = 100000 } }\n");
        TestLauncher b = launcher();
        ch.qos.logback.classic.Logger daemonLog =
                (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("daemon.presence");
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        daemonLog.addAppender(logged);
        try (Client alice = Client.line(a.address("presence", "listen"));
                Client bob = Client.line(b.address("presence", "listen"))) {
            assertThat(alice.request("LOGIN alice")).isEqualTo("OK LOGIN alice");
            assertThat(bob.request("LOGIN bob")).isEqualTo("OK LOGIN bob");
            assertThat(bob.request("JOIN lobby")).isEqualTo("OK JOIN lobby");
            assertThat(alice.request("JOIN lobby")).isEqualTo("OK JOIN lobby");
            bob.expectLine("EVENT JOIN lobby alice");
            StringBuilder burst = new StringBuilder();
            for (int i = 0; i < 100; i++) {
                burst.append("SAY lobby number ").append(i).append('\n');
            }
            alice.send(burst.toString().strip()); // one write: read by launcher a in one or a few reads
            for (int i = 0; i < 100; i++) {
                bob.expectLine("EVENT MSG lobby alice number " + i); // each once, in the order said
            }
            // Launcher a's stats line: the 100 PUBLISHes went to Redis in far fewer writes than one each.
            java.util.regex.Pattern sent = java.util.regex.Pattern.compile("events sent to it (\\d+) in (\\d+) writes");
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                long[] most = {0, 0};
                synchronized (logged) {
                    for (ILoggingEvent e : logged.list) {
                        java.util.regex.Matcher m = sent.matcher(e.getFormattedMessage());
                        if (m.find() && Long.parseLong(m.group(1)) > most[0]) {
                            most[0] = Long.parseLong(m.group(1));
                            most[1] = Long.parseLong(m.group(2));
                        }
                    }
                }
                assertThat(most[0]).isGreaterThanOrEqualTo(100);
                assertThat(most[1] * 10).as("writes for %d events", most[0]).isLessThanOrEqualTo(most[0]);
            });
        } finally {
            daemonLog.detachAppender(logged);
        }
    }

    @Test
    void aNameTakenOnOneLauncherIsRefusedOnTheOtherAndFreeAgainOnceItsUserQuits() throws Exception {
        TestLauncher a = launcher();
        TestLauncher b = launcher();
        try (Client first = Client.line(a.address("presence", "listen"));
                Client second = Client.line(b.address("presence", "listen"))) {
            assertThat(first.request("LOGIN carol")).isEqualTo("OK LOGIN carol");
            assertThat(second.request("LOGIN carol"))
                    .isEqualTo("ERR name-taken carol is online already (on another launcher): choose another name");
            assertThat(first.request("QUIT")).isEqualTo("OK QUIT");
            await().atMost(Duration.ofSeconds(10))
                    .untilAsserted(
                            () -> assertThat(second.request("LOGIN carol")).isEqualTo("OK LOGIN carol"));
        }
    }

    @Test
    void commandsSentTogetherWithALoginThatWaitsForRedisAreAnsweredInOrder() throws Exception {
        TestLauncher a = launcher();
        try (Client dave = Client.line(a.address("presence", "listen"))) {
            dave.send("LOGIN dave\nJOIN lobby\nSAY lobby first\nWHO lobby\nPING x");
            List<String> got = new ArrayList<>();
            dave.expect(l -> got.add(l) && l.equals("OK PING x"));
            // One reply per command, in order (events go out from the room's fan-out, between replies).
            assertThat(got.stream().filter(l -> !l.startsWith("EVENT ")))
                    .containsExactly(
                            "OK LOGIN dave", "OK JOIN lobby", "OK SAY lobby", "OK WHO lobby 1 dave", "OK PING x");
            assertThat(got).containsSubsequence("OK JOIN lobby", "EVENT JOIN lobby dave", "EVENT MSG lobby dave first");
        }
    }

    @Test
    void faultRedisDownAtStartRefusesLoginsSaysSoInHealthThenServesWhenRedisComes() throws Exception {
        redis.stop();
        TestLauncher a = launcher();
        assertThat(a.state("presence")).isEqualTo("RUNNING");
        assertThat(a.degraded("presence"))
                .startsWith("Redis at " + redis.address() + " (daemons.NAME.redis.address) unreachable since ")
                .endsWith("new logins are refused, rooms serve this launcher's users only");
        try (Client erin = Client.line(a.address("presence", "listen"))) {
            assertThat(erin.request("LOGIN erin"))
                    .startsWith("ERR unavailable the presence service cannot reach its Redis");

            redis.startProcess();
            await().atMost(Duration.ofSeconds(15))
                    .untilAsserted(() -> assertThat(erin.request("LOGIN erin")).isEqualTo("OK LOGIN erin"));
            assertThat(a.degraded("presence")).isNull();
        }
    }

    @Test
    void faultRedisDiesMidSessionRoomsServeLocallyThenSpanLaunchersAgainWithoutRestart() throws Exception {
        TestLauncher a = launcher();
        TestLauncher b = launcher();
        // The daemons' log lines (logger daemon.presence, shared by both launchers in this JVM).
        ch.qos.logback.classic.Logger daemonLog =
                (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("daemon.presence");
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        daemonLog.addAppender(logged);
        try (Client alice = Client.line(a.address("presence", "listen"));
                Client amy = Client.line(a.address("presence", "listen"));
                Client bob = Client.line(b.address("presence", "listen"))) {
            for (var c : List.of(alice, amy, bob)) {
                String name = c == alice ? "alice" : c == amy ? "amy" : "bob";
                assertThat(c.request("LOGIN " + name)).isEqualTo("OK LOGIN " + name);
                assertThat(c.request("JOIN lobby")).isEqualTo("OK JOIN lobby");
            }
            assertThat(alice.request("SAY lobby before")).isEqualTo("OK SAY lobby");
            bob.expectLine("EVENT MSG lobby alice before");

            redis.stop();
            await().atMost(Duration.ofSeconds(10)).until(() -> a.degraded("presence") != null);
            // Those online keep their rooms on their own launcher; new logins are refused.
            assertThat(alice.request("SAY lobby during")).isEqualTo("OK SAY lobby");
            amy.expectLine("EVENT MSG lobby alice during");
            try (Client late = Client.line(a.address("presence", "listen"))) {
                assertThat(late.request("LOGIN late")).startsWith("ERR unavailable");
            }

            redis.startProcess();
            await().atMost(Duration.ofSeconds(15)).until(() -> a.degraded("presence") == null);
            // Both launchers registered their users and rooms again: events cross again, WHO sees everyone.
            await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
                assertThat(bob.request("WHO lobby")).isEqualTo("OK WHO lobby 3 alice amy bob");
            });
            assertThat(alice.request("SAY lobby after")).isEqualTo("OK SAY lobby");
            bob.expect(l -> l.equals("EVENT MSG lobby alice after"));
            assertThat(bob.request("SAY lobby back")).isEqualTo("OK SAY lobby");
            alice.expect(l -> l.equals("EVENT MSG lobby bob back"));
            // However many reconnect attempts the outage took: each launcher logged its start once and its end once.
            await().atMost(Duration.ofSeconds(10))
                    .untilAsserted(() ->
                            assertThat(count(logged, "is reachable again")).isEqualTo(2));
            assertThat(count(logged, "unreachable since")).isEqualTo(2);
        } finally {
            daemonLog.detachAppender(logged);
        }
    }

    private static long count(ListAppender<ILoggingEvent> logged, String text) {
        synchronized (logged) { // AppenderBase.doAppend holds the appender's lock while it adds
            return logged.list.stream()
                    .filter(e -> e.getFormattedMessage().contains(text))
                    .count();
        }
    }

    @Test
    void attackerFloodingARoomWhileRedisIsStalledGetsRoomBusyAndTheLauncherKeepsServing() throws Exception {
        TestLauncher a = launcher("daemons.presence { rate-limit { per-second = 100000, burst = 100000 },"
                + " redis { max-pending = 50, command-timeout = 30 s } }\n");
        try (Client flooder = Client.line(a.address("presence", "listen"));
                Client other = Client.line(a.address("presence", "listen"))) {
            assertThat(flooder.request("LOGIN flooder")).isEqualTo("OK LOGIN flooder");
            assertThat(flooder.request("JOIN lobby")).isEqualTo("OK JOIN lobby");
            assertThat(other.request("LOGIN other")).isEqualTo("OK LOGIN other");
            redis.pause(true);
            try {
                StringBuilder burst = new StringBuilder();
                for (int i = 0; i < 200; i++) {
                    burst.append("SAY lobby spam ").append(i).append('\n');
                }
                flooder.send(burst.toString().strip());
                String refused = flooder.expect(l -> l.startsWith("ERR room-busy"));
                assertThat(refused)
                        .isEqualTo("ERR room-busy 50 messages are waiting for Redis at " + redis.address()
                                + " (it is slow), more than redis.max-pending (50): this message was not sent;"
                                + " try again shortly");
                // The launcher serves the others meanwhile: commands that need no Redis answer at once.
                assertThat(other.request("PING still-here")).isEqualTo("OK PING still-here");
            } finally {
                redis.pause(false);
            }
            flooder.send("PING end");
            flooder.expectLine("OK PING end"); // every reply of the burst was read
            await().atMost(Duration.ofSeconds(15))
                    .untilAsserted(() ->
                            assertThat(flooder.request("SAY lobby calm again")).isEqualTo("OK SAY lobby"));
        }
    }
}
