package io.crmpi.store;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Where a job's global checkpoints live. An epoch is begun (a fresh, empty
 * directory), filled by the engines, then either committed (its manifest
 * written atomically: the only commit point) or aborted (its directory
 * deleted). Committed epochs are kept until retention removes them, oldest
 * first; an older epoch is never removed to make room for a newer one that
 * is not committed yet.
 */
public interface CheckpointStore {
  /**
   * Reserves the next epoch id (strictly greater than every id ever begun in
   * this store, committed or not, across restarts of crmpi) and creates its
   * empty directory.
   */
  long beginEpoch() throws IOException;

  /** The directory of a begun or committed epoch. */
  Path epochDir(long epoch);

  /**
   * Commits an epoch: writes its manifest to a temp file, fsyncs it, renames
   * it into place and fsyncs the directory. Every file listed in the
   * manifest must already be durable (the engines fsync what they write).
   */
  void commit(Manifest manifest) throws IOException;

  /**
   * Records that a committed epoch is now also durable at level (its
   * manifest is replaced atomically). False when the epoch is no longer
   * committed.
   */
  boolean addLevel(long epoch, StorageLevel level) throws IOException;

  /**
   * The directories that hold a committed epoch, fastest level first: its
   * node-local directory (each node's part on that node), then its
   * directory in this store.
   */
  default List<Path> levelDirs(Manifest manifest) {
    List<Path> dirs = new java.util.ArrayList<>();
    EpochLevels levels = manifest.levels();
    if (levels.holds(StorageLevel.LOCAL)) {
      dirs.add(Path.of(levels.localDir()));
    }
    if (levels.holds(StorageLevel.SHARED)) {
      dirs.add(epochDir(manifest.epoch()));
    }
    return dirs;
  }

  /**
   * Replaces the manifest of a committed epoch whose images were not yet
   * sealed by sealed, the same epoch with every image's digests and seal
   * (atomically, keeping the levels recorded). False when the epoch is no
   * longer committed.
   */
  boolean recordSeal(Manifest sealed) throws IOException;

  /**
   * Deletes a committed epoch whose seal never came (it can never be
   * restored), manifest first; no-op when it does not exist. A sealed epoch
   * is never withdrawn.
   */
  void withdraw(long epoch) throws IOException;

  /** Deletes a begun, uncommitted epoch; no-op when it does not exist. */
  void abort(long epoch) throws IOException;

  /** Every committed epoch, oldest first. Unreadable manifests are skipped. */
  List<Manifest> committed() throws IOException;

  /** The newest committed epoch, if any (sealed or not: see {@link Manifest#sealed()}). */
  Optional<Manifest> latest() throws IOException;

  /** The bytes a new epoch may still take where the store lives (Long.MAX_VALUE when it cannot tell). */
  default long usableBytes() throws IOException {
    return Long.MAX_VALUE;
  }

  /** One committed epoch. */
  Optional<Manifest> get(long epoch) throws IOException;

  /**
   * Recomputes size and digest of every file of a committed epoch and
   * returns the mismatches, empty when the epoch is intact.
   */
  List<String> verify(Manifest manifest) throws IOException;

  /** What a verification covers. */
  enum Scope {
    /** Every file of the epoch. */
    EVERYTHING,
    /**
     * Only the working-directory snapshots: the engine checks every image
     * file against its digest itself as it restores it (crmpid does).
     */
    WORKDIR_ONLY
  }

  /** {@link #verify(Manifest)}, limited to scope; a store may always check more. */
  default List<String> verify(Manifest manifest, Scope scope) throws IOException {
    return verify(manifest);
  }

  /** As {@link #verify(Manifest, Scope)}, telling bytesDone the bytes of each file as it is checked. */
  default List<String> verify(Manifest manifest, Scope scope, java.util.function.LongConsumer bytesDone)
      throws IOException {
    return verify(manifest, scope);
  }

  /**
   * Deletes committed epochs beyond the newest {@code keep}, and epoch
   * directories without a manifest that are older than the newest committed
   * one (debris of a crash). The manifest goes first, so an epoch is never
   * seen half-deleted as committed. Returns the epochs removed.
   */
  default List<Long> retain(int keep) throws IOException {
    return retain(keep, Set.of());
  }

  /**
   * Like {@link #retain(int)}, but never deletes a committed epoch in
   * {@code pinned} (they are kept in addition to the newest {@code keep}).
   */
  List<Long> retain(int keep, Set<Long> pinned) throws IOException;
}
