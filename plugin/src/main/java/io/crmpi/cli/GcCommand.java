package io.crmpi.cli;

import io.crmpi.local.ExitCodes;
import io.crmpi.local.JobDirectory;
import io.crmpi.local.JobException;
import io.crmpi.local.JobRemoval;
import io.crmpi.local.Units;
import io.crmpi.policy.CheckpointPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code crmpi gc --older-than 7d}: removes every job of the state
 * directory that is not running and has not changed for that long (jobs
 * set aside as superseded included). {@code --dry-run} only lists them.
 */
@Command(name = "gc", description = "Remove jobs that are not running and have not changed for a while.")
final class GcCommand implements Callable<Integer> {
  @Mixin StateDirOption state;

  @Option(names = "--older-than", required = true, paramLabel = "AGE",
      description = "Remove jobs unchanged for this long (e.g. 7d, 12h).")
  String olderThan;

  @Option(names = "--dry-run", description = "List what would be removed, remove nothing.")
  boolean dryRun;

  @Option(names = "--json", description = "Print the result as JSON (schema crmpi.gc/1, docs/json.md).")
  boolean json;

  @Option(names = "--include-stopped", description = "Also remove stopped jobs that could still resume (vacated,"
      + " or whose crmpi died): a Slurm requeue or 'crmpi restart' would have resumed them.")
  boolean includeStopped;

  Clock clock = Clock.systemUTC();

  @Override
  public Integer call() throws Exception {
    Duration age;
    try {
      age = CheckpointPolicy.parseDuration(olderThan);
    } catch (IllegalArgumentException e) {
      throw new JobException("--older-than: " + e.getMessage(), ExitCodes.USAGE);
    }
    Instant cutoff = clock.instant().minus(age);
    List<Row> rows = new java.util.ArrayList<>();
    long freed = 0;
    int failed = 0;
    for (JobDirectory dir : state.jobDirectories()) {
      Path p = dir.dir();
      Instant changed = JobRemoval.lastChange(dir);
      if (!changed.isBefore(cutoff)) {
        continue;
      }
      java.nio.file.attribute.UserPrincipal owner = Files.getOwner(p, java.nio.file.LinkOption.NOFOLLOW_LINKS);
      if (!owner.equals(io.crmpi.security.PrivateSockets.owner())) {
        rows.add(new Row(dir.name(), changed, null, "kept", owner.getName() + "'s"));
      } else if (dir.isLocked()) {
        rows.add(new Row(dir.name(), changed, null, "kept", "running"));
      } else if (!includeStopped && resumable(dir)) {
        rows.add(new Row(dir.name(), changed, null, "kept", "can resume (--include-stopped removes it)"));
      } else if (dryRun) {
        rows.add(new Row(dir.name(), changed, JobRemoval.size(dir.dir()), "would-remove", ""));
      } else {
        try {
          JobRemoval.Removed r = JobRemoval.remove(dir);
          freed += r.bytes();
          rows.add(new Row(dir.name(), changed, r.bytes(), "removed", ""));
        } catch (JobException | java.io.IOException e) {
          failed++;
          rows.add(new Row(dir.name(), changed, null, "failed", String.valueOf(e.getMessage())));
        }
      }
    }
    if (json) {
      System.out.println(StatusReport.JSON.writeValueAsString(new Result(SCHEMA, state.root().toAbsolutePath()
          .toString(), olderThan, dryRun, rows, dryRun ? 0 : freed)));
    } else {
      Table t = new Table("JOB", "UNCHANGED SINCE", "SIZE", "ACTION").alignRight(2);
      for (Row r : rows) {
        t.add(r.job(), r.unchangedSince(), r.bytes() == null ? "-" : Units.bytes(r.bytes()),
            r.action().replace('-', ' ') + (r.why().isEmpty() ? "" : ": " + r.why()));
      }
      System.out.print(t.isEmpty() ? "no job in " + state.root().toAbsolutePath() + " is unchanged for " + olderThan
          + "\n" : t.render());
      if (!dryRun && !t.isEmpty()) {
        System.out.println("freed " + Units.bytes(freed));
      }
    }
    return failed == 0 ? 0 : ExitCodes.ERROR;
  }

  static final String SCHEMA = "crmpi.gc/1";

  /**
   * One job gc looked at.
   *
   * @param bytes what removing it frees (or would), null when it is kept or failed
   * @param action kept, would-remove, removed or failed
   * @param why why it was kept, or why removing it failed ("" otherwise)
   */
  record Row(String job, Instant unchangedSince, Long bytes, String action, String why) {}

  /** What crmpi gc --json prints. */
  record Result(String schema, String stateDir, String olderThan, boolean dryRun, List<Row> jobs, long freedBytes) {}

  /**
   * Whether a job not running could still be resumed: stopped (vacated,
   * awaiting a requeue) or left RUNNING by a crmpi that died. A job set
   * aside for another of the same key never resumes.
   */
  private static boolean resumable(JobDirectory dir) {
    if (dir.name().contains(".superseded-")) {
      return false;
    }
    try {
      return dir.readState().map(s -> s.status() == io.crmpi.local.JobStatus.STOPPED
          || s.status() == io.crmpi.local.JobStatus.RUNNING).orElse(false);
    } catch (java.io.IOException | RuntimeException e) {
      return false;
    }
  }
}
