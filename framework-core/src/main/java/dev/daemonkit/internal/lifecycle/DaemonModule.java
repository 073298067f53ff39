package dev.daemonkit.internal.lifecycle;

import com.google.inject.AbstractModule;
import com.typesafe.config.Config;
import dev.daemonkit.api.DaemonContext;
import dev.daemonkit.api.Timers;
import io.netty.channel.EventLoopGroup;
import org.slf4j.Logger;

/** What the framework binds in each daemon's child injector. */
final class DaemonModule extends AbstractModule {
    private final InstanceContext daemon;

    DaemonModule(InstanceContext daemon) {
        this.daemon = daemon;
    }

    @Override
    protected void configure() {
        bind(DaemonContext.class).toInstance(daemon);
        bind(Config.class).toInstance(daemon.config());
        bind(Logger.class).toInstance(daemon.log());
        bind(Timers.class).toInstance(daemon.timers());
        bind(EventLoopGroup.class).toInstance(daemon.eventLoops());
    }
}
