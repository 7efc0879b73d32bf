package io.crmpi.fault;

/**
 * The places where a test can make crmpi fail on purpose, so that every
 * failure path of the protocol runs for real. Named in CRMPI_FAULTS as
 * {@code name@epoch} (or {@code name@*} for every epoch), comma-separated,
 * e.g. {@code CRMPI_FAULTS=dump@2}.
 */
public enum FaultPoint {
  /** The agent fails to freeze or quiesce its tree. */
  PREPARE("prepare"),
  /** The engine's dump fails after it has written part of the image. */
  DUMP("dump"),
  /** The coordinator fails to write the manifest. */
  COMMIT("commit");

  private final String key;

  FaultPoint(String key) {
    this.key = key;
  }

  public String key() {
    return key;
  }
}
