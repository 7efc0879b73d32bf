package io.crmpi.local;

import java.time.Instant;
import java.util.Objects;

/**
 * The last recorded state of a job: who runs it, how often it restarted,
 * and how it ended. Written atomically by the crmpi process that runs the
 * job; {@code crmpi status} reads it.
 *
 * @param pid the crmpi process running the job
 * @param exitCode the job's exit code once it ended, else -1
 */
public record JobState(JobStatus status, long pid, int restarts, int exitCode, String message,
    String controlSocket, Instant updatedAt) {
  public JobState {
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(message, "message");
    Objects.requireNonNull(updatedAt, "updatedAt");
  }

  public JobState with(JobStatus status, int exitCode, String message, Instant now) {
    return new JobState(status, pid, restarts, exitCode, message, controlSocket, now);
  }

  public JobState restarted(String message, Instant now) {
    return new JobState(status, pid, restarts + 1, exitCode, message, controlSocket, now);
  }
}
