package io.crmpi.cli;

import io.crmpi.local.HistoryEntry;
import io.crmpi.report.JobRun;
import io.crmpi.report.Overhead;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * What {@code crmpi report --json} prints (docs/json.md): one job's report
 * ({@value #JOB_SCHEMA}) or the list of every job ({@value #LIST_SCHEMA}).
 * The same numbers as the HTML report and the history; durations in
 * milliseconds (as everywhere in crmpi's JSON), shares as fractions of the
 * job's run time.
 */
final class ReportJson {
  static final String JOB_SCHEMA = "crmpi.report.job/1";
  static final String LIST_SCHEMA = "crmpi.report.list/1";

  private ReportJson() {}

  /** One committed epoch, as the history recorded it. */
  record Epoch(long epoch, Instant time, String trigger, long bytes, int nodes, long dumpMillis,
      long frozenMillis, long totalMillis) {}

  /** One aborted or skipped checkpoint. */
  record NotTaken(long epoch, Instant time, String kind, String reason, String detail) {}

  /** One restore and the work it cost. */
  record Restore(long epoch, Instant time, long lostMillis, String detail) {}

  /** The summary of the HTML report. */
  record Summary(int committed, int aborted, int restores, long frozenMillis, double frozenShare,
      long checkpointingMillis, double checkpointingShare, long lostMillis, Long costMillis, Long intervalMillis,
      long mtbfMillis, Long optimumIntervalMillis, Double predictedOverheadAtInterval,
      Double predictedOverheadAtOptimum) {}

  record Job(String schema, String job, String state, String policy, Instant start, Instant end,
      long wallMillis, Summary summary, List<Epoch> epochs, List<NotTaken> notTaken, List<Restore> restores) {}

  /** One line of the list. */
  record Line(String job, String state, Instant start, long wallMillis, int epochs, int aborted, int restores,
      double frozenShare) {}

  record JobList(String schema, String stateDir, List<Line> jobs) {}

  static Job job(JobRun run, Overhead o) {
    List<Epoch> epochs = run.of("committed").stream().map(e -> new Epoch(e.epoch(), e.time(), e.trigger(),
        e.bytes(), e.nodes(), e.dumpMillis(), e.frozenMillis(), e.totalMillis())).toList();
    List<NotTaken> notTaken = run.history().stream().filter(e -> e.kind().equals("aborted")
        || e.kind().equals("skipped")).map(ReportJson::notTaken).toList();
    List<Restore> restores = o.failures().stream().map(f -> new Restore(f.epoch(), f.at(), f.lost().toMillis(),
        f.detail())).toList();
    long lost = o.failures().stream().mapToLong(f -> f.lost().toMillis()).sum();
    Summary s = new Summary(o.committed(), o.aborted(), o.failures().size(), o.frozen().toMillis(),
        o.share(o.frozen()), o.checkpointing().toMillis(), o.share(o.checkpointing()), lost, millis(o.cost()),
        millis(o.interval()), o.mtbf().toMillis(), millis(o.optimum()), o.predictedAtInterval().orElse(null),
        o.predictedAtOptimum().orElse(null));
    return new Job(JOB_SCHEMA, run.job(), run.state(), run.policy(), run.start(), run.end(), run.wall().toMillis(),
        s, epochs, notTaken, restores);
  }

  static Line line(JobRun run, Overhead o) {
    return new Line(run.job(), run.state(), run.start(), run.wall().toMillis(), o.committed(), o.aborted(),
        o.failures().size(), o.share(o.frozen()));
  }

  private static NotTaken notTaken(HistoryEntry e) {
    return new NotTaken(e.epoch(), e.time(), e.kind(), e.reason(), e.detail());
  }

  private static Long millis(Optional<Duration> d) {
    return d.map(Duration::toMillis).orElse(null);
  }
}
