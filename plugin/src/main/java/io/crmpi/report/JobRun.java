package io.crmpi.report;

import io.crmpi.local.HistoryEntry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * What a report is made of: one job's recorded history between its start
 * and its last update (its end, or now while it runs).
 *
 * @param job the job's name
 * @param state its state (SUCCEEDED, RUNNING, ...)
 * @param policy the checkpoint policy as given to crmpi run
 * @param start when the job was first run
 * @param end its last recorded update
 * @param history every history entry, oldest first
 */
public record JobRun(String job, String state, String policy, Instant start, Instant end,
    List<HistoryEntry> history) {
  public JobRun {
    Objects.requireNonNull(job, "job");
    Objects.requireNonNull(start, "start");
    history = List.copyOf(history);
    end = end == null || end.isBefore(start) ? start : end;
  }

  public Duration wall() {
    return Duration.between(start, end);
  }

  /** The entries of one kind ("committed", "aborted", "restart", "restore-failed"). */
  public List<HistoryEntry> of(String kind) {
    return history.stream().filter(e -> kind.equals(e.kind())).toList();
  }
}
