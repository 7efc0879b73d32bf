package io.crmpi.coordinator;

import java.util.Objects;

/**
 * How one flush of an epoch from the node-local level to the state
 * directory ended.
 *
 * @param epoch the epoch
 * @param bytes bytes copied, over every node
 * @param linkedBytes bytes not copied because the previous flushed epoch
 *     had them (hard links)
 * @param millis how long the slowest node took
 * @param problem null when every node flushed; else what went wrong (the
 *     epoch stays committed at the node-local level only)
 */
public record FlushOutcome(long epoch, long bytes, long linkedBytes, long millis, String problem) {
  public FlushOutcome {
    if (epoch <= 0) {
      throw new IllegalArgumentException("epoch <= 0: " + epoch);
    }
  }

  public boolean ok() {
    return problem == null;
  }

  static FlushOutcome failed(long epoch, String problem) {
    return new FlushOutcome(epoch, 0, 0, 0, Objects.requireNonNull(problem, "problem"));
  }
}
