package dev.daemonkit.samples.presence;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.LineBasedFrameDecoder;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * ROOMS and WHO among many rooms and members (the attack "64,000 rooms, 100 connections sending ROOMS and WHO"): they
 * keep the first 200 rooms or 500 names ({@link First}) instead of sorting them all on the event loop, and answer
 * exactly as the full sort did. The sessions are EmbeddedChannels on a {@link ManualLoop}.
 */
class ListingTest {
    private final ManualTimers time = new ManualTimers();
    private final ManualLoop loop = new ManualLoop();
    private final List<EmbeddedChannel> channels = new ArrayList<>();
    private final Presence presence = new Presence(
            PresenceSettings.defaults(),
            LoggerFactory.getLogger(ListingTest.class),
            List.of(loop),
            time,
            time,
            new CountingRequests());

    private EmbeddedChannel user(String name) {
        EmbeddedChannel ch =
                new EmbeddedChannel(new LineBasedFrameDecoder(1024, true, true), new LineSession(presence, 0));
        channels.add(ch);
        assertThat(request(ch, "LOGIN " + name)).isEqualTo("OK LOGIN " + name);
        return ch;
    }

    private static String request(EmbeddedChannel ch, String line) {
        ch.writeInbound(Unpooled.copiedBuffer(line + "\n", StandardCharsets.UTF_8));
        StringBuilder sb = new StringBuilder();
        for (ByteBuf b; (b = ch.readOutbound()) != null; ) {
            sb.append(b.toString(StandardCharsets.UTF_8));
            b.release();
        }
        return sb.toString().strip();
    }

    /**
     * As BigRoomTest's: the events the rooms queued (JOINs announced) are written, or released, only when the loop
     * turns; without these turns they were garbage-collected unreleased and Netty's leak detector failed a later test.
     */
    @AfterEach
    void closeAll() {
        for (EmbeddedChannel ch : channels) {
            ch.close();
        }
        loop.runTurns(1000);
        for (EmbeddedChannel ch : channels) {
            for (ByteBuf b; (b = ch.readOutbound()) != null; ) {
                b.release();
            }
            ch.finishAndReleaseAll();
        }
    }

    private static final String NAME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.";

    /** Distinct random names of 1 to 32 characters (many short ones, so that some share a prefix). */
    private static List<String> randomNames(Random random, int count) {
        Set<String> names = new HashSet<>();
        while (names.size() < count) {
            StringBuilder sb = new StringBuilder();
            int length = 1 + random.nextInt(random.nextBoolean() ? 3 : 32);
            for (int i = 0; i < length; i++) {
                sb.append(NAME_CHARS.charAt(random.nextInt(NAME_CHARS.length())));
            }
            names.add(sb.toString());
        }
        return new ArrayList<>(names);
    }

    /** {@code count} new rooms with random names, with 1 to 3 members each (sessions without a connection). */
    private List<String> randomRooms(Random random, int count) {
        List<String> rooms = new ArrayList<>();
        Session[] members = {new LineSession(presence, 0), new LineSession(presence, 0), new LineSession(presence, 0)};
        for (String r : randomNames(random, count * 2)) {
            if (rooms.size() == count || presence.room(r) != null) {
                continue;
            }
            int n = 1 + random.nextInt(3);
            for (int i = 0; i < n; i++) {
                assertThat(presence.join(r, members[i])).isNotNull();
            }
            rooms.add(r);
        }
        assertThat(rooms).hasSize(count);
        return rooms;
    }

    /** ROOMS as it was made before {@link First}: every room copied and sorted by name, the first ROOMS_MAX written. */
    private String roomsTheOldWay(List<String> names) {
        List<String> all = new ArrayList<>(names);
        Collections.sort(all);
        StringBuilder sb = new StringBuilder().append(all.size());
        for (int i = 0; i < Math.min(all.size(), Presence.ROOMS_MAX); i++) {
            sb.append(' ').append(all.get(i)).append(':').append(presence.room(all.get(i)).size);
        }
        return sb.toString();
    }

    /** WHO as it was made before {@link First}: every name copied and sorted, the first WHO_MAX_NAMES written. */
    private static String whoTheOldWay(String room, List<String> names) {
        List<String> sorted = new ArrayList<>(names);
        Collections.sort(sorted);
        StringBuilder sb = new StringBuilder(room).append(' ').append(sorted.size());
        for (int i = 0; i < Math.min(sorted.size(), Presence.WHO_MAX_NAMES); i++) {
            sb.append(' ').append(sorted.get(i));
        }
        return sb.toString();
    }

    @Test
    void firstGivesWhatAFullSortGivesOnRandomInput() {
        Random random = new Random(7);
        for (int round = 0; round < 300; round++) {
            List<String> input = randomNames(random, random.nextInt(random.nextBoolean() ? 20 : 3000));
            int n = List.of(0, 1, 2, 200, 500, 5000).get(random.nextInt(6));
            First<String> first = new First<>(n, Comparator.naturalOrder());
            input.forEach(first::offer);
            List<String> sorted = new ArrayList<>(input);
            Collections.sort(sorted);
            assertThat(first.count()).isEqualTo(input.size());
            assertThat(first.sorted())
                    .as("n = %d of %d", n, input.size())
                    .isEqualTo(sorted.subList(0, Math.min(n, sorted.size())));
        }
    }

    @Test
    void roomsAndWhoAnswerExactlyAsTheFullSortDidOnRandomRoomsAndNames() {
        Random random = new Random(42);
        EmbeddedChannel asker = user("asker");
        List<String> rooms = new ArrayList<>();
        for (int count : new int[] {1, 150, 200, 201, 1500}) {
            rooms.addAll(randomRooms(random, count - rooms.size()));
            time.advance(Presence.WHO_STALE);
            assertThat(request(asker, "ROOMS")).isEqualTo("OK ROOMS " + roomsTheOldWay(rooms));
        }
        List<String> names = new ArrayList<>(randomNames(random, 1200));
        names.removeIf(n -> n.equals("asker"));
        for (String n : names) {
            assertThat(request(user(n), "JOIN crowd")).isEqualTo("OK JOIN crowd");
            if (random.nextInt(200) == 0) { // a sample of sizes up to past WHO_MAX_NAMES
                time.advance(Presence.WHO_STALE);
                List<String> sofar = names.subList(0, names.indexOf(n) + 1);
                assertThat(request(asker, "WHO crowd")).isEqualTo("OK WHO " + whoTheOldWay("crowd", sofar));
            }
        }
        time.advance(Presence.WHO_STALE);
        assertThat(request(asker, "WHO crowd")).isEqualTo("OK WHO " + whoTheOldWay("crowd", names));
    }

    @Test
    void attackerAskingForRoomsAmongSixtyFourThousandMakesNoCopyOfThemWhileOthersAreServed() {
        // Each refresh of the 1-second ROOMS answer copied every room and sorted the copy on the event loop: with
        // 64,000 rooms, 100 connections sending ROOMS and WHO took echo's p99 on the same loops from 2 ms to 185 ms
        // (found by a hostile review). Now a heap keeps the first 200: one comparison for most rooms, no copy.
        List<String> rooms = randomRooms(new Random(3), 64_000);
        EmbeddedChannel attacker = user("attacker");
        EmbeddedChannel other = user("other");
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        String expected = "OK ROOMS " + roomsTheOldWay(rooms);
        long least = Long.MAX_VALUE; // the first ROOMS of a connection also sets up its buffers
        for (int round = 0; round < 5; round++) {
            time.advance(Presence.WHO_STALE); // the cached answer is stale: this ROOMS makes a new one
            long before = threads.getCurrentThreadAllocatedBytes();
            String answer = request(attacker, "ROOMS");
            least = Math.min(least, threads.getCurrentThreadAllocatedBytes() - before);
            assertThat(answer).isEqualTo(expected);
            assertThat(request(other, "PING")).isEqualTo("OK PING");
        }
        // A copy of the room references alone is 256 KB (4 bytes each; the sort's scratch space was 128 KB more).
        assertThat(least)
                .as("bytes allocated by a ROOMS among 64,000 rooms that refreshed the answer")
                .isLessThan(64 * 1024);
    }
}
