package dev.daemonkit.timers.internal;

/**
 * The sentinel of one slot's circular list. With a sentinel, unlinking a node needs neither the slot
 * nor a branch for the head, and a node knows its slot just emptied when its two neighbours are the
 * same node: then that node is this sentinel.
 *
 * <p>Its position in {@link Wheel}'s occupancy bitmap (see {@link #index()}) is kept in the
 * inherited {@code deadline}, which a sentinel has no other use for: a field of its own would make
 * it 40 bytes instead of 32, and a wheel has a thousand or more of them.
 */
final class SlotHead extends TimerNode {

    SlotHead(int index) {
        super(null, null);
        deadline = index;
        next = this;
        prev = this;
    }

    /** Position in {@link Wheel}'s occupancy bitmap. */
    int index() {
        return deadline;
    }
}
