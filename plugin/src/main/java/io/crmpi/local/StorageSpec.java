package io.crmpi.local;

import io.crmpi.coordinator.StoragePlan;
import io.crmpi.store.NodeLocalLevel;
import io.crmpi.store.StorageLevel;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The storage levels a job was run with ({@code crmpi run --local-dir
 * --commit-at --flush-every --local-keep}), kept in its spec so that a
 * restart uses the same.
 *
 * @param localDir the node-local directory (absolute; the same path on every
 *     node), or null to write every checkpoint to the state directory
 * @param commitAt "local" or "shared": the level an epoch must be durable at
 *     to be committed
 * @param flushEvery flush every k-th epoch to the state directory
 * @param localKeep epochs each node keeps in its node-local directory
 * @param flushFormat "chunks" (deduplicated, compressed where it pays) or
 *     "files": how the flush stores the images in the state directory (null,
 *     in the specs of jobs run before chunks: files)
 * @param zstdLevel with chunks: zstd's level (0: no compression)
 * @param partnerCopy copy every committed epoch's node-local parts to a
 *     partner node ({@code --partner-copy}; null, in older specs: no)
 */
public record StorageSpec(String localDir, String commitAt, int flushEvery, int localKeep, String flushFormat,
    int zstdLevel, Boolean partnerCopy) {
  public static final String CHUNKS = "chunks";
  public static final String FILES = "files";

  public StorageSpec(String localDir, String commitAt, int flushEvery, int localKeep, String flushFormat,
      int zstdLevel) {
    this(localDir, commitAt, flushEvery, localKeep, flushFormat, zstdLevel, false);
  }

  public StorageSpec {
    partnerCopy = Boolean.TRUE.equals(partnerCopy);
    if (partnerCopy && localDir == null) {
      throw new IllegalArgumentException("--partner-copy needs --local-dir: a partner copy is a copy of a node's"
          + " node-local checkpoint on another node");
    }
    flushFormat = flushFormat == null ? FILES : flushFormat;
    if (!flushFormat.equals(CHUNKS) && !flushFormat.equals(FILES)) {
      throw new IllegalArgumentException("unknown --flush-format '" + flushFormat + "': use chunks or files");
    }
    if (zstdLevel < 0 || zstdLevel > 19) {
      throw new IllegalArgumentException("--zstd-level must be 0 (no compression) to 19: " + zstdLevel);
    }
    if (localDir != null && !Path.of(localDir).isAbsolute()) {
      throw new IllegalArgumentException("--local-dir must be an absolute path: " + localDir);
    }
    commitAt = commitAt == null ? "local" : commitAt;
    if (StorageLevel.of(commitAt) == StorageLevel.PARTNER) {
      throw new IllegalArgumentException("--commit-at takes local or shared: partner copies (--partner-copy) are"
          + " made after the commit");
    }
    if (flushEvery < 1) {
      throw new IllegalArgumentException("--flush-every must be at least 1: " + flushEvery);
    }
    if (localKeep < 1) {
      throw new IllegalArgumentException("--local-keep must be at least 1: " + localKeep);
    }
  }

  /** Every checkpoint straight to the state directory (jobs run before the levels). */
  public static StorageSpec sharedOnly() {
    return new StorageSpec(null, "shared", 1, 1, FILES, 0);
  }

  /** The coordinator's plan for job, run by the user uid. */
  public StoragePlan plan(String job, int uid, Duration flushTimeout) {
    if (localDir == null) {
      return StoragePlan.sharedOnly();
    }
    return new StoragePlan(NodeLocalLevel.of(Path.of(localDir), uid, job).jobDir(), StorageLevel.of(commitAt),
        flushEvery, localKeep, flushTimeout, flushFormat.equals(CHUNKS), zstdLevel, partnerCopy);
  }
}
