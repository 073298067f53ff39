package dev.daemonkit.timers.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.daemonkit.timers.TimerWheelSettings;
import java.time.Duration;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;

/** The division by multiplication behind deadline rounding agrees with exact division. */
class TickArithmeticProperties {

    @Property(tries = 2000)
    void ceilTickIsTheExactCeilingForAnyTickLength(
            @ForAll @LongRange(min = 1_000, max = 3_600_000_000_000L) long tickNanos,
            @ForAll @LongRange(min = -1_000_000, max = Long.MAX_VALUE / 4) long offset) {
        long start = 5_000;
        Wheel wheel =
                new Wheel(new TimerWheelSettings(Duration.ofNanos(tickNanos), 256), () -> start, new InlineHost());
        long origin = start - tickNanos;
        long nanos = start + offset;
        long x = nanos - origin;
        long expected = x <= 0 ? 0 : Math.floorDiv(x - 1, tickNanos) + 1;
        assertThat(wheel.ceilTick(nanos)).isEqualTo(expected);
        assertThat(wheel.tickStartNanos(expected))
                .isGreaterThanOrEqualTo(Math.min(nanos, origin + expected * tickNanos));
    }

    /** A delay kept in a node's 32 bits until its turn ends is never shorter, and at most one unit longer. */
    @Property(tries = 3000)
    void anEncodedDelayIsNeverShorterAndAtMostOneUnitLonger(
            @ForAll @LongRange(min = 0, max = 1L << 47) long delayNanos) {
        int encoded = Wheel.encodeDelay(delayNanos);
        if (encoded == -1) { // beyond ~19.5 hours the timer reads the clock at once
            assertThat(delayNanos).isGreaterThan((1L << 46) - (1L << 17));
            return;
        }
        assertThat(encoded).isNotNegative();
        long decoded = Wheel.decodeDelay(encoded);
        long unit = 1L << new int[] {0, 10, 17}[encoded & 3];
        assertThat(decoded).isGreaterThanOrEqualTo(delayNanos).isLessThan(delayNanos + unit);
        assertThat(unit)
                .isLessThanOrEqualTo(delayNanos < 1L << 29 ? 1 : delayNanos < (1L << 39) - 1024 ? 1024 : 1L << 17);
    }
}
