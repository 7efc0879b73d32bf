package io.crmpi.report;

import io.crmpi.local.HistoryEntry;
import io.crmpi.policy.YoungDaly;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The numbers of a report's summary: what checkpointing cost the job, what
 * each failure cost it, and what the Young/Daly model says the interval
 * should have been for the measured checkpoint cost.
 *
 * @param wall the job's run time so far
 * @param frozen the time its ranks stood still for checkpoints
 * @param checkpointing the time checkpoints ran (frozen, then persisting while the job ran on)
 * @param committed epochs committed
 * @param aborted epochs aborted
 * @param failures every restore, with the work it cost
 * @param cost the mean time the job stood still per checkpoint (δ), if any was taken
 * @param interval the mean time between two committed checkpoints' starts, if there were two
 * @param mtbf the mean time between failures the model assumes
 * @param optimum Young/Daly's interval for cost and mtbf
 * @param predictedAtInterval the model's overhead fraction at the interval used
 * @param predictedAtOptimum the model's overhead fraction at the optimum
 */
public record Overhead(Duration wall, Duration frozen, Duration checkpointing, int committed, int aborted,
    List<Failure> failures, Optional<Duration> cost, Optional<Duration> interval, Duration mtbf,
    Optional<Duration> optimum, Optional<Double> predictedAtInterval, Optional<Double> predictedAtOptimum) {

  /**
   * One restore and the time it cost: from the commit of the epoch it
   * restored (the work done since is done again), or from the previous
   * restore if that came later, to the restore's end.
   */
  public record Failure(long epoch, java.time.Instant at, Duration lost, String detail) {}

  /** The summary of run, the model assuming mtbf. */
  public static Overhead of(JobRun run, Duration mtbf) {
    List<HistoryEntry> commits = run.of("committed");
    Duration frozen = Duration.ofMillis(commits.stream().mapToLong(HistoryEntry::frozenMillis).sum());
    Duration checkpointing = Duration.ofMillis(commits.stream().mapToLong(HistoryEntry::totalMillis).sum());
    List<Failure> failures = new ArrayList<>();
    java.time.Instant previousRestore = run.start();
    for (HistoryEntry r : run.of("restart")) {
      java.time.Instant committedAt = r.epoch() == 0 ? run.start() : commits.stream()
          .filter(c -> c.epoch() == r.epoch()).map(HistoryEntry::time).findFirst().orElse(run.start());
      // Two restores from one epoch: the second loses only what was done after the first.
      java.time.Instant from = committedAt.isAfter(previousRestore) ? committedAt : previousRestore;
      previousRestore = r.time();
      failures.add(new Failure(r.epoch(), r.time(), nonNegative(Duration.between(from, r.time())),
          r.detail() == null ? "" : r.detail()));
    }
    Optional<Duration> cost = commits.isEmpty() ? Optional.empty()
        : Optional.of(Duration.ofMillis(Math.max(1, frozen.toMillis() / commits.size())));
    Optional<Duration> interval = commits.size() < 2 ? Optional.empty()
        : Optional.of(Duration.between(commits.get(0).time(), commits.get(commits.size() - 1).time())
            .dividedBy(commits.size() - 1));
    Optional<Duration> optimum = cost.map(c -> YoungDaly.interval(c, mtbf));
    return new Overhead(run.wall(), frozen, checkpointing, commits.size(), run.of("aborted").size(), failures, cost,
        interval, mtbf, optimum, predicted(cost, interval, mtbf), predicted(cost, optimum, mtbf));
  }

  /**
   * The first-order waste of checkpointing every τ at cost δ with failures
   * every M: δ/(τ+δ) spent checkpointing, plus (τ+δ)/(2M) lost per failure.
   */
  static Optional<Double> predicted(Optional<Duration> cost, Optional<Duration> tau, Duration mtbf) {
    if (cost.isEmpty() || tau.isEmpty()) {
      return Optional.empty();
    }
    double d = cost.get().toMillis() / 1000.0;
    double t = tau.get().toMillis() / 1000.0;
    double m = mtbf.toMillis() / 1000.0;
    return Optional.of(d / (t + d) + (t + d) / (2 * m));
  }

  /** A fraction of the wall time. */
  public double share(Duration part) {
    return wall.isZero() ? 0 : (double) part.toMillis() / wall.toMillis();
  }

  private static Duration nonNegative(Duration d) {
    return d.isNegative() ? Duration.ZERO : d;
  }
}
