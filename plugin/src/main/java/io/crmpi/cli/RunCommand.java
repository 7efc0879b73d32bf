package io.crmpi.cli;

import io.crmpi.local.ExitCodes;
import io.crmpi.local.JobDirectory;
import io.crmpi.local.JobException;
import io.crmpi.local.JobSpec;
import io.crmpi.local.StorageSpec;
import io.crmpi.local.LocalJob;
import io.crmpi.policy.CheckpointPolicy;
import io.crmpi.slurm.SlurmJob;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code crmpi run}: runs a job under checkpoint/restart in local mode. */
@Command(name = "run", description = "Run an MPI job with periodic checkpoints and automatic restart.")
final class RunCommand implements Callable<Integer> {
  @Mixin StateDirOption state;

  @Option(names = "--name", paramLabel = "NAME", description = "The job's name (default: the program's name).")
  String name;

  @Option(names = "--interval", paramLabel = "POLICY", defaultValue = "${env:CRMPI_CHECKPOINT_INTERVAL:-30m}",
      description = "Periodic checkpoints: a duration (5s, 10m, 1h), cron:EXPR (Quartz cron), auto[:mtbf=24h]"
          + " (Young/Daly) or none. Default: the CRMPI_CHECKPOINT_INTERVAL variable (set by the crmpi SPANK plugin's"
          + " --checkpoint-interval), else 30m.")
  String interval;

  @Option(names = "--keep", paramLabel = "N", defaultValue = "3",
      description = "Committed checkpoints to keep. Default: ${DEFAULT-VALUE}.")
  int keep;

  @Option(names = "--max-restarts", paramLabel = "N", defaultValue = "3",
      description = "Failures to survive before giving up. Default: ${DEFAULT-VALUE}.")
  int maxRestarts;

  @Option(names = "--engine", paramLabel = "ENGINE", defaultValue = "${env:CRMPI_ENGINE:-criu}",
      description = "criu (transparent: CRIU dumps the processes) or app (application-assisted: the ranks'"
          + " libcrmpi callbacks save their state; a restart starts the job afresh). Default: the CRMPI_ENGINE variable"
          + " (set by the SPANK plugin's --checkpoint-engine), else criu.")
  String engine;

  @Option(names = "--workdir", paramLabel = "DIR", description = "The job's working directory (default: .).")
  Path workdir;

  @Option(names = "--keep-after-success", description = "Keep the checkpoint images once the job has"
      + " succeeded (by default they are removed then; the manifests and the history stay).")
  boolean keepAfterSuccess;

  @Option(names = "--state-in-workdir", description = "Allow a state directory inside the working directory"
      + " (refused by default: a restore rolls the working directory back, and its checkpoints must not be part"
      + " of it).")
  boolean stateInWorkdir;

  @Option(names = "--local-dir", paramLabel = "DIR", defaultValue = "${env:CRMPI_LOCAL_DIR}",
      description = "A directory on each node's local storage (a local SSD, or /dev/shm for small jobs): checkpoints"
          + " are dumped there, the ranks frozen only for that, and flushed to the state directory while the job"
          + " runs. The same path on every node; crmpi keeps its files in DIR/crmpi-UID/JOB. Default: the"
          + " CRMPI_LOCAL_DIR variable, else none (every checkpoint goes to the state directory).")
  Path localDir;

  @Option(names = "--commit-at", paramLabel = "LEVEL", defaultValue = "local",
      description = "With --local-dir: local (a checkpoint counts once every node's dump is durable on its local"
          + " storage; the flush follows) or shared (once it is flushed to the state directory). Default:"
          + " ${DEFAULT-VALUE}.")
  String commitAt;

  @Option(names = "--flush-every", paramLabel = "K", defaultValue = "1",
      description = "With --local-dir: flush every K-th checkpoint to the state directory (a vacate's always)."
          + " Default: ${DEFAULT-VALUE}.")
  int flushEvery;

  @Option(names = "--local-keep", paramLabel = "N", defaultValue = "2",
      description = "With --local-dir: checkpoints each node keeps on its local storage. Default: ${DEFAULT-VALUE}.")
  int localKeep;

  @Option(names = "--flush-format", paramLabel = "FORMAT", defaultValue = "chunks",
      description = "With --local-dir: how the flush stores checkpoints in the state directory: chunks (each"
          + " checkpoint writes only the memory pages that changed since the last flushed one, compressed where"
          + " that pays) or files (every checkpoint whole, as CRIU wrote it). Default: ${DEFAULT-VALUE}.")
  String flushFormat;

  @Option(names = "--zstd-level", paramLabel = "N", defaultValue = "1",
      description = "With --flush-format chunks: zstd's compression level, 1 (fastest) to 19; 0 stores chunks"
          + " uncompressed. A chunk is stored compressed only when that saves an eighth of it. Default:"
          + " ${DEFAULT-VALUE}.")
  int zstdLevel;

  @Option(names = "--partner-copy", description = "With --local-dir, in a job of two nodes or more: copy every"
      + " committed checkpoint's node-local part of each node to its partner (the next node), so that a restart"
      + " after the loss of a node reads its part from the partner instead of the state directory.")
  boolean partnerCopy;

  @Mixin TimeoutOptions timeouts;

  @Parameters(paramLabel = "COMMAND", arity = "1..*", description = "The job's command, after --.")
  List<String> command;

  /** The storage levels of the options; a clear error for a node-local directory that cannot work. */
  private StorageSpec storage(Path wd) throws IOException {
    if (localDir == null) {
      if (partnerCopy) {
        throw new IllegalArgumentException("--partner-copy needs --local-dir: a partner copy is a copy of each"
            + " node's node-local checkpoint on another node");
      }
      if (!commitAt.equals("local") && !commitAt.equals("shared")) {
        throw new IllegalArgumentException("unknown --commit-at '" + commitAt + "': use local or shared");
      }
      return StorageSpec.sharedOnly();
    }
    Path local = localDir.toAbsolutePath().normalize();
    if (!Files.isDirectory(local)) {
      throw new IllegalArgumentException("--local-dir " + local + " is not a directory on this node: create it (on"
          + " every node of the job), or leave --local-dir out to write every checkpoint to the state directory");
    }
    if (inside(local, wd) || inside(wd, local)) {
      throw new IllegalArgumentException("--local-dir " + local + " and the working directory " + wd + " overlap:"
          + " a restore rolls the working directory back, so checkpoints must live elsewhere");
    }
    if (!commitAt.equals("local") && !commitAt.equals("shared")) {
      throw new IllegalArgumentException("unknown --commit-at '" + commitAt + "': use local or shared");
    }
    return new StorageSpec(local.toString(), commitAt, flushEvery, localKeep, flushFormat, zstdLevel,
        partnerCopy);
  }

  @Override
  public Integer call() throws Exception {
    Path wd = (workdir == null ? Path.of("") : workdir).toAbsolutePath().normalize();
    if (!Files.isDirectory(wd)) {
      throw new JobException("working directory " + wd + " does not exist", ExitCodes.USAGE);
    }
    if (!stateInWorkdir && inside(state.root(), wd)) {
      throw new JobException("the state directory " + state.root().toAbsolutePath() + " lies inside the working"
          + " directory " + wd + ": a restore rolls the working directory back, so checkpoints must live elsewhere."
          + " Choose another --state-dir (or CRMPI_STATE_DIR) or --workdir, or say --state-in-workdir if you mean it",
          ExitCodes.USAGE);
    }
    Optional<SlurmJob> slurm = SlurmJob.ofThisProcess();
    String jobName = name != null ? name
        : slurm.map(SlurmJob::jobKey).orElse(Path.of(command.get(command.size() - 1)).getFileName().toString());
    JobDirectory dir;
    try {
      dir = JobDirectory.of(state.root(), jobName);
      CheckpointPolicy.parse(interval);
    } catch (IllegalArgumentException e) {
      throw new JobException(e.getMessage(), ExitCodes.USAGE);
    }
    if (!engine.equals("criu") && !engine.equals("app")) {
      throw new JobException("unknown --engine '" + engine + "': use criu or app", ExitCodes.USAGE);
    }
    Optional<String> problem = ProgramCheck.problem(command, wd);
    if (problem.isPresent()) {
      throw new JobException(problem.get(), ExitCodes.USAGE);
    }
    if (dir.exists() && slurm.isPresent() && jobName.equals(slurm.get().jobKey())) {
      java.util.logging.Logger log = java.util.logging.Logger.getLogger(RunCommand.class.getName());
      String stale = slurm.get().restartCount() == 0
          ? "this is the job's first run, so it starts afresh"
          : strangerThan(dir, command, wd).orElse(null);
      if (stale == null) {
        // The same Slurm job, requeued: it resumes from its newest checkpoint.
        log.info("job " + jobName + ": requeued by Slurm (restart " + slurm.get().restartCount()
            + "); resuming from its checkpoints");
        return new LocalJob(dir, dir.readSpec(), timeouts.settings()).requeuedBySlurm(slurm.get().restartCount())
            .run(true, Long.MAX_VALUE, System.out, System.err);
      }
      // Never resume a job that is not this one: the state is an earlier job's that had the same key (a
      // cluster set up again under the same name). It is kept aside, untouched.
      Path aside = dir.setAside(Instant.now());
      log.warning("job " + jobName + ": " + dir.dir() + " held the state of an earlier Slurm job with the same id;"
          + " " + stale + " (the old state is kept in " + aside + ")");
    }
    Optional<JobDirectory> legacy = name == null && slurm.isPresent() && !dir.exists()
        ? legacyOf(state.root(), slurm.get(), command, wd) : Optional.empty();
    if (legacy.isPresent()) {
      // Requeued across the upgrade that added the cluster and the owner to the key: the job resumes under the
      // key it was started with (its images are sealed under that name).
      java.util.logging.Logger.getLogger(RunCommand.class.getName()).info("job " + legacy.get().name()
          + ": requeued by Slurm (restart " + slurm.get().restartCount() + "); resuming from its checkpoints"
          + " under the key it started with (this crmpi would name it " + jobName + ")");
      return new LocalJob(legacy.get(), legacy.get().readSpec(), timeouts.settings())
          .requeuedBySlurm(slurm.get().restartCount()).run(true, Long.MAX_VALUE, System.out, System.err);
    }
    if (dir.exists()) {
      throw new JobException("job '" + jobName + "' already exists in " + dir.dir() + ": 'crmpi restart "
          + jobName + "' resumes it, or choose another --name", ExitCodes.USAGE);
    }
    LocalJob.Settings settings = timeouts.settings();
    JobSpec spec;
    try {
      spec = new JobSpec(JobSpec.FORMAT_VERSION, jobName, command, wd.toString(), System.getenv(), interval,
          keep, maxRestarts, engine, Instant.now(), keepAfterSuccess, storage(wd));
    } catch (IllegalArgumentException e) {
      throw new JobException(e.getMessage(), ExitCodes.USAGE);
    }
    dir.create();
    dir.writeSpec(spec);
    return new LocalJob(dir, spec, settings).run(false, Long.MAX_VALUE, System.out, System.err);
  }

  /**
   * The state of this very Slurm job under the key crmpi gave Slurm jobs
   * before it named the cluster and the owner ({@code slurm-ID}), when the
   * job was requeued (a first run never resumes anything) and that state is
   * this job's: same command and working directory, and this user's
   * (JobDirectory refuses anyone else's).
   */
  static Optional<JobDirectory> legacyOf(Path stateRoot, SlurmJob slurm, List<String> command, Path wd)
      throws IOException {
    if (slurm.restartCount() == 0) {
      return Optional.empty();
    }
    JobDirectory legacy = JobDirectory.of(stateRoot, "slurm-" + slurm.id());
    if (!legacy.exists() || strangerThan(legacy, command, wd).isPresent()) {
      return Optional.empty();
    }
    return Optional.of(legacy);
  }

  /**
   * Why the job stored in dir is not the one being run again (another
   * command or working directory), or empty when it is. Its owner is this
   * user's: JobDirectory refuses anyone else's.
   */
  static Optional<String> strangerThan(JobDirectory dir, List<String> command, Path wd) throws IOException {
    JobSpec stored;
    try {
      stored = dir.readSpec();
    } catch (IOException | RuntimeException e) {
      return Optional.of("its job.json cannot be read (" + e.getMessage() + "), so it starts afresh");
    }
    if (io.crmpi.store.FileCheckpointStore.open(dir.checkpoints(), dir.name()).imagesRemoved().isPresent()) {
      return Optional.of("it succeeded already and its images were removed, so this job starts afresh");
    }
    if (!stored.command().equals(command)) {
      return Optional.of("it ran " + String.join(" ", stored.command()) + ", not this job's command, so this job"
          + " starts afresh");
    }
    if (!Path.of(stored.workdir()).equals(wd)) {
      return Optional.of("it ran in " + stored.workdir() + ", not in " + wd + ", so this job starts afresh");
    }
    return Optional.empty();
  }

  /** Whether path is dir or below it, links resolved as far as the path exists. */
  static boolean inside(Path path, Path dir) throws IOException {
    return real(path).startsWith(real(dir));
  }

  /** The path with every existing leading part resolved through its links. */
  private static Path real(Path p) throws IOException {
    Path abs = p.toAbsolutePath().normalize();
    Path existing = abs;
    while (existing != null && !Files.exists(existing)) {
      existing = existing.getParent();
    }
    return existing == null ? abs : existing.toRealPath().resolve(existing.relativize(abs));
  }

  static Duration parse(String value, String option) {
    try {
      return io.crmpi.policy.CheckpointPolicy.parseDuration(value);
    } catch (IllegalArgumentException e) {
      throw new JobException(option + ": " + e.getMessage(), ExitCodes.USAGE);
    }
  }
}
