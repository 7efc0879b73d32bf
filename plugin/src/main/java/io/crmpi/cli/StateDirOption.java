package io.crmpi.cli;

import io.crmpi.local.JobDirectory;
import io.crmpi.local.JobException;
import io.crmpi.local.ExitCodes;
import io.crmpi.slurm.SlurmJob;
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
   * A bare Slurm job id (1234) names the job of that Slurm job
   * (slurm-1234.CLUSTER.USER) when exactly one job of the state directory
   * has that id.
   */
  JobDirectory existing(String name) {
    if (name.matches("\\d{1,18}") && !java.nio.file.Files.isDirectory(root().resolve("jobs").resolve(name))) {
      name = slurmJob(Long.parseLong(name)); // a bare Slurm job id, unless a job has that very name
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

  /**
   * Every job directory of the state directory, sorted by name: real
   * directories (not links) under jobs/ whose names are job names.
   */
  java.util.List<JobDirectory> jobDirectories() throws java.io.IOException {
    Path jobs = root().resolve("jobs");
    java.util.List<JobDirectory> dirs = new java.util.ArrayList<>();
    if (!java.nio.file.Files.isDirectory(jobs)) {
      return dirs;
    }
    try (java.util.stream.Stream<Path> s = java.nio.file.Files.list(jobs)) {
      for (Path p : s.sorted().toList()) {
        if (!java.nio.file.Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
          continue;
        }
        try {
          dirs.add(JobDirectory.of(root(), p.getFileName().toString()));
        } catch (IllegalArgumentException e) {
          // not a job's directory
        }
      }
    }
    return dirs;
  }

  /** The one job of Slurm job id in this state directory (any cluster, any user), or a one-line error. */
  private String slurmJob(long id) {
    java.util.List<String> keys;
    try {
      keys = jobDirectories().stream().map(JobDirectory::name).filter(n -> SlurmJob.isKeyOf(n, id)).toList();
    } catch (java.io.IOException e) {
      keys = java.util.List.of();
    }
    if (keys.size() == 1) {
      return keys.get(0);
    }
    if (keys.isEmpty()) {
      throw new JobException("no job of Slurm job " + id + " in " + root().toAbsolutePath()
          + " ('crmpi status' lists the jobs there; --state-dir chooses another place)", ExitCodes.USAGE);
    }
    throw new JobException("several jobs of Slurm job id " + id + " in " + root().toAbsolutePath() + ": "
        + String.join(", ", keys) + "; name one of them", ExitCodes.USAGE);
  }
}
