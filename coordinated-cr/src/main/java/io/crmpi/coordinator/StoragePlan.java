package io.crmpi.coordinator;

import io.crmpi.store.NodeLocalLevel;
import io.crmpi.store.StorageLevel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Where a job's epochs are written and when one counts as committed.
 * Without a node-local level every dump goes straight to the state
 * directory. With one, the ranks are frozen only for the dump to the
 * node-local directory; the epoch is then copied (flushed) to the state
 * directory while the job runs.
 *
 * @param localJobDir the job's directory at the node-local level (see
 *     {@link NodeLocalLevel}), or null for none
 * @param commitLevel the level an epoch must be durable at to be committed:
 *     LOCAL (commit after the node-local dump, flush afterwards) or SHARED
 *     (commit once flushed)
 * @param flushEvery with commitLevel LOCAL: flush every k-th committed
 *     epoch (a vacate's epoch always)
 * @param localKeep committed epochs each node keeps at the node-local level
 * @param flushTimeout how long every node may take to flush one epoch
 * @param chunks flush the images as deduplicated chunks (else as files)
 * @param zstdLevel with chunks: zstd's level where compression pays (0: none)
 * @param partnerCopy copy each committed epoch's node-local parts to a
 *     partner node too (storage level PARTNER; a job of two nodes or more)
 */
public record StoragePlan(Path localJobDir, StorageLevel commitLevel, int flushEvery, int localKeep,
    Duration flushTimeout, boolean chunks, int zstdLevel, boolean partnerCopy) {
  public StoragePlan(Path localJobDir, StorageLevel commitLevel, int flushEvery, int localKeep,
      Duration flushTimeout, boolean chunks, int zstdLevel) {
    this(localJobDir, commitLevel, flushEvery, localKeep, flushTimeout, chunks, zstdLevel, false);
  }

  public StoragePlan {
    if (commitLevel == StorageLevel.PARTNER) {
      throw new IllegalArgumentException("an epoch is committed at the node-local or the shared level; partner"
          + " copies are made after the commit");
    }
    if (partnerCopy && localJobDir == null) {
      throw new IllegalArgumentException("partner copies need a node-local directory");
    }
    if (zstdLevel < 0 || zstdLevel > 19) {
      throw new IllegalArgumentException("zstdLevel must be 0 (off) to 19: " + zstdLevel);
    }
    Objects.requireNonNull(commitLevel, "commitLevel");
    if (localJobDir == null && commitLevel == StorageLevel.LOCAL) {
      throw new IllegalArgumentException("committing at the node-local level needs a node-local directory");
    }
    if (flushEvery < 1) {
      throw new IllegalArgumentException("flushEvery < 1: " + flushEvery);
    }
    if (localKeep < 1) {
      throw new IllegalArgumentException("localKeep < 1: " + localKeep);
    }
    Objects.requireNonNull(flushTimeout, "flushTimeout");
    if (flushTimeout.isNegative() || flushTimeout.isZero()) {
      throw new IllegalArgumentException("flushTimeout is not positive: " + flushTimeout);
    }
  }

  /** Every dump straight to the state directory. */
  public static StoragePlan sharedOnly() {
    return new StoragePlan(null, StorageLevel.SHARED, 1, 1, Duration.ofHours(1), false, 0);
  }

  public boolean hasLocal() {
    return localJobDir != null;
  }

  /** The node-local level; only when {@link #hasLocal()}. */
  public NodeLocalLevel local() {
    return NodeLocalLevel.at(localJobDir);
  }

  /** One line for the log. */
  public String describe() {
    if (!hasLocal()) {
      return "written to the state directory";
    }
    return "dumped to " + localJobDir + " (node-local, " + localKeep + " kept per node), committed at the "
        + commitLevel.label() + " level, flushed to the state directory"
        + (flushEvery == 1 ? "" : " every " + flushEvery + " epochs")
        + (chunks ? " as deduplicated chunks" + (zstdLevel > 0 ? " (zstd " + zstdLevel + ")" : "") : "")
        + (partnerCopy ? ", and copied to a partner node" : "");
  }
}
