package io.crmpi.fault;

/**
 * The places where a test can make crmpi fail on purpose, so that every
 * failure path of the protocol runs for real. Named in CRMPI_FAULTS as
 * {@code name@epoch} (or {@code name@*} for every epoch, {@code name@3-} for
 * epoch 3 and later), comma-separated, e.g. {@code CRMPI_FAULTS=dump@2};
 * {@code :kill} after the epoch makes the process that reaches the point
 * kill itself with SIGKILL instead of failing the step
 * ({@code committed@2:kill}).
 */
public enum FaultPoint {
  /** The agent fails to freeze or quiesce its tree. */
  PREPARE("prepare"),
  /** The engine's dump fails after it has written part of the image. */
  DUMP("dump"),
  /** The agent fails to make its image durable. */
  PERSIST("persist"),
  /** The coordinator fails to write the manifest (before its rename, the commit point). */
  COMMIT("commit"),
  /** The coordinator fails right after the manifest's rename: the epoch is committed. */
  COMMITTED("committed"),
  /** Retention fails before it removes old epochs. */
  RETENTION("retention"),
  /** The agent fails to restore its tree from the epoch (after the working directory's rollback). */
  RESTORE("restore");

  private final String key;

  FaultPoint(String key) {
    this.key = key;
  }

  public String key() {
    return key;
  }
}
