package dev.daemonkit.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.daemonkit.logging.LogContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

/** What a thread's MDC holds in a scope: the daemon at once; a connection's keys when a line is logged. */
class LogScopeTest {

    private final LogScope connection17 = LogScope.of("echo", "17", "127.0.0.2:40017");
    private final LogScope connection18 = LogScope.of("echo", "18", "127.0.0.3:40018");

    @AfterEach
    void restore() {
        LogContext.filterRunning(false);
        LogScope.clear();
    }

    @Test
    void withTheLoggingSystemAConnectionsKeysAreBuiltOnlyWhenALineIsLogged() {
        LogContext.filterRunning(true);
        Object previous = connection17.enter();
        assertThat(MDC.get(LogContext.DAEMON)).isEqualTo("echo");
        assertThat(MDC.get(LogContext.CONNECTION)).isNull();
        assertThat(MDC.get(LogContext.PEER)).isNull();

        LogContext.fill(); // the logging system, just before it builds a line
        assertThat(MDC.get(LogContext.CONNECTION)).isEqualTo("17");
        assertThat(MDC.get(LogContext.PEER)).isEqualTo("127.0.0.2:40017");

        connection17.exit(previous);
        assertThat(MDC.get(LogContext.DAEMON)).isNull();
        assertThat(MDC.get(LogContext.CONNECTION)).isNull();
    }

    @Test
    void aLineLoggedForAnotherConnectionNeverCarriesTheFormerOnesKeys() {
        LogContext.filterRunning(true);
        Object outer = connection17.enter();
        LogContext.fill();
        Object inner = connection18.enter(); // e.g. a handler of 17 closes 18
        assertThat(MDC.get(LogContext.CONNECTION)).as("17's keys are gone").isNull();
        LogContext.fill();
        assertThat(MDC.get(LogContext.CONNECTION)).isEqualTo("18");
        assertThat(MDC.get(LogContext.PEER)).isEqualTo("127.0.0.3:40018");
        connection18.exit(inner);
        assertThat(MDC.get(LogContext.CONNECTION)).as("18's keys are gone").isNull();
        LogContext.fill();
        assertThat(MDC.get(LogContext.CONNECTION)).isEqualTo("17");
        connection17.exit(outer);
    }

    @Test
    void aScopeThatLoggedNothingLeavesOnlyItsDaemonToTakeOut() {
        LogContext.filterRunning(true);
        Object previous = connection17.enter();
        connection17.exit(previous); // a read that logged nothing: no connection keys were ever put
        assertThat(MDC.getCopyOfContextMap()).isNullOrEmpty();
        previous = connection18.enter();
        assertThat(MDC.get(LogContext.DAEMON)).isEqualTo("echo");
        assertThat(MDC.get(LogContext.CONNECTION)).isNull();
        connection18.exit(previous);
    }

    @Test
    void faultKeysPutEagerlyBeforeTheLoggingSystemStartedAreStillTakenOutAfterIt() {
        Object previous = connection17.enter(); // no logging system yet: every key put at once
        assertThat(MDC.get(LogContext.CONNECTION)).isEqualTo("17");
        LogContext.filterRunning(true); // it starts while the scope is in force
        connection17.exit(previous);
        assertThat(MDC.get(LogContext.CONNECTION)).as("17's key is gone").isNull();
        assertThat(MDC.get(LogContext.PEER)).isNull();
        assertThat(MDC.get(LogContext.DAEMON)).isNull();
    }

    @Test
    void withoutTheLoggingSystemEveryKeyIsPutOnEntry() {
        Object previous = connection17.enter();
        assertThat(MDC.get(LogContext.DAEMON)).isEqualTo("echo");
        assertThat(MDC.get(LogContext.CONNECTION)).isEqualTo("17");
        assertThat(MDC.get(LogContext.PEER)).isEqualTo("127.0.0.2:40017");
        connection17.exit(previous);
        assertThat(MDC.get(LogContext.PEER)).isNull();
    }
}
