package io.crmpi.engine;

/**
 * How a node tree ended: the exit code of its command (128 + signal when a
 * signal killed it), and whether crmpi itself ended it (a kill or a vacate)
 * rather than the job.
 */
public record TreeExit(int code, boolean killedByCrmpi) {
  /** crmpi-ns could not set the node tree up (namespaces, mounts). */
  public static final int SETUP_FAILED = 125;
  /** crmpi-ns could not restore the tree from its image. */
  public static final int RESTORE_FAILED = 126;
  /** The tree's node was lost: its agent's connection broke (the node died or was cut off). */
  public static final int NODE_LOST = 124;
  /** crmpi killed the tree because it could not thaw it after a checkpoint: a failure of the run, not a stop. */
  public static final int UNRESUMABLE = 123;

  /** Whether the tree's node itself is gone (not only the tree). */
  public boolean nodeLost() {
    return code == NODE_LOST && !killedByCrmpi;
  }

  public boolean succeeded() {
    return code == 0 && !killedByCrmpi;
  }

  public String describe() {
    if (killedByCrmpi) {
      return "stopped by crmpi";
    }
    if (code == SETUP_FAILED) {
      return "node tree setup failed (exit 125)";
    }
    if (code == NODE_LOST) {
      return "node lost (its agent's connection broke)";
    }
    if (code == UNRESUMABLE) {
      return "could not be resumed after a checkpoint, so crmpi killed it";
    }
    if (code == RESTORE_FAILED) {
      return "restore failed (exit 126)";
    }
    if (code > 128 && code < 128 + 65) {
      return "killed by signal " + (code - 128);
    }
    return "exit code " + code;
  }
}
