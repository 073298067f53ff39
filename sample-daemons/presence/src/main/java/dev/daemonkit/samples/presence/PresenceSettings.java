package dev.daemonkit.samples.presence;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.time.Duration;

/** The presence daemon's settings, read once from its config block. */
record PresenceSettings(
        Duration heartbeatTimeout,
        int maxLineBytes,
        double ratePerSecond,
        int rateBurst,
        int maxRoomsPerUser,
        long maxOutboundBytes,
        Duration statsInterval,
        int maxRoomMembers,
        int announceMembershipUpTo,
        long maxRoomBacklog,
        long roomBytesPerSecond,
        long roomBurstBytes,
        BrokerSettings broker,
        AllowedHosts allowedHosts) {

    static PresenceSettings from(Config c) {
        Duration heartbeat = c.getDuration("heartbeat-timeout");
        if (heartbeat.isNegative() || heartbeat.isZero()) {
            throw new ConfigException.BadValue(
                    c.origin(),
                    "heartbeat-timeout",
                    "must be longer than 0, got " + heartbeat + ". Write for example 30 s");
        }
        int maxLine = c.getInt("max-line-bytes");
        if (maxLine < 64 || maxLine > 65536) {
            throw new ConfigException.BadValue(
                    c.origin(),
                    "max-line-bytes",
                    "must be between 64 and 65536 (the WebSocket frame limit), got " + maxLine);
        }
        double rate = c.getDouble("rate-limit.per-second");
        int burst = c.getInt("rate-limit.burst");
        if (rate <= 0 || burst < 1) {
            throw new ConfigException.BadValue(
                    c.origin(),
                    "rate-limit",
                    "per-second must be above 0 and burst at least 1, got per-second = " + rate + ", burst = " + burst);
        }
        int rooms = c.getInt("max-rooms-per-user");
        if (rooms < 1) {
            throw new ConfigException.BadValue(c.origin(), "max-rooms-per-user", "must be 1 or more, got " + rooms);
        }
        long outbound = c.getBytes("max-outbound-bytes");
        if (outbound < 1024) {
            throw new ConfigException.BadValue(
                    c.origin(), "max-outbound-bytes", "must be at least 1 KiB, got " + outbound + " bytes");
        }
        int members = c.getInt("max-room-members");
        if (members < 1) {
            throw new ConfigException.BadValue(c.origin(), "max-room-members", "must be 1 or more, got " + members);
        }
        int announce = c.getInt("announce-membership-up-to");
        if (announce < 0) {
            throw new ConfigException.BadValue(
                    c.origin(), "announce-membership-up-to", "must be 0 (never announce) or more, got " + announce);
        }
        long backlog = c.getLong("max-room-backlog");
        if (backlog < 1) {
            throw new ConfigException.BadValue(c.origin(), "max-room-backlog", "must be 1 or more, got " + backlog);
        }
        long roomRate = c.getBytes("room-rate-limit.bytes-per-second");
        long roomBurst = c.getBytes("room-rate-limit.burst");
        if (roomRate < 1 || roomBurst < 2L * maxLine) {
            throw new ConfigException.BadValue(
                    c.origin(),
                    "room-rate-limit",
                    "bytes-per-second must be 1 or more and burst at least twice max-line-bytes (" + 2L * maxLine
                            + " bytes: one message with its EVENT header must fit), got bytes-per-second = "
                            + roomRate + ", burst = " + roomBurst);
        }
        return new PresenceSettings(
                heartbeat,
                maxLine,
                rate,
                burst,
                rooms,
                outbound,
                c.getDuration("stats-interval"),
                members,
                announce,
                backlog,
                roomRate,
                roomBurst,
                BrokerSettings.from(c),
                allowedHosts(c));
    }

    private static AllowedHosts allowedHosts(Config c) {
        try {
            return AllowedHosts.of(c.getStringList("allowed-hosts"));
        } catch (IllegalArgumentException e) {
            throw new ConfigException.BadValue(c.origin(), "allowed-hosts", e.getMessage());
        }
    }

    /** Defaults for handler tests that run without a config file (the same as reference.conf). */
    static PresenceSettings defaults() {
        return new PresenceSettings(
                Duration.ofSeconds(30),
                1024,
                20,
                40,
                16,
                256 * 1024,
                Duration.ofMinutes(1),
                10_000,
                1000,
                1_000_000,
                64 * 1024,
                64 * 1024,
                BrokerSettings.MEMORY,
                AllowedHosts.NONE);
    }

    PresenceSettings withRate(double perSecond, int burst) {
        return new PresenceSettings(
                heartbeatTimeout,
                maxLineBytes,
                perSecond,
                burst,
                maxRoomsPerUser,
                maxOutboundBytes,
                statsInterval,
                maxRoomMembers,
                announceMembershipUpTo,
                maxRoomBacklog,
                roomBytesPerSecond,
                roomBurstBytes,
                broker,
                allowedHosts);
    }

    PresenceSettings withMaxOutboundBytes(long bytes) {
        return new PresenceSettings(
                heartbeatTimeout,
                maxLineBytes,
                ratePerSecond,
                rateBurst,
                maxRoomsPerUser,
                bytes,
                statsInterval,
                maxRoomMembers,
                announceMembershipUpTo,
                maxRoomBacklog,
                roomBytesPerSecond,
                roomBurstBytes,
                broker,
                allowedHosts);
    }

    PresenceSettings withRoomRate(long bytesPerSecond, long burstBytes) {
        return new PresenceSettings(
                heartbeatTimeout,
                maxLineBytes,
                ratePerSecond,
                rateBurst,
                maxRoomsPerUser,
                maxOutboundBytes,
                statsInterval,
                maxRoomMembers,
                announceMembershipUpTo,
                maxRoomBacklog,
                bytesPerSecond,
                burstBytes,
                broker,
                allowedHosts);
    }

    PresenceSettings withRooms(int maxMembers, int announceUpTo, long maxBacklog) {
        return new PresenceSettings(
                heartbeatTimeout,
                maxLineBytes,
                ratePerSecond,
                rateBurst,
                maxRoomsPerUser,
                maxOutboundBytes,
                statsInterval,
                maxMembers,
                announceUpTo,
                maxBacklog,
                roomBytesPerSecond,
                roomBurstBytes,
                broker,
                allowedHosts);
    }
}
