package io.crmpi.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.crmpi.local.HistoryEntry;
import java.time.Instant;
import java.util.List;

/**
 * What {@code crmpi status} reports, as typed records: the table and the
 * {@code --json} output are made from the same rows. The JSON schema is
 * versioned ({@link #JOB_SCHEMA}, {@link #LIST_SCHEMA}) and documented in
 * docs/json.md; a field is only ever added within a version.
 */
final class StatusReport {
  static final String JOB_SCHEMA = "crmpi.status.job/1";
  static final String LIST_SCHEMA = "crmpi.status.list/1";
  static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule())
      .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS).enable(SerializationFeature.INDENT_OUTPUT);

  private StatusReport() {}

  /** One job. */
  record Job(String schema, String job, String state, String stateDetail, List<String> command, String workdir,
      String policy, int keep, int maxRestarts, int restarts, Long latestEpoch, String imagesRemoved,
      List<Event> events, String latestLevels, Double vacateSeconds) {}

  /**
   * One line of the job's history.
   *
   * @param state committed, expired, aborted, skipped, restored, bad-restore, flushed or flush-failed
   */
  record Event(long epoch, String state, Instant time, Long bytes, Long dumpMillis, Long frozenMillis,
      Long totalMillis, Integer nodes, String note) {
    /** The event of a history entry, or null for a kind status does not show. */
    static Event of(HistoryEntry e, boolean kept) {
      return switch (e.kind()) {
        case "committed" -> new Event(e.epoch(), kept ? "committed" : "expired", e.time(), e.bytes(), e.dumpMillis(),
            e.frozenMillis(), e.totalMillis(), e.nodes(), e.trigger() == null ? "" : e.trigger());
        case "aborted" -> new Event(e.epoch(), "aborted", e.time(), null, null, null, null, null,
            e.reason() + ": " + e.detail());
        case "restart" -> new Event(e.epoch(), "restored", e.time(), null, null, null, null, null,
            e.epoch() == 0 ? "started over: " + e.detail() : e.detail());
        case "restore-failed" -> new Event(e.epoch(), "bad-restore", e.time(), null, null, null, null, null,
            e.detail());
        case "skipped" -> new Event(0, "skipped", e.time(), null, null, null, null, null, e.detail());
        case "flushed" -> new Event(e.epoch(), "flushed", e.time(), e.bytes(), null, null, e.totalMillis(), null,
            "copied to the state directory");
        case "flush-failed" -> new Event(e.epoch(), "flush-failed", e.time(), null, null, null, null, null,
            e.detail());
        default -> null;
      };
    }
  }

  /** Every job of a state directory. */
  record JobList(String schema, String stateDir, List<Listed> jobs) {}

  /** One job of the list. */
  record Listed(String job, String state, Long latestEpoch, int restarts, Instant updated) {}
}
