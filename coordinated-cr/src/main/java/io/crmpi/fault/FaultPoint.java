package io.crmpi.fault;

/**
 * The places where a test can make crmpi fail on purpose, so that every
 * failure path of the protocol runs for real. Named in CRMPI_FAULTS as
 * {@code name@epoch} (or {@code name@*} for every epoch, {@code name@3-} for
 * epoch 3 and later), comma-separated, e.g. {@code CRMPI_FAULTS=dump@2};
 * {@code :kill} after the epoch makes the process that reaches the point
 * kill itself with SIGKILL instead of failing the step
 * ({@code committed@2:kill}), and {@code :killrank} kills one rank of the
 * node tree with SIGKILL and lets the step go on ({@code dump@2:killrank}).
 */
public enum FaultPoint {
  /** The agent fails to start its node tree (epoch 0: the first launch, and a start over). */
  LAUNCH("launch"),
  /** The agent fails before it quiesces its ranks and freezes its tree. */
  PREPARE("prepare"),
  /** The agent fails after the quiesce, before it freezes its tree. */
  FREEZE("freeze"),
  /** The engine's dump fails after it has written part of the image. */
  DUMP("dump"),
  /** The agent fails to make its image durable. */
  PERSIST("persist"),
  /** The coordinator fails to write the manifest (before its rename, the commit point). */
  COMMIT("commit"),
  /** The coordinator fails right after the manifest's rename: the epoch is committed. */
  COMMITTED("committed"),
  /** The agent fails to seal its image after the commit (the epoch is withdrawn). */
  SEAL("seal"),
  /** The agent fails to thaw its tree and resume its ranks after a dump (or an abort). */
  RESUME("resume"),
  /** Retention fails before it removes old epochs. */
  RETENTION("retention"),
  /** Reading an epoch's files to verify them before a restore fails (as an EIO would). */
  VERIFY("verify"),
  /** The agent fails to restore its tree from the epoch (after the working directory's rollback). */
  RESTORE("restore"),
  /**
   * The agent's flush of a committed epoch to the state directory fails
   * after it wrote everything (files, chunk pack, recipes), before it
   * answers: the manifest does not count the copy.
   */
  FLUSH("flush");

  private final String key;

  FaultPoint(String key) {
    this.key = key;
  }

  public String key() {
    return key;
  }
}
