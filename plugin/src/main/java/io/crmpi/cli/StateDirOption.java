package io.crmpi.cli;

import io.crmpi.local.JobDirectory;
import io.crmpi.local.JobException;
import io.crmpi.local.ExitCodes;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The --state-dir option shared by every subcommand, and job lookup. */
final class StateDirOption {
  @Option(names = "--state-dir", paramLabel = "DIR",
      description = "Where jobs and checkpoints live (default: $CRMPI_STATE_DIR or ~/.crmpi).")
  Path stateDir;

  Path root() {
    return stateDir != null ? stateDir : JobDirectory.defaultStateRoot();
  }

  /**
   * The directory of an existing job, or a one-line error naming what to do.
   * A bare Slurm job id (1234) names the job key of that Slurm job (slurm-1234).
   */
  JobDirectory existing(String name) {
    if (name.matches("\\d+")) {
      name = "slurm-" + name;
    }
    JobDirectory dir;
    try {
      dir = JobDirectory.of(root(), name);
    } catch (IllegalArgumentException e) {
      throw new JobException(e.getMessage(), ExitCodes.USAGE);
    }
    if (java.nio.file.Files.isDirectory(dir.dir()) && !java.nio.file.Files.isReadable(dir.dir())) {
      String owner;
      try {
        owner = java.nio.file.Files.getOwner(dir.dir()).getName();
      } catch (java.io.IOException e) {
        owner = "another user";
      }
      throw new JobException("job '" + name + "' belongs to " + owner + ": only its owner (or root) can see or"
          + " control it", ExitCodes.USAGE);
    }
    if (!dir.exists()) {
      throw new JobException("no job named '" + name + "' in " + root().toAbsolutePath()
          + " ('crmpi status' lists the jobs there; --state-dir chooses another place)", ExitCodes.USAGE);
    }
    return dir;
  }
}
