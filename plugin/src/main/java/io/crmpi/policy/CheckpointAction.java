package io.crmpi.policy;

import java.time.Duration;
import java.util.Optional;

/**
 * Takes one global checkpoint of a job, now. {@link PeriodicCheckpoints}
 * calls it from its own thread whenever the policy says a checkpoint is
 * due, never twice at the same time; the job supervisor implements it.
 */
@FunctionalInterface
public interface CheckpointAction {
  /**
   * Takes one global checkpoint and blocks until it has committed or
   * aborted.
   *
   * @param trigger why the checkpoint is taken, for logs and history
   *     ("periodic" when the policy asks for it)
   * @return how long the job stood still for the checkpoint when it
   *     committed; empty when it aborted or was skipped
   */
  Optional<Duration> checkpoint(String trigger);
}
