package io.crmpi.protocol;

import io.crmpi.store.NodeImage;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/** A request from the coordinator to a node agent. */
public sealed interface AgentRequest {
  long epoch();

  /** Quiesce or freeze the node tree for this epoch. */
  record Prepare(long epoch) implements AgentRequest {
    public Prepare {
      requirePositive(epoch);
    }
  }

  /**
   * Dump the prepared tree into epochDir/nodes/NODE, with a record of the
   * working-directory files the tree wrote; the tree stays frozen.
   *
   * @param epochDir the epoch's directory
   * @param previousEpochDir the newest committed epoch's directory, whose
   *     unchanged snapshot files are hard-linked instead of copied; or null
   * @param timeoutMillis how long the engine may take (the coordinator's
   *     dump timeout); a dump that takes longer is stopped, and the tree
   *     stays frozen for the abort to thaw
   * @param localJobDir the job's directory at the node-local level when
   *     epochDir is in it (the agent makes it, safely, on its node), or null
   *     when epochDir is in the state directory
   */
  record Dump(long epoch, Path epochDir, Path previousEpochDir, long timeoutMillis, Path localJobDir)
      implements AgentRequest {
    public Dump(long epoch, Path epochDir, Path previousEpochDir, Duration timeout) {
      this(epoch, epochDir, previousEpochDir, timeout.toMillis(), null);
    }

    /** A dump into the state directory. */
    public Dump(long epoch, Path epochDir, Path previousEpochDir, long timeoutMillis) {
      this(epoch, epochDir, previousEpochDir, timeoutMillis, null);
    }

    public Dump(long epoch, Path epochDir, Path previousEpochDir, Duration timeout, Path localJobDir) {
      this(epoch, epochDir, previousEpochDir, timeout.toMillis(), localJobDir);
    }

    public Dump {
      if (timeoutMillis <= 0) {
        throw new IllegalArgumentException("timeoutMillis <= 0: " + timeoutMillis);
      }
      requirePositive(epoch);
      Objects.requireNonNull(epochDir, "epochDir");
    }
  }

  /**
   * Make the node's part of the epoch durable: fsync every file (and digest
   * it, unless the node's engine digests at {@link Seal}). The tree may
   * already run again: its image is complete.
   */
  record Persist(long epoch) implements AgentRequest {
    public Persist {
      requirePositive(epoch);
    }
  }

  /**
   * Digest and seal the node's persisted image (crmpid's SHA-256 of every
   * file and its MAC over them), which makes it restorable and hands its
   * files to the job's owner. Sent after the commit, off the commit's path,
   * or before it when the commit waits for the state directory.
   */
  record Seal(long epoch) implements AgentRequest {
    public Seal {
      requirePositive(epoch);
    }
  }

  /**
   * After crmpi restarted: seal the node's image of an epoch the crmpi
   * before committed and died before sealing. crmpid keeps a persisted
   * image's descriptors for a while after its tree ended; it seals what it
   * holds for this job, node and epoch (never the files named here: they
   * only say which node's image the answer completes).
   *
   * @param image the node's unsealed image, as the manifest records it
   */
  record Reseal(long epoch, NodeImage image) implements AgentRequest {
    public Reseal {
      requirePositive(epoch);
      Objects.requireNonNull(image, "image");
    }
  }

  /**
   * Copy the node's part of a committed epoch from the node-local level to
   * the state directory and make it durable there. Runs beside the
   * checkpoints (the tree is not touched).
   *
   * @param localEpochDir the epoch at the node-local level
   * @param sharedEpochDir the epoch in the state directory
   * @param previousLocal the node-local copy of the epoch flushed before, or
   *     null: a working-directory snapshot file it shares with this epoch (a
   *     hard link) is linked to its flushed copy instead of copied again
   * @param previousShared the state directory's copy of that epoch, or null
   * @param chunks store the image files as chunks in the job's chunk store
   *     (only the chunks that previousShared does not hold are written), not
   *     as files
   * @param zstdLevel with chunks: compress them with zstd at this level, where
   *     it pays (0: never)
   */
  record Flush(long epoch, Path localEpochDir, Path sharedEpochDir, Path previousLocal, Path previousShared,
      boolean chunks, int zstdLevel) implements AgentRequest {
    public Flush {
      requirePositive(epoch);
      if (zstdLevel < 0 || zstdLevel > 19) {
        throw new IllegalArgumentException("zstdLevel must be 0 (off) to 19: " + zstdLevel);
      }
      Objects.requireNonNull(localEpochDir, "localEpochDir");
      Objects.requireNonNull(sharedEpochDir, "sharedEpochDir");
      if ((previousLocal == null) != (previousShared == null)) {
        throw new IllegalArgumentException("previousLocal and previousShared go together");
      }
    }
  }

  /**
   * Delete this node's node-local copies of every epoch of the job not in
   * keep (beyond the node-local retention, or aborted); a copy being flushed
   * stays until its flush ends.
   *
   * @param epoch the epoch whose commit or abort this follows (for the log)
   */
  record Prune(long epoch, Path localJobDir, java.util.Set<Long> keep) implements AgentRequest {
    public Prune {
      requirePositive(epoch);
      Objects.requireNonNull(localJobDir, "localJobDir");
      keep = java.util.Set.copyOf(keep);
    }
  }

  /**
   * Copy this node's node-local part of a committed epoch to its partner
   * node (a partner copy, storage level PARTNER), over the partner's port.
   * Carried out by the slot's partner link, beside the checkpoints.
   *
   * @param localJobDir the job's directory at the node-local level
   * @param partner the node that keeps the copy
   * @param partnerEndpoint host:port of the partner's port
   */
  record Replicate(long epoch, Path localJobDir, String partner, String partnerEndpoint) implements AgentRequest {
    public Replicate {
      requirePositive(epoch);
      Objects.requireNonNull(localJobDir, "localJobDir");
      Objects.requireNonNull(partner, "partner");
      if (partnerEndpoint == null || !partnerEndpoint.matches("[A-Za-z0-9.:\\[\\]_-]{1,300}:\\d{1,5}")) {
        throw new IllegalArgumentException("bad partner endpoint '" + partnerEndpoint + "' (want HOST:PORT)");
      }
    }
  }

  /**
   * Let the ranks continue, or with vacate end the tree
   * (only after a commit: a vacate never ends a job without a checkpoint).
   */
  record Resume(long epoch, boolean committed, boolean vacate) implements AgentRequest {
    public Resume {
      requirePositive(epoch);
      if (vacate && !committed) {
        throw new IllegalArgumentException("epoch " + epoch + ": vacate without a commit");
      }
    }

    /** Let the ranks run on: after every node dumped, or after an abort. */
    public static Resume proceed(long epoch) {
      return new Resume(epoch, false, false);
    }
  }

  private static void requirePositive(long epoch) {
    if (epoch <= 0) {
      throw new IllegalArgumentException("epoch <= 0: " + epoch);
    }
  }
}
