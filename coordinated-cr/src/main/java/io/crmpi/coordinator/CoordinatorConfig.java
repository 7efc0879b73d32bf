package io.crmpi.coordinator;

import java.time.Duration;
import java.util.Objects;

/**
 * The coordinator's settings.
 *
 * @param job the job key
 * @param engine the engine name recorded in manifests
 * @param keep how many committed epochs retention keeps (at least 1)
 * @param prepareTimeout how long every node may take to quiesce or freeze
 * @param dumpTimeout how long every node may take to dump
 * @param persistTimeout how long every node may take to fsync and digest
 * @param storage where epochs are written and when they are committed
 */
public record CoordinatorConfig(
    String job,
    String engine,
    int keep,
    Duration prepareTimeout,
    Duration dumpTimeout,
    Duration persistTimeout,
    StoragePlan storage) {
  public CoordinatorConfig {
    Objects.requireNonNull(job, "job");
    Objects.requireNonNull(engine, "engine");
    if (keep < 1) {
      throw new IllegalArgumentException("keep < 1: " + keep);
    }
    requirePositive(prepareTimeout, "prepareTimeout");
    requirePositive(dumpTimeout, "dumpTimeout");
    requirePositive(persistTimeout, "persistTimeout");
    storage = storage == null ? StoragePlan.sharedOnly() : storage;
  }

  /** Settings of a job whose epochs go straight to the state directory. */
  public CoordinatorConfig(String job, String engine, int keep, Duration prepareTimeout, Duration dumpTimeout,
      Duration persistTimeout) {
    this(job, engine, keep, prepareTimeout, dumpTimeout, persistTimeout, null);
  }

  private static void requirePositive(Duration d, String name) {
    Objects.requireNonNull(d, name);
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(name + " is not positive: " + d);
    }
  }
}
