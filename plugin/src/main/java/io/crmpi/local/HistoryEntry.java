package io.crmpi.local;

import java.time.Instant;

/**
 * One line of a job's history: an epoch's outcome or a restart.
 *
 * @param kind "committed", "aborted", "skipped", "restart", "restore-failed", or "flushed" and
 *     "flush-failed" (a committed epoch copied from the node-local level to the state directory, or
 *     not; totalMillis is the flush's time)
 * @param epoch the epoch (for a restart, the one restored; 0 for a fresh start)
 */
public record HistoryEntry(Instant time, String kind, long epoch, String trigger, String reason,
    String detail, long bytes, long dumpMillis, long frozenMillis, long totalMillis, int nodes) {}
