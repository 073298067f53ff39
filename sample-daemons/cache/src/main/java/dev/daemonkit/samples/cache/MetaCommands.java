package dev.daemonkit.samples.cache;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * The meta commands (mg, ms, md, ma, mn, me) of memcached 1.6.18, with its flags, its checks in its
 * order and its words for errors. Every command but mn and me starts with the same preamble
 * ({@link #begin}): the line's shape, then the flags into the loop's {@link MetaFlags}. Shared by all
 * connections of a daemon.
 */
final class MetaCommands {
    private static final int META_MAX_TOKENS = 20;
    private static final int META_MAX_OPAQUE_LENGTH = 32;
    private static final String BAD_FORMAT = "CLIENT_ERROR bad command line format";
    private static final String FLAGS_TOO_LONG = "CLIENT_ERROR options flags too long";
    private static final String OPAQUE_TOO_LONG = "CLIENT_ERROR opaque token too long";
    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] EMPTY = new byte[0];

    private final ItemStore store;
    private final CacheStats stats;

    MetaCommands(ItemStore store, CacheStats stats) {
        this.store = store;
        this.stats = stats;
    }

    /** Runs the meta command of the tokenized line, whose first token is "m" and one more byte. */
    void execute(Scratch s) {
        switch (s.line.bytes[s.line.start[0] + 1]) {
            case 'g' -> get(s);
            case 's' -> set(s);
            case 'd' -> delete(s);
            case 'a' -> arithmetic(s);
            case 'n' -> s.reply("MN");
            case 'e' -> debug(s);
            default -> s.reply("ERROR");
        }
    }

    // ---- the preamble and the pieces of replies ------------------------------------------------

    /** The line's shape, as every meta command but mn and me checks it first; false once answered. */
    private static boolean checkShape(Scratch s, String tooManyFlags) {
        CommandLine l = s.line;
        if (l.ntokens < 3) {
            s.reply("ERROR");
            return false;
        }
        if (l.length(1) > ClassicCommands.KEY_MAX_LENGTH) {
            s.replyError(BAD_FORMAT);
            return false;
        }
        if (l.ntokens > META_MAX_TOKENS) {
            s.replyError(tooManyFlags);
            return false;
        }
        return true;
    }

    /**
     * The preamble of mg, md and ma: the shape, the flags (a bad one answered with its own error, or
     * with md's and ma's catch-all), the command counted, and q applied; false once answered.
     */
    private boolean begin(Scratch s, String tooManyFlags, boolean ownFlagErrors) {
        if (!checkShape(s, tooManyFlags)) {
            return false;
        }
        if (!s.flags.parse(s.line, 2, store, s.number)) {
            s.replyError(ownFlagErrors ? s.flags.error : "CLIENT_ERROR invalid or duplicate flag");
            return false;
        }
        stats.cmdMeta.increment();
        s.noreply = s.flags.noReply;
        return true;
    }

    /**
     * Token {@code i}'s opaque (O) flag, echoed; false if it is too long: the reply is then cut back
     * to {@code mark} and the error written instead.
     */
    private static boolean writeOpaque(Scratch s, ByteBuf o, int i, int mark) {
        CommandLine l = s.line;
        if (l.length(i) > META_MAX_OPAQUE_LENGTH) {
            o.writerIndex(mark);
            s.replyError(OPAQUE_TOO_LONG);
            return false;
        }
        o.writeByte(' ');
        o.writeBytes(l.bytes, l.start[i], l.length(i));
        return true;
    }

    /** The flags of a reply without an item (EN, NF, EX, and md's): O and k; false as {@link #writeOpaque}. */
    private static boolean writeOpaqueAndKey(Scratch s, ByteBuf o, int mark, byte[] key, boolean binary) {
        CommandLine l = s.line;
        for (int i = 2; i < l.ntokens - 1; i++) {
            switch (l.first(i)) {
                case 'O' -> {
                    if (!writeOpaque(s, o, i, mark)) {
                        return false;
                    }
                }
                case 'k' -> writeKey(o, key, binary);
                default -> {}
            }
        }
        return true;
    }

    private static void writeKey(ByteBuf o, byte[] key, boolean binary) {
        o.writeByte(' ');
        o.writeByte('k');
        if (binary) {
            o.writeBytes(Base64.getEncoder().encode(key));
            o.writeByte(' ');
            o.writeByte('b');
        } else {
            o.writeBytes(key);
        }
    }

    private static void writeTtl(ByteBuf o, long exptime, long now) {
        o.writeByte(' ');
        o.writeByte('t');
        if (exptime == 0) {
            o.writeByte('-');
            o.writeByte('1');
        } else {
            Ascii.writeUnsigned(o, (exptime - now) & 0xFFFF_FFFFL);
        }
    }

    // ---- mg ------------------------------------------------------------------------------------

    private void get(Scratch s) {
        if (!begin(s, "CLIENT_ERROR options flags are too long", true)) {
            return;
        }
        CommandLine l = s.line;
        MetaFlags f = s.flags;
        ItemStore.Seen seen = s.seen;
        byte[] key = f.key;
        ByteBuf o = s.out();
        int mark = o.writerIndex();
        Item it;
        boolean ttlSet = false;
        synchronized (store) {
            long now = store.now();
            it = store.get(key, 0, key.length, false, Long.MIN_VALUE, seen);
            boolean created = false;
            if (it == null && f.vivify) {
                it = store.addIfAbsent(key, f.keyBinary, EMPTY, 0);
                created = it != null;
                seen.fetched = false;
                seen.lastAccess = now;
            }
            if (it != null) {
                boolean won = false;
                long exptime = it.exptime;
                if (f.value) {
                    o.writeByte('V').writeByte('A').writeByte(' ');
                    Ascii.writeUnsigned(o, it.value.length);
                } else {
                    o.writeByte('H').writeByte('D');
                }
                for (int i = 2; i < l.ntokens - 1; i++) {
                    switch (l.first(i)) {
                        case 'T' -> {
                            ttlSet = true;
                            exptime = f.exptime;
                            store.setExptime(it, exptime);
                        }
                        case 'N' -> {
                            if (created) {
                                exptime = f.autovivExptime;
                                store.setExptime(it, exptime);
                                won = true;
                            }
                        }
                        case 'R' -> {
                            if (!it.tokenSent && !created && exptime != 0 && exptime < f.recacheTime) {
                                won = true;
                            }
                        }
                        case 's' -> {
                            o.writeByte(' ').writeByte('s');
                            Ascii.writeUnsigned(o, it.value.length);
                        }
                        case 't' -> writeTtl(o, exptime, now);
                        case 'c' -> {
                            o.writeByte(' ').writeByte('c');
                            Ascii.writeUnsigned(o, it.cas);
                        }
                        case 'f' -> {
                            o.writeByte(' ').writeByte('f');
                            Ascii.writeUnsigned(o, it.flags);
                        }
                        case 'l' -> {
                            o.writeByte(' ').writeByte('l');
                            Ascii.writeUnsigned(o, (now - seen.lastAccess) & 0xFFFF_FFFFL);
                        }
                        case 'h' -> o.writeByte(' ').writeByte('h').writeByte(seen.fetched ? '1' : '0');
                        case 'O' -> {
                            if (!writeOpaque(s, o, i, mark)) {
                                return;
                            }
                        }
                        case 'k' -> writeKey(o, it.key, it.binaryKey);
                        default -> {}
                    }
                }
                if (it.tokenSent) {
                    o.writeByte(' ').writeByte('Z');
                }
                if (it.stale) {
                    o.writeByte(' ').writeByte('X');
                    if (!it.tokenSent) {
                        won = true;
                    }
                }
                if (won) {
                    o.writeByte(' ').writeByte('W');
                    it.tokenSent = true;
                }
                o.writeBytes(CRLF);
                if (!f.noUpdate) {
                    store.get(key, 0, key.length, true, Long.MIN_VALUE, null); // the delayed LRU bump
                }
            }
        }
        if (it != null) {
            if (f.value) {
                o.writeBytes(it.value);
                o.writeBytes(CRLF);
            }
            if (ttlSet) {
                stats.touchHits.increment();
            } else {
                stats.getHits.increment();
            }
            return;
        }
        if (ttlSet || f.newTtl) {
            stats.touchMisses.increment();
        } else {
            stats.getMisses.increment();
        }
        o.writeByte('E').writeByte('N');
        if (!writeOpaqueAndKey(s, o, mark, key, f.keyBinary)) {
            return;
        }
        o.writeBytes(CRLF);
        if (s.noreply) {
            o.writerIndex(mark); // q: a miss is not worth a line
        }
    }

    // ---- ms ------------------------------------------------------------------------------------

    private void set(Scratch s) {
        if (!checkShape(s, FLAGS_TOO_LONG)) {
            return;
        }
        CommandLine l = s.line;
        if (l.ntokens == 3) {
            s.replyError(BAD_FORMAT);
            return;
        }
        Ascii number = s.number;
        if (!number.parseSigned32(l.bytes, l.start[2], l.end[2])
                || number.value < 0
                || number.value > Integer.MAX_VALUE - 2) {
            s.replyError(BAD_FORMAT);
            return;
        }
        int vlen = (int) number.value;
        stats.cmdMeta.increment();
        MetaFlags f = s.flags;
        if (!f.parse(l, 3, store, number)) {
            refuseSet(s, vlen, f.error);
            return;
        }
        s.noreply = f.noReply;
        String error = null;
        StringBuilder returns = new StringBuilder();
        for (int i = 2; i < l.ntokens - 1; i++) {
            switch (l.first(i)) {
                case 'O' -> {
                    if (l.length(i) > META_MAX_OPAQUE_LENGTH) {
                        error = OPAQUE_TOO_LONG;
                    } else {
                        returns.append(' ')
                                .append(new String(l.bytes, l.start[i], l.length(i), StandardCharsets.ISO_8859_1));
                    }
                }
                case 'k', 'c', 's' -> returns.append(' ').append((char) l.first(i));
                default -> {}
            }
        }
        ItemStore.StoreMode mode;
        switch (f.mode) {
            case 0, 'S' -> mode = ItemStore.StoreMode.SET;
            case 'E' -> mode = ItemStore.StoreMode.ADD;
            case 'A' -> mode = ItemStore.StoreMode.APPEND;
            case 'P' -> mode = ItemStore.StoreMode.PREPEND;
            case 'R' -> mode = ItemStore.StoreMode.REPLACE;
            default -> {
                refuseSet(s, vlen, "CLIENT_ERROR invalid mode for ms M token");
                return;
            }
        }
        if (f.hasCas && (mode == ItemStore.StoreMode.SET || mode == ItemStore.StoreMode.REPLACE)) {
            mode = ItemStore.StoreMode.CAS;
        }
        if (error != null) {
            refuseSet(s, vlen, error);
            return;
        }
        byte[] key = f.key;
        if (!store.sizeOk(key.length, f.clientFlags, vlen)) {
            stats.storeTooLarge.increment();
            store.remove(key, 0, key.length);
            refuseSet(s, vlen, "SERVER_ERROR object too large for cache");
            return;
        }
        if (Item.sizeOf(key.length, f.clientFlags, vlen) > store.limit()) {
            stats.storeNoMemory.increment();
            store.remove(key, 0, key.length);
            refuseSet(s, vlen, "SERVER_ERROR out of memory storing object");
            return;
        }
        if (!store.reservePending(vlen)) {
            stats.storeNoMemory.increment(); // the values being received already fill memory-limit
            store.remove(key, 0, key.length);
            refuseSet(s, vlen, "SERVER_ERROR out of memory storing object");
            return;
        }
        s.expect(new PendingStore(
                mode,
                key,
                f.keyBinary,
                f.clientFlags,
                f.exptime,
                f.reqCas,
                vlen,
                s.noreply,
                f.setStale && mode == ItemStore.StoreMode.CAS,
                returns.toString().getBytes(StandardCharsets.ISO_8859_1)));
    }

    private static void refuseSet(Scratch s, int vlen, String error) {
        s.swallow(vlen + 2L);
        s.replyError(error);
    }

    /** The data block of an ms has come: store it and answer with its return flags. */
    void complete(Scratch s, PendingStore pending) {
        s.noreply = pending.noreply;
        ItemStore.StoreResult result = pending.store(store, stats, s);
        if (result == null) {
            s.replyError("CLIENT_ERROR bad data chunk"); // meta sets always report errors
            return;
        }
        String code;
        switch (result) {
            case STORED -> code = "HD";
            case EXISTS -> code = "EX";
            case NOT_FOUND -> code = "NF";
            case NOT_STORED -> code = "NS";
            default -> {
                s.replyError("SERVER_ERROR out of memory storing object");
                return;
            }
        }
        if (result == ItemStore.StoreResult.STORED && s.noreply) {
            s.noreply = false;
            return;
        }
        ByteBuf o = s.out();
        o.writeCharSequence(code, StandardCharsets.US_ASCII);
        byte[] flags = pending.metaReturnFlags;
        for (int i = 0; i < flags.length; i++) {
            if (flags[i] != ' ') {
                continue;
            }
            byte f = flags[i + 1];
            boolean oneLetter = i + 2 == flags.length || flags[i + 2] == ' ';
            if (f == 'k' && oneLetter) {
                writeKey(o, pending.key, pending.binaryKey);
            } else if (f == 'c' && oneLetter) {
                o.writeByte(' ').writeByte('c');
                Ascii.writeUnsigned(o, result == ItemStore.StoreResult.STORED ? s.casOut[0] : 0);
            } else if (f == 's' && oneLetter) {
                o.writeByte(' ').writeByte('s');
                Ascii.writeUnsigned(o, s.sizeOut[0]);
            } else {
                int end = i + 1;
                while (end < flags.length && flags[end] != ' ') {
                    end++;
                }
                o.writeBytes(flags, i, end - i);
            }
        }
        o.writeBytes(CRLF);
        s.noreply = false;
    }

    // ---- md ------------------------------------------------------------------------------------

    private void delete(Scratch s) {
        if (!begin(s, FLAGS_TOO_LONG, false)) {
            return;
        }
        MetaFlags f = s.flags;
        ByteBuf o = s.out();
        int mark = o.writerIndex();
        o.writeByte('?').writeByte('?');
        if (!writeOpaqueAndKey(s, o, mark, f.key, f.keyBinary)) {
            return;
        }
        o.writeBytes(CRLF);
        ItemStore.DeleteResult r = store.delete(
                f.key, 0, f.key.length, f.hasCas ? f.reqCas : 0, f.setStale, f.newTtl ? f.exptime : Long.MIN_VALUE);
        switch (r) {
            case DELETED -> {
                if (s.noreply) {
                    o.writerIndex(mark);
                    s.noreply = false;
                    return;
                }
                o.setByte(mark, 'H').setByte(mark + 1, 'D');
            }
            case EXISTS -> o.setByte(mark, 'E').setByte(mark + 1, 'X');
            case NOT_FOUND -> o.setByte(mark, 'N').setByte(mark + 1, 'F');
        }
        s.noreply = false;
    }

    // ---- ma ------------------------------------------------------------------------------------

    private void arithmetic(Scratch s) {
        if (!begin(s, FLAGS_TOO_LONG, false)) {
            return;
        }
        CommandLine l = s.line;
        MetaFlags f = s.flags;
        boolean incr;
        switch (f.mode) {
            case 0, 'I', '+' -> incr = true;
            case 'D', '-' -> incr = false;
            default -> {
                s.replyError("CLIENT_ERROR invalid mode for ma M token");
                return;
            }
        }
        byte[] key = f.key;
        ByteBuf o = s.out();
        int mark = o.writerIndex();
        synchronized (store) {
            long now = store.now();
            Item it = null;
            boolean created = false;
            long value = 0;
            String code = null;
            s.deltaResult[1] = 0;
            ItemStore.DeltaResult done =
                    store.delta(key, 0, key.length, incr, f.delta, f.hasCas ? f.reqCas : 0, s.deltaResult, s.deltaItem);
            s.copied(s.deltaResult[1]); // a value of a million spaces or leading zeros is read and rebuilt whole
            switch (done) {
                case OK -> {
                    it = s.deltaItem[0];
                    value = s.deltaResult[0];
                }
                case NON_NUMERIC -> {
                    s.replyError("CLIENT_ERROR cannot increment or decrement non-numeric value");
                    return;
                }
                case NO_MEMORY -> {
                    s.replyError("SERVER_ERROR out of memory");
                    return;
                }
                case NOT_FOUND -> {
                    if (f.vivify) {
                        byte[] digits = Long.toUnsignedString(f.initial).getBytes(StandardCharsets.US_ASCII);
                        it = store.addIfAbsent(key, f.keyBinary, digits, 0);
                        if (it == null) {
                            s.replyError("SERVER_ERROR Out of memory allocating new item");
                            return;
                        }
                        created = true;
                        value = f.initial;
                    } else {
                        (incr ? stats.incrMisses : stats.decrMisses).increment();
                        code = "NF";
                    }
                }
                case EXISTS -> code = "EX";
            }
            s.deltaItem[0] = null;
            if (it != null) {
                // q: a success is not worth a line, but the flags may still change the item.
                s.noreply = false;
                String digits = Long.toUnsignedString(value);
                if (f.value) {
                    o.writeCharSequence("VA ", StandardCharsets.US_ASCII);
                    Ascii.writeUnsigned(o, digits.length());
                } else {
                    o.writeByte('H').writeByte('D');
                }
                long exptime = it.exptime;
                for (int i = 2; i < l.ntokens - 1; i++) {
                    switch (l.first(i)) {
                        case 'c' -> {
                            o.writeByte(' ').writeByte('c');
                            Ascii.writeUnsigned(o, it.cas);
                        }
                        case 't' -> writeTtl(o, exptime, now);
                        case 'T' -> {
                            exptime = f.exptime;
                            store.setExptime(it, exptime);
                        }
                        case 'N' -> {
                            if (created) {
                                exptime = f.autovivExptime;
                                store.setExptime(it, exptime);
                            }
                        }
                        case 'O' -> {
                            if (!writeOpaque(s, o, i, mark)) {
                                return;
                            }
                        }
                        case 'k' -> writeKey(o, key, f.keyBinary);
                        default -> {}
                    }
                }
                if (f.value) {
                    o.writeBytes(CRLF);
                    o.writeCharSequence(digits, StandardCharsets.US_ASCII);
                }
                o.writeBytes(CRLF);
                if (f.noReply) {
                    o.writerIndex(mark);
                }
                return;
            }
            o.writeCharSequence(code, StandardCharsets.US_ASCII);
            if (!writeOpaqueAndKey(s, o, mark, key, f.keyBinary)) {
                return;
            }
            o.writeBytes(CRLF);
            s.noreply = false;
        }
    }

    // ---- me ------------------------------------------------------------------------------------

    /** memcached's debug view of one item. */
    private void debug(Scratch s) {
        CommandLine l = s.line;
        if (l.ntokens < 3 || l.length(1) > ClassicCommands.KEY_MAX_LENGTH) {
            s.reply(BAD_FORMAT);
            return;
        }
        byte[] key = l.copy(1);
        boolean binary = false;
        if (l.ntokens >= 4 && l.is(2, "b")) {
            try {
                key = Base64.getDecoder().decode(key);
            } catch (IllegalArgumentException e) {
                key = EMPTY;
            }
            if (key.length == 0) {
                s.reply(BAD_FORMAT);
                return;
            }
            binary = true;
        }
        stats.cmdMeta.increment();
        synchronized (store) {
            long now = store.now();
            Item it = store.get(key, 0, key.length, false, Long.MIN_VALUE, s.seen);
            if (it == null) {
                s.reply("EN");
                return;
            }
            String shown = it.binaryKey || binary
                    ? Base64.getEncoder().encodeToString(it.key)
                    : new String(it.key, StandardCharsets.ISO_8859_1);
            s.reply("ME " + shown + " exp=" + (it.exptime == 0 ? -1 : now - it.exptime)
                    + " la=" + (now - it.time) + " cas=" + it.cas + " fetch=" + (it.fetched ? "yes" : "no")
                    + " cls=" + SlabClasses.classOf(it.size()) + " size=" + it.size());
        }
    }
}
