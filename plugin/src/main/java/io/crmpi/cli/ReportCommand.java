package io.crmpi.cli;

import io.crmpi.local.ExitCodes;
import io.crmpi.local.JobDirectory;
import io.crmpi.local.JobException;
import io.crmpi.local.JobHistory;
import io.crmpi.local.JobSpec;
import io.crmpi.local.JobState;
import io.crmpi.policy.CheckpointPolicy;
import io.crmpi.report.HtmlReport;
import io.crmpi.report.JobRun;
import io.crmpi.report.Overhead;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code crmpi report JOB}: one self-contained HTML file with the job's
 * timeline, every epoch's costs and a summary of what checkpointing and
 * failures cost it; without a job, one line per job, like sacct.
 */
@Command(name = "report", description = "Write a job's HTML report (timeline, costs, overhead, Young/Daly), or"
    + " list every job's run with its overhead.")
final class ReportCommand implements Callable<Integer> {
  @Mixin StateDirOption state;

  @Parameters(index = "0", arity = "0..1", paramLabel = "JOB", description = "The job (or Slurm job id).")
  String name;

  @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Where to write it (default: JOB-report.html).")
  Path output;

  @Option(names = "--mtbf", paramLabel = "DURATION",
      description = "The mean time between failures the model assumes (default: the job's auto policy's, else 24h).")
  String mtbf;

  @Option(names = "--json", description = "Print the report (or the list) as JSON instead (schemas"
      + " crmpi.report.job/1 and crmpi.report.list/1, docs/json.md); writes no HTML file.")
  boolean json;

  Clock clock = Clock.systemUTC();

  @Override
  public Integer call() throws Exception {
    if (name == null) {
      return list();
    }
    JobDirectory dir = state.existing(name);
    JobRun run = run(dir);
    Overhead o = Overhead.of(run, mtbf(dir.readSpec()));
    if (json) {
      System.out.println(StatusReport.JSON.writeValueAsString(ReportJson.job(run, o)));
      return 0;
    }
    Path file = output != null ? output : Path.of(dir.name() + "-report.html");
    Files.writeString(file, HtmlReport.render(run, o), StandardCharsets.UTF_8);
    System.out.println("wrote " + file.toAbsolutePath() + ": " + o.committed() + " checkpoints, "
        + o.failures().size() + " restores; ranks frozen " + HtmlReport.pct(o.share(o.frozen())) + " of the run");
    return 0;
  }

  private int list() throws IOException {
    Table t = new Table("JOB", "STATE", "START", "ELAPSED", "EPOCHS", "ABORTED", "RESTORES", "FROZEN")
        .alignRight(3, 4, 5, 6, 7);
    java.util.List<ReportJson.Line> lines = new java.util.ArrayList<>();
    for (JobDirectory dir : state.jobDirectories()) {
      if (!dir.exists()) {
        continue;
      }
      JobRun run = run(dir);
      Overhead o = Overhead.of(run, Duration.ofHours(24));
      lines.add(ReportJson.line(run, o));
      t.add(run.job(), run.state(), StatusCommand.time(run.start()), io.crmpi.local.Units.duration(run.wall()),
          o.committed(), o.aborted(), o.failures().size(), HtmlReport.pct(o.share(o.frozen())));
    }
    if (json) {
      System.out.println(StatusReport.JSON.writeValueAsString(new ReportJson.JobList(ReportJson.LIST_SCHEMA,
          state.root().toAbsolutePath().toString(), lines)));
      return 0;
    }
    System.out.print(t.isEmpty() ? "no jobs in " + state.root().toAbsolutePath() + "\n" : t.render());
    return 0;
  }

  private JobRun run(JobDirectory dir) throws IOException {
    JobSpec spec = dir.readSpec();
    Optional<JobState> st = dir.readState();
    String status = st.map(s -> s.status().name()).orElse("NEW");
    Instant end = status.equals("RUNNING") ? clock.instant() : st.map(JobState::updatedAt).orElse(spec.createdAt());
    return new JobRun(dir.name(), status, spec.policy(), spec.createdAt(), end,
        new JobHistory(dir.history(), clock, dir.name()).read());
  }

  private Duration mtbf(JobSpec spec) {
    if (mtbf != null) {
      try {
        return CheckpointPolicy.parseDuration(mtbf);
      } catch (IllegalArgumentException e) {
        throw new JobException("--mtbf: " + e.getMessage(), ExitCodes.USAGE);
      }
    }
    try {
      if (CheckpointPolicy.parse(spec.policy()) instanceof CheckpointPolicy.Auto a) {
        return a.mtbf();
      }
    } catch (IllegalArgumentException e) {
      // an old or odd policy: the default
    }
    return Duration.ofHours(24);
  }
}
