package io.crmpi.cli;

import io.crmpi.local.JobRemoval;
import io.crmpi.local.Units;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code crmpi rm JOB...}: removes jobs that are not running, with every checkpoint they hold. */
@Command(name = "rm", description = "Remove jobs that are not running: their checkpoints, history and logs."
    + " The working directory is not touched.")
final class RmCommand implements Callable<Integer> {
  @Mixin StateDirOption state;

  @Parameters(paramLabel = "JOB", arity = "1..*", description = "Job names (or Slurm job ids).")
  List<String> names;

  @picocli.CommandLine.Option(names = "--json", description = "Print what was removed as JSON (schema"
      + " crmpi.rm/1, docs/json.md).")
  boolean json;

  static final String SCHEMA = "crmpi.rm/1";

  /** What crmpi rm --json prints: every job removed, with the bytes it freed. */
  record Result(String schema, List<JobRemoval.Removed> removed) {}

  @Override
  public Integer call() throws Exception {
    List<JobRemoval.Removed> removed = new java.util.ArrayList<>();
    for (String name : names) {
      JobRemoval.Removed r = JobRemoval.remove(state.existing(name));
      removed.add(r);
      if (!json) {
        System.out.println("removed job " + r.job() + ": " + Units.bytes(r.bytes()));
      }
    }
    if (json) {
      System.out.println(StatusReport.JSON.writeValueAsString(new Result(SCHEMA, removed)));
    }
    return 0;
  }
}
