package dev.daemonkit.samples.presence;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.util.concurrent.ImmediateEventExecutor;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The line protocol, one session or a few in a room, in EmbeddedChannels with a hand-moved clock. */
class SessionTest {
    private final ManualTimers time = new ManualTimers();
    private final List<EmbeddedChannel> channels = new ArrayList<>();
    private PresenceSettings settings = PresenceSettings.defaults();
    private Presence presence;

    private Presence presence() {
        if (presence == null) {
            presence = new Presence(
                    settings,
                    LoggerFactory.getLogger(SessionTest.class),
                    List.of(ImmediateEventExecutor.INSTANCE),
                    time,
                    time,
                    new CountingRequests());
        }
        return presence;
    }

    private EmbeddedChannel connect() {
        EmbeddedChannel ch = new EmbeddedChannel(
                new LineBasedFrameDecoder(settings.maxLineBytes(), true, true), new LineSession(presence(), 0));
        channels.add(ch);
        return ch;
    }

    private EmbeddedChannel user(String name, String... rooms) {
        EmbeddedChannel ch = connect();
        assertThat(request(ch, "LOGIN " + name)).containsExactly("OK LOGIN " + name);
        for (String room : rooms) {
            assertThat(request(ch, "JOIN " + room)).startsWith("OK JOIN " + room);
        }
        return ch;
    }

    /** Sends one line and returns everything written back since the last call; releases the buffers. */
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

    @AfterEach
    void closeAll() {
        for (EmbeddedChannel ch : channels) {
            ch.close();
        }
        for (EmbeddedChannel ch : channels) {
            lines(ch);
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void everyoneInARoomSeesJoinsMessagesAndLeaves() {
        EmbeddedChannel alice = user("alice", "lobby");
        EmbeddedChannel bob = user("bob");
        assertThat(lines(alice)).isEmpty();

        assertThat(request(bob, "join lobby")).containsExactly("OK JOIN lobby", "EVENT JOIN lobby bob");
        assertThat(lines(alice)).containsExactly("EVENT JOIN lobby bob");

        assertThat(request(alice, "SAY lobby hello  there, bob "))
                .containsExactly("OK SAY lobby", "EVENT MSG lobby alice hello  there, bob");
        assertThat(lines(bob)).containsExactly("EVENT MSG lobby alice hello  there, bob");

        assertThat(request(alice, "WHO lobby")).containsExactly("OK WHO lobby 2 alice bob");
        assertThat(request(alice, "ROOMS")).containsExactly("OK ROOMS 1 lobby:2");

        assertThat(request(bob, "LEAVE lobby")).containsExactly("OK LEAVE lobby");
        assertThat(lines(alice)).containsExactly("EVENT LEAVE lobby bob");
        assertThat(request(bob, "SAY lobby anyone?"))
                .containsExactly("ERR not-in-room you are not in lobby: JOIN it first");

        assertThat(request(alice, "QUIT")).containsExactly("OK QUIT");
        assertThat(alice.isOpen()).isFalse();
        assertThat(request(bob, "ROOMS")).containsExactly("OK ROOMS 0");
    }

    @Test
    void aNameIsUniqueWhileOnlineAndFreeAgainAfterwards() {
        EmbeddedChannel first = user("alice");
        EmbeddedChannel second = connect();
        assertThat(request(second, "LOGIN alice"))
                .containsExactly("ERR name-taken alice is online already: choose another name");
        assertThat(request(first, "LOGIN carol")).containsExactly("ERR already-logged-in you are alice until you QUIT");
        first.close();
        assertThat(request(second, "LOGIN alice")).containsExactly("OK LOGIN alice");
    }

    @Test
    void namesRoomsAndOrderAreChecked() {
        EmbeddedChannel ch = connect();
        assertThat(request(ch, "JOIN lobby")).containsExactly("ERR not-logged-in JOIN needs a name first: LOGIN NAME");
        assertThat(request(ch, "LOGIN al ice"))
                .containsExactly("ERR bad-name \"al ice\" is not a name: use 1 to 32 letters, digits, '_', '-' or '.'");
        assertThat(request(ch, "LOGIN " + "a".repeat(33))).first().asString().startsWith("ERR bad-name");
        assertThat(request(ch, "LOGIN")).first().asString().startsWith("ERR bad-name \"\"");
        assertThat(request(ch, "LOGIN alice")).containsExactly("OK LOGIN alice");
        assertThat(request(ch, "JOIN l/obby"))
                .containsExactly("ERR bad-room \"l/obby\" is not a room: use 1 to 32 letters, digits, '_', '-' or '.'");
        assertThat(request(ch, "JOIN lobby")).containsExactly("OK JOIN lobby", "EVENT JOIN lobby alice");
        assertThat(request(ch, "JOIN lobby")).containsExactly("ERR already-joined you are in lobby already");
        assertThat(request(ch, "SAY lobby")).containsExactly("ERR usage SAY ROOM TEXT: the text is missing");
        assertThat(request(ch, "PING 42")).containsExactly("OK PING 42");
        assertThat(request(ch, "")).isEmpty();
    }

    @Test
    void aUserMayBeInAtMostMaxRoomsPerUser() {
        EmbeddedChannel ch = user("alice");
        for (int i = 0; i < settings.maxRoomsPerUser(); i++) {
            assertThat(request(ch, "JOIN r" + i)).startsWith("OK JOIN r" + i);
        }
        assertThat(request(ch, "JOIN one-more"))
                .containsExactly(
                        "ERR too-many-rooms you are in 16 rooms, the most allowed (max-rooms-per-user): LEAVE one first");
        assertThat(request(ch, "ROOMS")).first().asString().startsWith("OK ROOMS 16 ");
    }

    @Test
    void unknownCommandsAndBinaryGarbageGetAnErrorLineAndTheConnectionStaysOpen() {
        EmbeddedChannel ch = user("alice");
        assertThat(request(ch, "DANCE now"))
                .containsExactly(
                        "ERR unknown-command \"DANCE\" is not a command. Commands: LOGIN, JOIN, LEAVE, SAY, WHO, ROOMS, PING, QUIT");
        ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {(byte) 0xff, (byte) 0xfe, 0x00, 0x16, 0x03, '\n'}));
        assertThat(lines(ch))
                .containsExactly(
                        "ERR bad-input the line is not UTF-8 text and was discarded: send UTF-8 text lines, one command per line");
        assertThat(request(ch, "SAY lobby \u001b[31mred"))
                .containsExactly(
                        "ERR bad-input the line holds control characters and was discarded: send UTF-8 text lines, one command per line");
        assertThat(ch.isOpen()).isTrue();
        assertThat(request(ch, "PING")).containsExactly("OK PING");
    }

    @Test
    void anOversizedLineIsRefusedAndTheConnectionStaysOpen() {
        EmbeddedChannel ch = user("alice", "lobby");
        assertThat(request(ch, "SAY lobby " + "x".repeat(2000)))
                .containsExactly("ERR too-long the line has more than 1024 bytes (max-line-bytes) and was discarded");
        assertThat(ch.isOpen()).isTrue();
        assertThat(request(ch, "SAY lobby short")).containsExactly("OK SAY lobby", "EVENT MSG lobby alice short");
    }

    @Test
    void commandsBeyondTheBurstAreRefusedUntilTheBucketRefills() {
        settings = settings.withRate(10, 5);
        EmbeddedChannel ch = connect();
        for (int i = 0; i < 5; i++) {
            assertThat(request(ch, "PING " + i)).containsExactly("OK PING " + i);
        }
        assertThat(request(ch, "PING 5"))
                .containsExactly(
                        "ERR rate-limited more than 10 commands per second (burst 5, rate-limit): this one was not executed; slow down");
        time.advance(Duration.ofMillis(100)); // one token back
        assertThat(request(ch, "PING 6")).containsExactly("OK PING 6");
        assertThat(request(ch, "PING 7")).first().asString().startsWith("ERR rate-limited");
        time.advance(Duration.ofSeconds(10)); // full again, and no more than full
        for (int i = 0; i < 5; i++) {
            assertThat(request(ch, "PING")).containsExactly("OK PING");
        }
        assertThat(request(ch, "PING")).first().asString().startsWith("ERR rate-limited");
    }

    @Test
    void aSilentUserIsDroppedAndTheRoomIsToldWhileTalkersStay() {
        EmbeddedChannel silent = user("silent", "lobby");
        EmbeddedChannel talker = user("talker", "lobby");
        lines(silent);
        lines(talker);

        time.advance(Duration.ofSeconds(20));
        assertThat(request(talker, "PING")).containsExactly("OK PING"); // pushes talker's heartbeat to 50 s
        time.advance(Duration.ofSeconds(11)); // 31 s: silent's has expired

        assertThat(lines(silent))
                .containsExactly("BYE timeout silent for more than 30 s (heartbeat-timeout): send PING to stay online");
        assertThat(silent.isOpen()).isFalse();
        assertThat(lines(talker)).containsExactly("EVENT TIMEOUT lobby silent");
        assertThat(talker.isOpen()).isTrue();
        assertThat(presence().online()).isEqualTo(1);
        assertThat(presence().timedOut.sum()).isEqualTo(1);

        time.advance(Duration.ofSeconds(19));
        assertThat(talker.isOpen()).isFalse();
    }

    /** Attacker: U+0085, U+2028 and U+202E in SAY (a forged second line, text that reads backwards to others). */
    @Test
    void lineSeparatorsC1ControlsAndBidiControlsAreRefusedWithBadInputAndNothingIsSaid() {
        EmbeddedChannel alice = user("alice", "lobby");
        EmbeddedChannel bob = user("bob", "lobby");
        lines(alice);
        String[][] refused = {
            {"\u0085", "U+0085 (a control character)"},
            {"\u009b", "U+009B (a control character)"},
            {"\u2028", "U+2028 (a line or paragraph separator)"},
            {"\u2029", "U+2029 (a line or paragraph separator)"},
            {"\u202a", "U+202A (a bidi control: it would reorder what others see)"},
            {"\u202e", "U+202E (a bidi control: it would reorder what others see)"},
            {"\u2066", "U+2066 (a bidi control: it would reorder what others see)"},
            {"\u2069", "U+2069 (a bidi control: it would reorder what others see)"},
        };
        for (String[] r : refused) {
            assertThat(request(bob, "SAY lobby ok " + r[0] + "EVENT MSG lobby alice forged"))
                    .containsExactly("ERR bad-input the line holds " + r[1]
                            + " and was discarded: send UTF-8 text lines, one command per line");
            assertThat(request(bob, "PING " + r[0]))
                    .first()
                    .asString()
                    .startsWith("ERR bad-input the line holds " + r[1]);
        }
        assertThat(lines(alice)).isEmpty();
        assertThat(bob.isOpen()).isTrue();

        // Other scripts, emoji, tabs and the plain direction marks (U+200E, U+200F) are text.
        String text =
                "\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627 \u200f \u200e caf\u00e9\tok \ud83d\ude00";
        assertThat(request(bob, "SAY lobby " + text)).containsExactly("OK SAY lobby", "EVENT MSG lobby bob " + text);
        assertThat(lines(alice)).containsExactly("EVENT MSG lobby bob " + text);
    }
}
