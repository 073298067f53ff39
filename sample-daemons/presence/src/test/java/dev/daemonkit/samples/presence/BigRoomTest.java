package dev.daemonkit.samples.presence;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.LineBasedFrameDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Large rooms (the attack "10,000 users join one room"): the room-size cap, membership events only in
 * small rooms, delivery in bounded slices per loop turn, and the backlog limit on SAY. The sessions
 * are EmbeddedChannels; the daemon's loop is a {@link ManualLoop} whose turns the test runs.
 */
class BigRoomTest {
    private final ManualTimers time = new ManualTimers();
    private final ManualLoop loop = new ManualLoop();
    private final List<EmbeddedChannel> channels = new ArrayList<>();
    private PresenceSettings settings = PresenceSettings.defaults();
    private Presence presence;

    private Presence presence() {
        if (presence == null) {
            presence = new Presence(
                    settings,
                    LoggerFactory.getLogger(BigRoomTest.class),
                    List.of(loop),
                    time,
                    time,
                    new CountingRequests());
        }
        return presence;
    }

    private EmbeddedChannel user(String name, String room) {
        EmbeddedChannel ch = new EmbeddedChannel(
                new LineBasedFrameDecoder(settings.maxLineBytes(), true, true), new LineSession(presence(), 0));
        channels.add(ch);
        assertThat(request(ch, "LOGIN " + name)).containsExactly("OK LOGIN " + name);
        if (room != null) {
            assertThat(request(ch, "JOIN " + room)).containsExactly("OK JOIN " + room);
        }
        return ch;
    }

    private static List<String> request(EmbeddedChannel ch, String line) {
        ch.writeInbound(Unpooled.copiedBuffer(line + "\n", StandardCharsets.UTF_8));
        return lines(ch);
    }

    private static List<String> lines(EmbeddedChannel ch) {
        StringBuilder sb = new StringBuilder();
        for (ByteBuf b; (b = ch.readOutbound()) != null; ) {
            sb.append(b.toString(StandardCharsets.UTF_8));
            b.release();
        }
        List<String> out = new ArrayList<>();
        for (String l : sb.toString().split("\n")) {
            if (!l.isEmpty()) {
                out.add(l);
            }
        }
        return out;
    }

    /** How many of the users have received {@code line} since the last call (their output is consumed). */
    private int received(List<EmbeddedChannel> users, String line) {
        int n = 0;
        for (EmbeddedChannel ch : users) {
            if (lines(ch).contains(line)) {
                n++;
            }
        }
        return n;
    }

    @AfterEach
    void closeAll() {
        for (EmbeddedChannel ch : channels) {
            ch.close();
        }
        loop.runTurns(1000);
        for (EmbeddedChannel ch : channels) {
            lines(ch);
            ch.finishAndReleaseAll();
        }
        if (presence != null) {
            assertThat(presence.roomCount()).isZero();
        }
    }

    @Test
    void aJoinBeyondMaxRoomMembersIsRefusedWithRoomFullAndASeatFreesUpWhenSomeoneLeaves() {
        settings = settings.withRooms(3, 1000, 1_000_000);
        EmbeddedChannel first = user("a", "lobby");
        user("b", "lobby");
        user("c", "lobby");
        EmbeddedChannel late = user("d", null);
        assertThat(request(late, "JOIN lobby"))
                .containsExactly(
                        "ERR room-full lobby has 3 members, the most allowed (max-room-members): try another room");
        assertThat(request(late, "WHO lobby")).containsExactly("OK WHO lobby 3 a b c");
        assertThat(request(late, "JOIN other")).containsExactly("OK JOIN other");

        assertThat(request(first, "LEAVE lobby")).containsExactly("OK LEAVE lobby");
        assertThat(request(late, "JOIN lobby")).containsExactly("OK JOIN lobby");
        assertThat(request(late, "WHO lobby")).containsExactly("OK WHO lobby 3 b c d");
    }

    @Test
    void joinsAndLeavesAreAnnouncedOnlyInRoomsUpToAnnounceMembershipUpTo() {
        settings = settings.withRooms(100, 2, 1_000_000);
        EmbeddedChannel a = user("a", "lobby");
        EmbeddedChannel b = user("b", "lobby");
        loop.runTurns(10);
        assertThat(lines(a)).containsExactly("EVENT JOIN lobby a", "EVENT JOIN lobby b");
        assertThat(lines(b)).containsExactly("EVENT JOIN lobby b");

        EmbeddedChannel c = user("c", "lobby"); // the third member: the room is past the threshold
        loop.runTurns(10);
        assertThat(lines(a)).isEmpty();
        assertThat(lines(c)).isEmpty();
        assertThat(request(c, "WHO lobby")).containsExactly("OK WHO lobby 3 a b c"); // WHO still answers

        assertThat(request(c, "LEAVE lobby")).containsExactly("OK LEAVE lobby"); // 3 before it left: silent
        loop.runTurns(10);
        assertThat(lines(a)).isEmpty();
        b.close(); // 2 before it left: told
        loop.runTurns(10);
        assertThat(lines(a)).containsExactly("EVENT LEAVE lobby b");
        assertThat(request(a, "SAY lobby still here")).containsExactly("OK SAY lobby"); // messages always go out
        loop.runTurns(10);
        assertThat(lines(a)).containsExactly("EVENT MSG lobby a still here");
    }

    /** Attacker: thousands of users in one room. A SAY reaches all of them, a bounded slice per loop turn. */
    @Test
    void aSayInAThousandsStrongRoomIsWrittenInBoundedSlicesPerLoopTurnAndReachesEveryMember() {
        int members = 2500;
        settings = settings.withRooms(10_000, 0, 1_000_000);
        List<EmbeddedChannel> users = new ArrayList<>();
        for (int i = 0; i < members; i++) {
            users.add(user("u" + i, "big"));
        }

        assertThat(request(users.get(7), "SAY big hello everyone")).containsExactly("OK SAY big");
        String event = "EVENT MSG big u7 hello everyone";
        int turns = 0;
        int total = 0;
        while (total < members) {
            loop.runTurn();
            turns++;
            int now = received(users, event);
            assertThat(now).as("members written in turn %d", turns).isBetween(1, Fanout.MEMBERS_PER_TURN);
            total += now;
        }
        assertThat(total).isEqualTo(members);
        // At least this many turns; more when a turn is cut short by time (Fanout.TURN_NANOS).
        assertThat(turns).isGreaterThanOrEqualTo((members + Fanout.MEMBERS_PER_TURN - 1) / Fanout.MEMBERS_PER_TURN);
        assertThat(loop.runTurns(10)).isZero(); // nothing left over
        assertThat(presence().fanouts[0].turnsCut).isPositive();
    }

    @Test
    void aPingIsAnsweredAtOnceWhileABigRoomIsBeingWritten() {
        settings = settings.withRooms(10_000, 0, 1_000_000);
        List<EmbeddedChannel> users = new ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            users.add(user("u" + i, "big"));
        }
        assertThat(request(users.get(0), "SAY big one")).containsExactly("OK SAY big");
        loop.runTurn();
        // Between two turns the loop reads: a member's PING is answered then, before the rest of the room is written.
        EmbeddedChannel last = users.get(users.size() - 1);
        assertThat(request(last, "PING 1")).containsExactly("OK PING 1");
        loop.runTurns(1000);
        assertThat(lines(last)).containsExactly("EVENT MSG big u0 one");
    }

    @Test
    void aSayIsRefusedWithRoomBusyWhileTheRoomsBacklogIsOverMaxRoomBacklogAndAcceptedOnceItDrains() {
        int members = 2000;
        settings = settings.withRooms(10_000, 0, 3000);
        List<EmbeddedChannel> users = new ArrayList<>();
        for (int i = 0; i < members; i++) {
            users.add(user("u" + i, "big"));
        }
        EmbeddedChannel talker = users.get(0);
        assertThat(request(talker, "SAY big one")).containsExactly("OK SAY big"); // backlog 2000
        assertThat(request(talker, "SAY big two")).containsExactly("OK SAY big"); // 4000
        assertThat(request(talker, "SAY big three"))
                .containsExactly(
                        "ERR room-busy big has 4000 event copies waiting to be written, more than 3000 (max-room-backlog):"
                                + " this message was not sent; try again shortly");
        loop.runTurns(1000);
        assertThat(received(users, "EVENT MSG big u0 two")).isEqualTo(members);
        assertThat(presence().rooms()).isEqualTo("1 big:2000");
        assertThat(request(talker, "SAY big three")).containsExactly("OK SAY big");
        loop.runTurns(1000);
        assertThat(received(users, "EVENT MSG big u0 three")).isEqualTo(members);
    }

    /**
     * broker = redis: an attacker on another launcher, alone in its part of the room, gets OK SAY for every message (its
     * launcher's backlog for the room is one copy per message), and each message arrives here for 2000 members. Here they
     * are bounded by this launcher's max-room-backlog as a local SAY is: dropped past it (pub/sub is at most once), not
     * queued without bound; the room's members get what was queued, and a local member can still say something once
     * it drains.
     */
    @Test
    void attackerOnAnotherLauncherFloodingABigRoomCannotQueueBeyondMaxRoomBacklogHereWhileOthersAreServed() {
        int members = 2000;
        settings = settings.withRooms(10_000, 0, 3000);
        List<EmbeddedChannel> users = new ArrayList<>();
        for (int i = 0; i < members; i++) {
            users.add(user("u" + i, "big"));
        }
        Room big = presence().room("big");
        int dropped = 0;
        for (int i = 0; i < 1000; i++) { // what Redis hands over while this loop has not written the room yet
            ByteBuf line = Unpooled.copiedBuffer("EVENT MSG big attacker spam " + i + "\n", StandardCharsets.UTF_8);
            if (!presence().publishFromElsewhere(big, line, false)) {
                dropped++;
            }
        }
        assertThat(big.backlog.get()).isEqualTo(4000); // two messages: the second took it over 3000, as a local SAY
        assertThat(dropped).isEqualTo(998);
        loop.runTurns(1000);
        assertThat(big.backlog.get()).isZero();
        assertThat(received(users, "EVENT MSG big attacker spam 1")).isEqualTo(members);
        assertThat(request(users.get(1), "SAY big hello")).containsExactly("OK SAY big");
        loop.runTurns(1000);
        assertThat(received(users, "EVENT MSG big u1 hello")).isEqualTo(members);
    }

    /**
     * Fan-out flood (found by a hostile review): five connections, each within its own rate-limit, say 900-byte
     * messages into a room as fast as they may. Without a room rate every member had to read all of it (10 such
     * connections: 180 KB/s), and each member that read less was disconnected at max-outbound-bytes: a room of
     * 3,000 was empty after 15 s. Now what the room carries stays within room-rate-limit (4 KiB/s and a 4 KiB
     * burst here); the senders beyond it get room-busy; a member of another room is served meanwhile, and the
     * room takes messages again once it is quiet.
     */
    @Test
    void attackerFloodingARoomFromManyConnectionsIsHeldToItsRoomRateAndMembersReadNoMoreWhileOthersAreServed() {
        settings = settings.withRoomRate(4096, 4096);
        List<EmbeddedChannel> attackers = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            attackers.add(user("a" + i, "r"));
        }
        EmbeddedChannel member = user("member", "r");
        EmbeddedChannel elsewhere = user("elsewhere", "quiet");
        String text = "x".repeat(900);
        int seconds = 10;
        int ok = 0;
        int busy = 0;
        long read = 0;
        for (int second = 0; second < seconds; second++) {
            for (EmbeddedChannel a : attackers) {
                for (int i = 0; i < 4; i++) { // 20 a second each: within rate-limit (20 per second, burst 40)
                    String reply = request(a, "SAY r " + text).stream()
                            .filter(l -> l.startsWith("OK SAY") || l.startsWith("ERR"))
                            .findFirst()
                            .orElseThrow();
                    if (reply.equals("OK SAY r")) {
                        ok++;
                    } else {
                        assertThat(reply)
                                .startsWith("ERR room-busy r carries more than 4096 bytes of messages a second");
                        busy++;
                    }
                }
            }
            loop.runTurns(100);
            for (String l : lines(member)) {
                if (l.startsWith("EVENT MSG r ")) {
                    read += l.length() + 1;
                }
            }
            assertThat(request(elsewhere, "SAY quiet still here")).contains("OK SAY quiet");
            time.advance(java.time.Duration.ofSeconds(1));
        }
        long line = ("EVENT MSG r a0 " + text + "\n").length();
        assertThat(read)
                .as("what a member of the room had to read in %d s", seconds)
                .isLessThanOrEqualTo(4096L + 4096L * seconds)
                .isGreaterThanOrEqualTo(seconds * (4096 / line) * line); // whole messages, said on the second
        assertThat(ok * line).isEqualTo(read);
        assertThat(busy).as("800 messages asked for").isEqualTo(5 * 4 * seconds - ok);
        assertThat(presence().rateRefused.sum()).isEqualTo(busy);
        // Quiet for a second: the room takes a message again.
        time.advance(java.time.Duration.ofSeconds(1));
        assertThat(request(member, "SAY r hello")).contains("OK SAY r");
    }

    /** A user whose connection comes from {@code host} (an EmbeddedChannel has no address of its own). */
    private EmbeddedChannel userAt(String host, String name, String room) {
        EmbeddedChannel ch =
                new EmbeddedChannel(
                        new LineBasedFrameDecoder(settings.maxLineBytes(), true, true),
                        new LineSession(presence(), 0)) {
                    @Override
                    protected java.net.SocketAddress remoteAddress0() {
                        return new java.net.InetSocketAddress(host, 40000);
                    }
                };
        channels.add(ch);
        assertThat(request(ch, "LOGIN " + name)).containsExactly("OK LOGIN " + name);
        assertThat(request(ch, "JOIN " + room)).contains("OK JOIN " + room);
        return ch;
    }

    /**
     * A flood from one host (three connections) takes at most a quarter of the room's rate: a member on another host
     * saying a message a second is never refused, where without the share the flood answered room-busy to everyone.
     */
    @Test
    void attackerFloodingARoomFromOneHostGetsAQuarterOfItsRateAndOthersStillSpeak() {
        settings = settings.withRoomRate(8192, 8192);
        List<EmbeddedChannel> attackers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            attackers.add(userAt("10.0.0.1", "a" + i, "r"));
        }
        EmbeddedChannel honest = userAt("10.0.0.2", "honest", "r");
        String text = "x".repeat(900);
        int attackerOk = 0;
        int honestOk = 0;
        int seconds = 10;
        for (int second = 0; second < seconds; second++) {
            for (EmbeddedChannel a : attackers) {
                for (int i = 0; i < 4; i++) {
                    List<String> reply = request(a, "SAY r " + text);
                    if (reply.contains("OK SAY r")) {
                        attackerOk++;
                    } else {
                        assertThat(reply)
                                .anyMatch(l -> l.startsWith(
                                        "ERR room-busy messages from your address take more than a quarter of r's"
                                                + " room-rate-limit (2048 bytes a second)"));
                    }
                }
            }
            if (request(honest, "SAY r hello from elsewhere " + second).contains("OK SAY r")) {
                honestOk++;
            }
            loop.runTurns(100);
            channels.forEach(BigRoomTest::lines);
            time.advance(java.time.Duration.ofSeconds(1));
        }
        assertThat(honestOk).as("the honest host's messages").isEqualTo(seconds);
        long line = ("EVENT MSG r a0 " + text + "\n").length();
        assertThat(attackerOk * line)
                .as("what the flooding host got through in %d s", seconds)
                .isLessThanOrEqualTo(2048L + 2048L * seconds);
    }

    /**
     * What the per-address buckets cost under a flood of addresses: each keeps one entry while it drains, and entries
     * full again are swept once the map has doubled, so addresses that stopped talking are forgotten and the map
     * stays within about twice the addresses talking now (a sweep at every SAY past a size would make each SAY walk
     * them all).
     */
    @Test
    void attackerSayingFromManyAddressesLeavesAtMostTwiceTheTalkingAddressesInTheRoomsBuckets() {
        user("keeper", "r"); // the room lives throughout
        Room r = presence().room("r");
        for (int wave = 0; wave < 2; wave++) {
            for (int i = 0; i < 300; i++) {
                EmbeddedChannel ch = userAt("10." + wave + "." + i / 256 + "." + i % 256, "u" + wave + "x" + i, "r");
                assertThat(request(ch, "SAY r hi")).contains("OK SAY r");
                ch.close();
            }
            time.advance(java.time.Duration.ofSeconds(10)); // every bucket full again
            loop.runTurns(1000);
        }
        assertThat(presence().room("r")).isSameAs(r);
        assertThat(r.trackedAddresses())
                .as("buckets after two waves of 300 addresses, the first gone quiet (600 if never swept)")
                .isLessThan(2 * 300);
    }

    /** broker = redis: messages from other launchers take this launcher's room rate too (each holds only its own senders). */
    @Test
    void attackerOnAnotherLauncherIsHeldToTheRoomRateHereAndTheDroppedAreCounted() {
        settings = settings.withRoomRate(4096, 4096);
        EmbeddedChannel member = user("member", "r");
        Room r = presence().room("r");
        String text = "x".repeat(900);
        int passed = 0;
        for (int i = 0; i < 100; i++) {
            ByteBuf msg = Unpooled.copiedBuffer("EVENT MSG r attacker " + text + "\n", StandardCharsets.UTF_8);
            if (presence().publishFromElsewhere(r, msg, false)) {
                passed++;
            }
        }
        assertThat(passed).as("4 KiB of 922-byte messages").isEqualTo(4);
        assertThat(presence().rateRefused.sum()).isEqualTo(96);
        loop.runTurns(1000);
        assertThat(lines(member))
                .filteredOn(l -> l.startsWith("EVENT MSG r attacker"))
                .hasSize(4);
    }

    /**
     * A client alone in max-rooms-per-user rooms of its own (its JOINs announced to itself): once their events are
     * written, an idle room keeps no queue. Before, every room kept its queue and batch arrays (~900 bytes per
     * loop): 2.3 KB a room on a 2-loop launcher, 37 KB a client in 16 rooms, 12 times the heap budget of an online
     * user (4,000 such clients: 147 MB).
     */
    @Test
    void attackerAloneInManyRoomsOfItsOwnLeavesNoQueueBehindWhileOthersAreServed() {
        settings = settings.withRooms(10_000, 1000, 1_000_000);
        Runtime rt = Runtime.getRuntime();
        long before = usedAfterGc(rt);
        List<EmbeddedChannel> attackers = new ArrayList<>();
        int clients = 250;
        for (int i = 0; i < clients; i++) {
            EmbeddedChannel ch = user("a" + i, null);
            attackers.add(ch);
            StringBuilder joins = new StringBuilder();
            for (int j = 0; j < settings.maxRoomsPerUser(); j++) {
                joins.append("JOIN r").append(i).append('x').append(j).append('\n');
            }
            ch.writeInbound(Unpooled.copiedBuffer(joins, StandardCharsets.UTF_8));
        }
        loop.runTurns(100_000);
        for (EmbeddedChannel ch : attackers) {
            lines(ch);
        }
        int rooms = clients * settings.maxRoomsPerUser();
        assertThat(presence().roomCount()).isEqualTo(rooms);
        for (int i = 0; i < clients; i++) {
            for (int j = 0; j < settings.maxRoomsPerUser(); j++) {
                assertThat(presence().room("r" + i + "x" + j).shards[0].holdsQueue())
                        .isFalse();
            }
        }
        long perRoom = (usedAfterGc(rt) - before) / rooms;
        // Measured here (one loop; the clients and their channels included): 1,705 bytes a room with a queue kept, 809
        // without.
        assertThat(perRoom).isLessThan(1200);
        EmbeddedChannel other = user("other", "lobby");
        assertThat(request(other, "SAY lobby hi")).containsExactly("OK SAY lobby");
        loop.runTurns(1000);
        assertThat(lines(other)).contains("EVENT MSG lobby other hi");
    }

    private static long usedAfterGc(Runtime rt) {
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            System.gc();
            used = Math.min(used, rt.totalMemory() - rt.freeMemory());
        }
        return used;
    }

    /** Join events queued together go out together, each only to those who were members when it was queued. */
    @Test
    void eachQueuedJoinReachesExactlyThoseWhoWereMembersThenInOrderAcrossALeave() {
        settings = settings.withRooms(10_000, 1000, 1_000_000);
        int n = 150;
        List<EmbeddedChannel> users = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            users.add(user("u" + i, "lobby"));
            if (i == 100) {
                assertThat(request(users.get(3), "LEAVE lobby")).containsExactly("OK LEAVE lobby");
            }
        }
        loop.runTurns(1000); // nothing was written until now: 150 joins and a leave, queued
        for (int k = 0; k < n; k++) {
            List<String> expected = new ArrayList<>();
            for (int j = k; j < n; j++) {
                if (k == 3 && j > 100) {
                    break; // u3 left after u100 joined
                }
                expected.add("EVENT JOIN lobby u" + j);
                if (j == 100 && k != 3) {
                    expected.add("EVENT LEAVE lobby u3");
                }
            }
            assertThat(lines(users.get(k))).as("what u%d got", k).containsExactlyElementsOf(expected);
        }
    }

    /**
     * Attacker: a few logged-in connections alternate JOIN and LEAVE in a room of hundreds that announces
     * membership, faster than the room is written (here the loop does not turn at all meanwhile). Every
     * join and leave used to be queued for every member, each with its own copy of the member array: the
     * queue grew without bound (the launcher died of OutOfMemoryError) and SAY got room-busy for minutes.
     * What the attacker gets: the room's queue stays at half of max-room-backlog (plus one event), the
     * rest of its announcements are dropped and counted. What a member gets: SAY goes through during the
     * churn, every member gets it, and once the room is written, joins are announced again and WHO is exact.
     */
    @Test
    void attackerChurningJoinAndLeaveInABigRoomCannotQueueMoreThanHalfOfMaxRoomBacklogAndMembersStillSay() {
        int members = 300;
        long maxBacklog = 20_000;
        // The rate limit is per connection: what three connections do at a high rate, 100 do within it.
        settings = settings.withRooms(10_000, 1000, maxBacklog).withRate(1_000_000, 1_000_000);
        List<EmbeddedChannel> users = new ArrayList<>();
        for (int i = 0; i < members; i++) {
            users.add(user("u" + i, "lobby"));
            loop.runTurns(1000); // a quiet room: every join announced and written before the next
        }
        assertThat(received(users, "EVENT JOIN lobby u" + (members - 1))).isEqualTo(members);
        Room lobby = presence().room("lobby");
        assertThat(lobby.backlog.get()).isZero();

        List<EmbeddedChannel> attackers = List.of(user("x1", null), user("x2", null), user("x3", null));
        long worstBacklog = 0;
        int worstEvents = 0;
        int rounds = 200;
        for (int round = 0; round < rounds; round++) {
            for (EmbeddedChannel attacker : attackers) {
                assertThat(request(attacker, "JOIN lobby")).containsExactly("OK JOIN lobby");
                assertThat(request(attacker, "LEAVE lobby")).containsExactly("OK LEAVE lobby");
                worstBacklog = Math.max(worstBacklog, lobby.backlog.get());
                worstEvents = Math.max(worstEvents, lobby.shards[0].queuedEvents());
            }
        }
        // 1200 joins and leaves to ~300 members would be ~360,000 copies (and 1200 member arrays) queued.
        assertThat(worstBacklog)
                .as("event copies queued in the room while the attacker churned")
                .isLessThanOrEqualTo(maxBacklog / 2 + members + 1);
        assertThat(worstEvents)
                .as("events queued in the room while the attacker churned")
                .isLessThanOrEqualTo((int) (maxBacklog / 2 / members) + 1);
        assertThat(presence().announcementsDropped.sum())
                .as("membership events dropped")
                .isGreaterThanOrEqualTo(2L * rounds * attackers.size() - worstEvents);
        assertThat(presence().droppedIn).isEqualTo("lobby");

        // A member speaks during the churn: accepted (the churn cannot take the half kept for SAY), delivered to all.
        assertThat(request(users.get(0), "SAY lobby still here")).containsExactly("OK SAY lobby");
        loop.runTurns(10_000);
        assertThat(received(users, "EVENT MSG lobby u0 still here")).isEqualTo(members);
        assertThat(lobby.backlog.get()).isZero();

        // Once the room is written, joins are announced again, and WHO gives the members to resync with.
        EmbeddedChannel late = user("late", "lobby");
        loop.runTurns(1000);
        assertThat(received(users, "EVENT JOIN lobby late")).isEqualTo(members);
        assertThat(lines(late)).containsExactly("EVENT JOIN lobby late");
        assertThat(request(late, "WHO lobby"))
                .singleElement()
                .asString()
                .startsWith("OK WHO lobby " + (members + 1) + " ");
    }

    /**
     * While a room's backlog is over half of max-room-backlog (here from messages), a join or leave is not
     * queued: it is counted, WHO answers, and a SAY is still accepted up to max-room-backlog.
     */
    @Test
    void aJoinIsNotAnnouncedWhileTheRoomsBacklogIsOverHalfOfMaxRoomBacklogButCountedAndWhoIsExact() {
        settings = settings.withRooms(10_000, 1000, 400);
        List<EmbeddedChannel> users = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            users.add(user("u" + i, "room"));
            loop.runTurns(1000);
        }
        received(users, "");
        EmbeddedChannel talker = users.get(0);
        assertThat(request(talker, "SAY room one")).containsExactly("OK SAY room");
        assertThat(request(talker, "SAY room two")).containsExactly("OK SAY room"); // backlog 200: half of 400
        EmbeddedChannel joiner = user("joiner", "room"); // not announced
        assertThat(presence().announcementsDropped.sum()).isEqualTo(1);
        assertThat(request(talker, "SAY room three")).containsExactly("OK SAY room"); // SAY: up to 400
        assertThat(request(joiner, "WHO room")).singleElement().asString().startsWith("OK WHO room 101 ");
        loop.runTurns(1000);
        assertThat(received(users, "EVENT JOIN room joiner")).isZero();
        assertThat(lines(joiner)).containsExactly("EVENT MSG room u0 three");

        assertThat(request(users.get(1), "LEAVE room")).containsExactly("OK LEAVE room"); // a quiet room again: told
        loop.runTurns(1000);
        assertThat(lines(joiner)).containsExactly("EVENT LEAVE room u1");
    }

    @Test
    void whoInARoomTooLargeToAnnounceMayBeUpToASecondOldAndIsExactInSmallerOnes() {
        settings = settings.withRooms(100, 2, 1_000_000);
        EmbeddedChannel a = user("a", "small");
        user("b", "small");
        assertThat(request(a, "WHO small")).containsExactly("OK WHO small 2 a b");
        assertThat(request(a, "LEAVE small")).containsExactly("OK LEAVE small");
        assertThat(request(a, "WHO small")).containsExactly("OK WHO small 1 b"); // at once

        user("c", "big");
        user("d", "big");
        user("e", "big");
        assertThat(request(a, "WHO big")).containsExactly("OK WHO big 3 c d e");
        user("f", "big");
        assertThat(request(a, "WHO big")).containsExactly("OK WHO big 3 c d e"); // the answer of a moment ago
        time.advance(Presence.WHO_STALE);
        assertThat(request(a, "WHO big")).containsExactly("OK WHO big 4 c d e f");
    }
}
