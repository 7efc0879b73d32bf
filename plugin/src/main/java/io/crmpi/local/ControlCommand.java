package io.crmpi.local;

/** A request on a running job's control socket, from another crmpi command of the job's owner. */
public sealed interface ControlCommand {
  /** Take a checkpoint now. */
  record Checkpoint() implements ControlCommand {}

  /** Take a checkpoint and end the job ('crmpi restart' resumes it). */
  record Vacate() implements ControlCommand {}

  /**
   * Take a checkpoint and stop the job on this machine, keeping its
   * node-local copy ('crmpi resume' restores it from there): its CPUs and
   * memory are free meanwhile.
   */
  record Suspend() implements ControlCommand {}

  /** Is the job there? */
  record Ping() implements ControlCommand {}
}
