package dev.daemonkit.logging.internal;

/**
 * When a log file rolls, how rolled files are compressed and how much of its history is kept.
 *
 * @param maxFileSizeBytes a file rolls when it reaches this size, and in any case each day
 * @param maxHistoryDays   rolled files older than this many days are deleted
 * @param totalSizeCapBytes rolled files beyond this total are deleted, oldest first
 * @param compression      how rolled files are compressed
 */
public record RollingSettings(
        long maxFileSizeBytes, int maxHistoryDays, long totalSizeCapBytes, Compression compression) {}
