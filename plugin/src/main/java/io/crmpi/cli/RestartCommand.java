package io.crmpi.cli;

import io.crmpi.local.JobDirectory;
import io.crmpi.local.ExitCodes;
import io.crmpi.local.JobException;
import io.crmpi.local.JobSpec;
import io.crmpi.local.LocalJob;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code crmpi restart}: resumes a job from its newest usable checkpoint after crmpi itself died. */
@Command(name = "restart", aliases = "resume", description = "Resume a job from its newest checkpoint that verifies"
    + " (after crmpi died, a vacate or a suspend; 'resume' is the same command), each node from the fastest"
    + " storage level that holds it.")
final class RestartCommand implements Callable<Integer> {
  @Mixin StateDirOption state;

  @Parameters(index = "0", paramLabel = "NAME", description = "The job's name.")
  String name;

  @Option(names = "--epoch", paramLabel = "EPOCH", description = "Restore this epoch (or the newest older one that verifies).")
  Long epoch;

  @Mixin TimeoutOptions timeouts;

  @Override
  public Integer call() throws Exception {
    JobDirectory dir = state.existing(name);
    JobSpec spec = dir.readSpec();
    java.util.Optional<String> removed = io.crmpi.store.FileCheckpointStore.open(dir.checkpoints(), dir.name())
        .imagesRemoved();
    if (removed.isPresent()) {
      throw new JobException("job '" + dir.name() + "' cannot be restarted: " + removed.get(), ExitCodes.USAGE);
    }
    return new LocalJob(dir, spec, timeouts.settings()).run(true, epoch == null ? Long.MAX_VALUE : epoch, System.out,
        System.err);
  }
}
