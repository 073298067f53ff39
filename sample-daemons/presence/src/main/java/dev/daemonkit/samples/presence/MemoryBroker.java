package dev.daemonkit.samples.presence;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * {@code broker = memory}: this launcher is the whole service. Every answer is ready at once, so a session never
 * waits and the daemon behaves exactly as it did before brokers existed.
 */
final class MemoryBroker implements Broker {
    private static final CompletableFuture<String> CLAIMED = CompletableFuture.completedFuture(null);

    private final Presence presence;

    MemoryBroker(Presence presence) {
        this.presence = presence;
    }

    @Override
    public CompletionStage<String> claim(String name) {
        return CLAIMED;
    }

    @Override
    public void released(String name) {}

    @Override
    public CompletionStage<?> subscribe(String room) {
        return CLAIMED;
    }

    @Override
    public void unsubscribe(String room) {}

    @Override
    public void joined(String room, String name, String rooms) {}

    @Override
    public void left(String room, String name, String rooms) {}

    @Override
    public void forward(String room, String line) {}

    @Override
    public String busy() {
        return null;
    }

    @Override
    public CompletionStage<String> who(String room) {
        return CompletableFuture.completedFuture(presence.who(room));
    }

    @Override
    public CompletionStage<String> rooms() {
        return CompletableFuture.completedFuture(presence.rooms());
    }
}
