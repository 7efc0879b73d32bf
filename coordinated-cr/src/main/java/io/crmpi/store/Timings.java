package io.crmpi.store;

/**
 * How long one global checkpoint took, in milliseconds.
 *
 * @param prepareMillis from the start of the epoch until every node tree
 *     was quiesced or frozen
 * @param dumpMillis the slowest node's dump
 * @param frozenMillis how long the ranks could not run (freeze to resume)
 * @param totalMillis from the start of the epoch to the commit
 * @param sealMillis from the commit to the seal (crmpid's digests of the
 *     images, after the commit), or null when the images were sealed
 *     before it (engines that digest at the persist, or a commit that
 *     waited for the state directory) or the manifest is older
 */
public record Timings(long prepareMillis, long dumpMillis, long frozenMillis, long totalMillis, Long sealMillis) {
  public Timings {
    if (prepareMillis < 0 || dumpMillis < 0 || frozenMillis < 0 || totalMillis < 0
        || sealMillis != null && sealMillis < 0) {
      throw new IllegalArgumentException("negative timing: prepare=" + prepareMillis
          + " dump=" + dumpMillis + " frozen=" + frozenMillis + " total=" + totalMillis + " seal=" + sealMillis);
    }
  }

  /** Timings of an epoch sealed by the commit. */
  public Timings(long prepareMillis, long dumpMillis, long frozenMillis, long totalMillis) {
    this(prepareMillis, dumpMillis, frozenMillis, totalMillis, null);
  }

  /** The same timings, with the seal's time after the commit. */
  public Timings sealedAfter(long millis) {
    return new Timings(prepareMillis, dumpMillis, frozenMillis, totalMillis, millis);
  }
}
