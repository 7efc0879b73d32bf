package io.crmpi.coordinator;

/**
 * Why an epoch was aborted: a closed list, so that status tables, logs and
 * the failure tracker speak of the same few things.
 */
public enum AbortReason {
  STORE_UNAVAILABLE("the checkpoint directory could not take a new epoch", true),
  PREPARE_FAILED("a node could not quiesce or freeze its ranks", true),
  PREPARE_TIMEOUT("a node did not quiesce or freeze its ranks in time", true),
  DUMP_FAILED("a node's engine failed to dump its node tree", false),
  DUMP_TIMEOUT("a node's dump did not finish in time", false),
  PERSIST_FAILED("a node could not make its image durable", false),
  PERSIST_TIMEOUT("a node did not make its image durable in time", false),
  SEAL_FAILED("a node's image could not be sealed (crmpid's digests of it): it could never be restored", false),
  SEAL_TIMEOUT("a node's image was not sealed in time", false),
  FLUSH_FAILED("a node could not copy its image to the state directory (the epoch's required level)", false),
  COMMIT_FAILED("the manifest could not be written", false),
  SHUTDOWN("crmpi was shutting down", true),
  TREE_ENDED("a node's tree ended on its own before the checkpoint (the job is finishing)", true, false);

  private final String message;
  private final boolean beforeDump;
  private final boolean failure;

  AbortReason(String message, boolean beforeDump) {
    this(message, beforeDump, true);
  }

  AbortReason(String message, boolean beforeDump, boolean failure) {
    this.message = message;
    this.beforeDump = beforeDump;
    this.failure = failure;
  }

  public String message() {
    return message;
  }

  /** True when the epoch ended before any image was written. */
  public boolean beforeDump() {
    return beforeDump;
  }

  /**
   * False for an epoch called off because the job is ending: it is logged
   * as information and does not count towards the failures in a row.
   */
  public boolean isFailure() {
    return failure;
  }
}
