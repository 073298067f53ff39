package dev.daemonkit.samples.presence;

import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.EventExecutor;
import java.util.Arrays;

/**
 * One room: its members, split by the event loop that serves them. Each {@link Shard} is written only
 * by its own loop, so joining, leaving and delivering need no lock; a message for the room costs one
 * task per other loop that has members, not one hand-off per member. Other threads may read a shard's
 * members (WHO) because the array is replaced, never changed in place, and published through a
 * volatile field.
 */
final class Room {
    private static final Session[] NONE = new Session[0];

    final String name;
    final Shard[] shards;
    /** Members on all loops; changed only inside the rooms map's compute for this name (one writer at a time). */
    volatile int size;

    Room(String name, EventExecutor[] loops) {
        this.name = name;
        this.shards = new Shard[loops.length];
        for (int i = 0; i < loops.length; i++) {
            shards[i] = new Shard(loops[i]);
        }
    }

    /** The members of one room on one event loop. */
    static final class Shard {
        final EventExecutor loop;
        /** Copy on write: written on {@link #loop} only, read anywhere. */
        volatile Session[] members = NONE;

        Shard(EventExecutor loop) {
            this.loop = loop;
        }

        /** On {@link #loop}. Copying costs O(members of this room on this loop) per join, not per message. */
        void add(Session s) {
            Session[] old = members;
            Session[] now = Arrays.copyOf(old, old.length + 1);
            now[old.length] = s;
            members = now;
        }

        /** On {@link #loop}. */
        void remove(Session s) {
            Session[] old = members;
            for (int i = 0; i < old.length; i++) {
                if (old[i] == s) {
                    if (old.length == 1) {
                        members = NONE;
                        return;
                    }
                    Session[] now = new Session[old.length - 1];
                    System.arraycopy(old, 0, now, 0, i);
                    System.arraycopy(old, i + 1, now, i, old.length - i - 1);
                    members = now;
                    return;
                }
            }
        }

        /** On {@link #loop}: writes {@code event} to every member here. The caller keeps its reference. */
        void deliver(ByteBuf event) {
            for (Session s : members) {
                s.deliver(event);
            }
        }
    }
}
