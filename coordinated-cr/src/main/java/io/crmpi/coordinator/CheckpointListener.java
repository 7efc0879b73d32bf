package io.crmpi.coordinator;

/** Hears the outcome of every epoch (for logs, history and the status table). */
public interface CheckpointListener {
  void epochEnded(CheckpointOutcome outcome);

  /** Hears the end of every flush of a committed epoch to the state directory. */
  default void flushEnded(FlushOutcome outcome) {}
}
