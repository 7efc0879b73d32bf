package io.crmpi.store;

/**
 * How long one global checkpoint took, in milliseconds.
 *
 * @param prepareMillis from the start of the epoch until every node tree
 *     was quiesced or frozen
 * @param dumpMillis the slowest node's dump, including fsync and digests
 * @param frozenMillis how long the ranks could not run (freeze to resume)
 * @param totalMillis from the start of the epoch to the commit
 */
public record Timings(long prepareMillis, long dumpMillis, long frozenMillis, long totalMillis) {
  public Timings {
    if (prepareMillis < 0 || dumpMillis < 0 || frozenMillis < 0 || totalMillis < 0) {
      throw new IllegalArgumentException("negative timing: prepare=" + prepareMillis
          + " dump=" + dumpMillis + " frozen=" + frozenMillis + " total=" + totalMillis);
    }
  }
}
