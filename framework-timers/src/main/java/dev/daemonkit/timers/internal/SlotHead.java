package dev.daemonkit.timers.internal;

/**
 * The sentinel of one slot's circular list. With a sentinel, unlinking a node needs neither the slot
 * nor a branch for the head, and a node knows its slot just emptied when its two neighbours are the
 * same node: then that node is this sentinel.
 */
final class SlotHead extends TimerNode {

    /** Position in {@link Wheel}'s occupancy bitmap: level * wheelSize + slot. */
    final int index;

    SlotHead(int index) {
        super(null, null);
        this.index = index;
        next = this;
        prev = this;
    }
}
