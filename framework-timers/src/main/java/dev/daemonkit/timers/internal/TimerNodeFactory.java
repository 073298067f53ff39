package dev.daemonkit.timers.internal;

/**
 * Makes the plain one-shot nodes of a wheel (see {@link TimerNode}), so that a framework can hand
 * them to its users as its own handle type (a subclass implementing its API's interface) instead of
 * wrapping each in a second object. Repeating, far and handed-over timers keep the wheel's own
 * node type. Called on the wheel's thread for each schedule.
 */
@FunctionalInterface
public interface TimerNodeFactory {

    /** The wheel's own nodes. */
    TimerNodeFactory PLAIN = TimerNode::new;

    /** A new node of {@code owner} for {@code task}: {@code new Subclass(owner, task)}, nothing more. */
    TimerNode newTimer(TimerOwner owner, Runnable task);
}
