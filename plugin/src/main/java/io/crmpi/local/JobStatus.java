package io.crmpi.local;

/** Where a job stands, as recorded by the crmpi process that runs it. */
public enum JobStatus {
  /** crmpi runs the job (if its process is gone, the job is shown as DEAD). */
  RUNNING,
  /** The job's command ended with exit code 0. */
  SUCCEEDED,
  /** The job failed more often than --max-restarts allowed. */
  FAILED,
  /** Stopped by a signal to crmpi or vacated; its checkpoints can resume it. */
  STOPPED
}
