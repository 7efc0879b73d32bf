package io.crmpi.protocol;

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
   */
  record Dump(long epoch, Path epochDir, Path previousEpochDir, long timeoutMillis)
      implements AgentRequest {
    public Dump(long epoch, Path epochDir, Path previousEpochDir, Duration timeout) {
      this(epoch, epochDir, previousEpochDir, timeout.toMillis());
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
   * Make the node's part of the epoch durable: fsync every file and digest
   * it. The tree may already run again: its image is complete.
   */
  record Persist(long epoch) implements AgentRequest {
    public Persist {
      requirePositive(epoch);
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
