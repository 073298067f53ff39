package dev.daemonkit.samples.cache;

import dev.daemonkit.api.RequestCounter;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The classic text commands (get, set, incr, delete, stats …), dispatched and checked in the order of
 * memcached's proto_text.c, because clients and conformance checkers depend on which error wins when
 * a line has several faults. Shared by all connections of a daemon: the state of a command is in its
 * {@link Scratch}, the state of a connection in its handler.
 */
final class ClassicCommands {
    static final String VERSION = "1.6.18";
    static final int KEY_MAX_LENGTH = 250;
    private static final String BAD_FORMAT = "CLIENT_ERROR bad command line format";

    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] VALUE = "VALUE ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] END = "END\r\n".getBytes(StandardCharsets.US_ASCII);

    private final ItemStore store;
    private final CacheStats stats;
    private final int threads;
    private final long maxConnections;
    private final RequestCounter requests;

    /** @param requests the daemon's daemonkit_requests_total: one per command line, classic or meta */
    ClassicCommands(ItemStore store, CacheStats stats, int threads, long maxConnections, RequestCounter requests) {
        this.store = store;
        this.stats = stats;
        this.threads = threads;
        this.maxConnections = maxConnections;
        this.requests = requests;
    }

    CacheStats stats() {
        return stats;
    }

    /** Held here, shared by the daemon's connections: a field of each connection would cost every idle one. */
    RequestCounter requests() {
        return requests;
    }

    /** Runs the command of the tokenized line (its first token at least two bytes long). */
    void execute(Scratch s) {
        CommandLine l = s.line;
        int n = l.ntokens;
        byte first = l.first(0);
        if (first == 'g') {
            if (n < 3) {
                s.reply("ERROR");
            } else if (l.is(0, "get")) {
                get(s, false, false);
            } else if (l.is(0, "gets")) {
                get(s, true, false);
            } else if (l.is(0, "gat")) {
                get(s, false, true);
            } else if (l.is(0, "gats")) {
                get(s, true, true);
            } else {
                s.reply("ERROR");
            }
        } else if (first == 's') {
            if (l.is(0, "set")) {
                update(s, ItemStore.StoreMode.SET, 6, 7);
            } else if (l.is(0, "stats")) {
                stats(s);
            } else if (l.is(0, "shutdown")) {
                s.reply("ERROR: shutdown not enabled");
            } else {
                s.reply("ERROR");
            }
        } else if (first == 'a') {
            if (l.is(0, "add")) {
                update(s, ItemStore.StoreMode.ADD, 6, 7);
            } else if (l.is(0, "append")) {
                update(s, ItemStore.StoreMode.APPEND, 6, 7);
            } else {
                s.reply("ERROR");
            }
        } else if (first == 'c') {
            if (l.is(0, "cas")) {
                update(s, ItemStore.StoreMode.CAS, 7, 8);
            } else {
                s.reply("ERROR");
            }
        } else if (first == 'i') {
            if (!l.is(0, "incr") || (n != 4 && n != 5)) {
                s.reply("ERROR");
            } else {
                arithmetic(s, true);
            }
        } else if (first == 'd') {
            if (l.is(0, "delete")) {
                if (n < 3 || n > 5) {
                    s.reply("ERROR");
                } else {
                    delete(s);
                }
            } else if (l.is(0, "decr") && (n == 4 || n == 5)) {
                arithmetic(s, false);
            } else {
                s.reply("ERROR");
            }
        } else if (first == 't') {
            if (!l.is(0, "touch") || (n != 4 && n != 5)) {
                s.reply("ERROR");
            } else {
                touch(s);
            }
        } else if (l.is(0, "replace")) {
            update(s, ItemStore.StoreMode.REPLACE, 6, 7);
        } else if (l.is(0, "prepend")) {
            update(s, ItemStore.StoreMode.PREPEND, 6, 7);
        } else if (l.is(0, "bget")) {
            if (n < 3) {
                s.reply("ERROR");
            } else {
                get(s, false, false);
            }
        } else if (l.is(0, "flush_all")) {
            if (n > 4) {
                s.reply("ERROR");
            } else {
                flushAll(s);
            }
        } else if (l.is(0, "version")) {
            s.reply("VERSION " + VERSION);
        } else if (l.is(0, "quit")) {
            s.close();
        } else if (l.is(0, "verbosity")) {
            if (n != 3 && n != 4) {
                s.reply("ERROR");
            } else {
                verbosity(s);
            }
        } else if (l.startsWithHttp(n - 2)) {
            s.close(); // a web browser or HTTP client: memcached hangs up on it
        } else {
            s.reply("ERROR");
        }
    }

    /** memcached's set_noreply_maybe. */
    private static boolean setNoreplyMaybe(Scratch s) {
        if (s.line.endsWithNoreply()) {
            s.noreply = true;
        }
        return s.noreply;
    }

    private void get(Scratch s, boolean returnCas, boolean touch) {
        CommandLine l = s.line;
        int keyToken = 1;
        long exptime = Long.MIN_VALUE;
        if (touch) {
            if (!s.number.parseSigned32(l.bytes, l.start[1], l.end[1])) {
                s.reply("CLIENT_ERROR invalid exptime argument");
                return;
            }
            exptime = store.absoluteExptime(s.number.value, store.now());
            keyToken = 2;
        }
        // All words after the command are keys, however many: memcached re-tokenizes past 24 tokens.
        getKeys(s, l.bytes, l.start[keyToken], l.length, returnCas, touch, exptime);
    }

    /**
     * The rest of a multi-get whose replies wait for the client to read them (memcached's conn_mwrite): its
     * keys, copied out of the loop's line, and how to answer them.
     */
    static final class MoreKeys {
        final byte[] keys;
        final boolean returnCas;
        final boolean touch;
        final long exptime;

        MoreKeys(byte[] keys, boolean returnCas, boolean touch, long exptime) {
            this.keys = keys;
            this.returnCas = returnCas;
            this.touch = touch;
            this.exptime = exptime;
        }
    }

    /** Goes on with a multi-get that waited for its client to read ({@link TextProtocolHandler}). */
    void moreKeys(Scratch s, MoreKeys more) {
        getKeys(s, more.keys, 0, more.keys.length, more.returnCas, more.touch, more.exptime);
    }

    /**
     * Answers the keys in {@code line[i, end)}. Once the replies pass {@link Scratch#REPLY_FLUSH_AT} they are
     * written out; if the client has not read enough of them for the connection to stay writable, the keys
     * left wait in a {@link MoreKeys} until it has: one request line of many keys of a large value asked for
     * gigabytes of replies, built in one buffer on the event loop (a loop frozen for minutes, every daemon on
     * it with it).
     */
    private void getKeys(Scratch s, byte[] line, int i, int end, boolean returnCas, boolean touch, long exptime) {
        ByteBuf o = s.out();
        while (i < end) {
            if (line[i] == ' ') {
                i++;
                continue;
            }
            int start = i;
            while (i < end && line[i] != ' ') {
                i++;
            }
            int len = i - start;
            if (len > KEY_MAX_LENGTH) {
                // memcached drops every reply it has not sent yet, even those of earlier commands of
                // the same read, and answers only the error.
                o.clear();
                s.reply(BAD_FORMAT);
                return;
            }
            Item it = store.get(line, start, len, true, exptime, null);
            if (touch) {
                (it != null ? stats.touchHits : stats.touchMisses).increment();
            } else {
                (it != null ? stats.getHits : stats.getMisses).increment();
            }
            if (it != null) {
                o.writeBytes(VALUE);
                o.writeBytes(it.key);
                o.writeByte(' ');
                Ascii.writeUnsigned(o, it.flags);
                o.writeByte(' ');
                Ascii.writeUnsigned(o, it.value.length);
                if (returnCas) {
                    o.writeByte(' ');
                    Ascii.writeUnsigned(o, it.cas);
                }
                o.writeBytes(CRLF);
                o.writeBytes(it.value);
                o.writeBytes(CRLF);
                if (o.readableBytes() >= Scratch.REPLY_FLUSH_AT && i < end) {
                    if (s.writeRepliesBlocked()) {
                        s.moreKeys(new MoreKeys(Arrays.copyOfRange(line, i, end), returnCas, touch, exptime));
                        return;
                    }
                    o = s.out();
                }
            }
        }
        o.writeBytes(END);
    }

    private void update(Scratch s, ItemStore.StoreMode mode, int tokensA, int tokensB) {
        CommandLine l = s.line;
        Ascii number = s.number;
        if (l.ntokens != tokensA && l.ntokens != tokensB) {
            s.reply("ERROR");
            return;
        }
        setNoreplyMaybe(s);
        if (l.length(1) > KEY_MAX_LENGTH || !number.parseUnsigned32(l.bytes, l.start[2], l.end[2])) {
            s.reply(BAD_FORMAT);
            return;
        }
        long flags = number.value;
        if (!number.parseSigned32(l.bytes, l.start[3], l.end[3])) {
            s.reply(BAD_FORMAT);
            return;
        }
        long exptime = number.value;
        if (!number.parseSigned32(l.bytes, l.start[4], l.end[4])) {
            s.reply(BAD_FORMAT);
            return;
        }
        long vlen = number.value;
        exptime = store.absoluteExptime(exptime, store.now());
        long reqCas = 0;
        if (mode == ItemStore.StoreMode.CAS) {
            if (!number.parseUnsigned64(l.bytes, l.start[5], l.end[5])) {
                s.reply(BAD_FORMAT);
                return;
            }
            reqCas = number.value;
        }
        if (vlen < 0 || vlen > Integer.MAX_VALUE - 2) {
            s.reply(BAD_FORMAT);
            return;
        }
        int keyLength = l.length(1);
        if (!store.sizeOk(keyLength, flags, vlen)) {
            stats.storeTooLarge.increment();
            refuseStore(s, mode, vlen, "SERVER_ERROR object too large for cache");
            return;
        }
        if (Item.sizeOf(keyLength, flags, vlen) > store.limit()) {
            stats.storeNoMemory.increment();
            refuseStore(s, mode, vlen, "SERVER_ERROR out of memory storing object");
            return;
        }
        if (!store.reservePending(vlen)) {
            stats.storeNoMemory.increment(); // the values being received already fill memory-limit
            refuseStore(s, mode, vlen, "SERVER_ERROR out of memory storing object");
            return;
        }
        s.expect(new PendingStore(mode, l.copy(1), false, flags, exptime, reqCas, (int) vlen, s.noreply, false, null));
    }

    /** A value's data block was stored or abandoned: its reservation goes back. */
    void released(PendingStore pending) {
        store.releasePending(pending.valueLength());
    }

    private void refuseStore(Scratch s, ItemStore.StoreMode mode, long vlen, String error) {
        s.reply(error);
        s.swallow(vlen + 2);
        if (mode == ItemStore.StoreMode.SET) {
            // Unacceptable for a failed set to leave the old value readable.
            CommandLine l = s.line;
            store.remove(l.bytes, l.start[1], l.length(1));
        }
    }

    /** The data block of a classic storage command has come: store it and answer. */
    void complete(Scratch s, PendingStore pending) {
        s.noreply = pending.noreply;
        ItemStore.StoreResult result = pending.store(store, stats, s);
        if (result == null) {
            s.reply("CLIENT_ERROR bad data chunk");
            return;
        }
        switch (result) {
            case STORED -> s.reply("STORED");
            case EXISTS -> s.reply("EXISTS");
            case NOT_FOUND -> s.reply("NOT_FOUND");
            case NOT_STORED -> s.reply("NOT_STORED");
            case TOO_LARGE -> s.reply("SERVER_ERROR object too large for cache");
            case NO_MEMORY -> s.reply("SERVER_ERROR out of memory storing object");
        }
    }

    private void touch(Scratch s) {
        CommandLine l = s.line;
        setNoreplyMaybe(s);
        if (l.length(1) > KEY_MAX_LENGTH) {
            s.reply(BAD_FORMAT);
            return;
        }
        if (!s.number.parseSigned32(l.bytes, l.start[2], l.end[2])) {
            s.reply("CLIENT_ERROR invalid exptime argument");
            return;
        }
        long exptime = store.absoluteExptime(s.number.value, store.now());
        Item it = store.get(l.bytes, l.start[1], l.length(1), true, exptime, null);
        if (it != null) {
            stats.touchHits.increment();
            s.reply("TOUCHED");
        } else {
            stats.touchMisses.increment();
            s.reply("NOT_FOUND");
        }
    }

    private void arithmetic(Scratch s, boolean incr) {
        CommandLine l = s.line;
        setNoreplyMaybe(s);
        if (l.length(1) > KEY_MAX_LENGTH) {
            s.reply(BAD_FORMAT);
            return;
        }
        if (!s.number.parseUnsigned64(l.bytes, l.start[2], l.end[2])) {
            s.reply("CLIENT_ERROR invalid numeric delta argument");
            return;
        }
        s.deltaResult[1] = 0;
        ItemStore.DeltaResult done =
                store.delta(l.bytes, l.start[1], l.length(1), incr, s.number.value, 0, s.deltaResult, s.deltaItem);
        s.copied(s.deltaResult[1]); // a value of a million spaces or leading zeros is read and rebuilt whole
        switch (done) {
            case OK -> s.reply(Long.toUnsignedString(s.deltaResult[0]));
            case NON_NUMERIC -> s.reply("CLIENT_ERROR cannot increment or decrement non-numeric value");
            case NO_MEMORY -> s.reply("SERVER_ERROR out of memory");
            case NOT_FOUND -> {
                (incr ? stats.incrMisses : stats.decrMisses).increment();
                s.reply("NOT_FOUND");
            }
            case EXISTS -> {}
        }
    }

    private void delete(Scratch s) {
        CommandLine l = s.line;
        if (l.ntokens > 3) {
            boolean holdIsZero = l.is(2, "0");
            boolean setsNoreply = setNoreplyMaybe(s);
            boolean valid =
                    (l.ntokens == 4 && (holdIsZero || setsNoreply)) || (l.ntokens == 5 && holdIsZero && setsNoreply);
            if (!valid) {
                s.reply("CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]");
                return;
            }
        }
        if (l.length(1) > KEY_MAX_LENGTH) {
            s.reply(BAD_FORMAT);
            return;
        }
        ItemStore.DeleteResult r = store.delete(l.bytes, l.start[1], l.length(1), 0, false, Long.MIN_VALUE);
        s.reply(r == ItemStore.DeleteResult.DELETED ? "DELETED" : "NOT_FOUND");
    }

    private void verbosity(Scratch s) {
        CommandLine l = s.line;
        setNoreplyMaybe(s);
        if (!s.number.parseUnsigned32(l.bytes, l.start[1], l.end[1])) {
            s.reply(BAD_FORMAT);
            return;
        }
        s.reply("OK"); // we log through the framework; the level is accepted and ignored
    }

    private void flushAll(Scratch s) {
        CommandLine l = s.line;
        setNoreplyMaybe(s);
        stats.cmdFlush.increment();
        long delay = 0;
        if (l.ntokens != (s.noreply ? 3 : 2)) {
            if (!s.number.parseSigned32(l.bytes, l.start[1], l.end[1])) {
                s.reply("CLIENT_ERROR invalid exptime argument");
                return;
            }
            delay = s.number.value;
        }
        store.flushAll(delay);
        s.reply("OK");
    }

    private void stats(Scratch s) {
        CommandLine l = s.line;
        if (l.ntokens == 2) {
            stats.write(s.out(), store, threads, maxConnections);
        } else if (l.is(1, "reset")) {
            stats.reset();
            s.reply("RESET");
        } else if (l.is(1, "detail")) {
            if (l.ntokens < 4) {
                s.reply("CLIENT_ERROR usage: stats detail on|off|dump");
            } else if (l.is(2, "on") || l.is(2, "off")) {
                s.reply("OK");
            } else if (l.is(2, "dump")) {
                s.out().writeBytes(END);
            } else {
                s.reply("CLIENT_ERROR usage: stats detail on|off|dump");
            }
        } else if (l.is(1, "settings")
                || l.is(1, "items")
                || l.is(1, "slabs")
                || l.is(1, "sizes")
                || l.is(1, "conns")) {
            // We have no slabs, and these lists describe memcached's internals: an empty list.
            s.out().writeBytes(END);
        } else {
            s.reply("ERROR");
        }
    }
}
