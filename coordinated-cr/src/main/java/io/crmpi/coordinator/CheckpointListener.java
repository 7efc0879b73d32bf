package io.crmpi.coordinator;

/** Hears the outcome of every epoch (for logs, history and the status table). */
public interface CheckpointListener {
  void epochEnded(CheckpointOutcome outcome);
}
