package io.crmpi.local;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a job is, as {@code crmpi run} was told, kept in the job's directory
 * so that {@code crmpi restart} can take it up again after crmpi itself died.
 *
 * @param formatVersion {@link #FORMAT_VERSION}
 * @param name the job key
 * @param command the node tree's command (e.g. mpirun and its arguments)
 * @param workdir the working directory (absolute)
 * @param environment the job's environment
 * @param policy the checkpoint policy as given ("5s", "cron:...", "auto", "none")
 * @param keep committed epochs kept
 * @param maxRestarts failures survived before giving up
 * @param engine "criu"
 * @param createdAt when the job was first run
 * @param keepAfterSuccess whether the images stay once the job succeeded
 *     (by default they are removed then; the manifests and history stay)
 * @param storage the storage levels (absent in specs of jobs run before
 *     them: the state directory only)
 */
public record JobSpec(
    int formatVersion,
    String name,
    List<String> command,
    String workdir,
    Map<String, String> environment,
    String policy,
    int keep,
    int maxRestarts,
    String engine,
    Instant createdAt,
    boolean keepAfterSuccess,
    StorageSpec storage) {
  public static final int FORMAT_VERSION = 1;

  public JobSpec {
    if (formatVersion != FORMAT_VERSION) {
      throw new IllegalArgumentException("unknown job formatVersion " + formatVersion);
    }
    requireValidName(name);
    command = List.copyOf(command);
    if (command.isEmpty()) {
      throw new IllegalArgumentException("job " + name + " has no command");
    }
    Objects.requireNonNull(workdir, "workdir");
    environment = Map.copyOf(environment);
    Objects.requireNonNull(policy, "policy");
    if (keep < 1) {
      throw new IllegalArgumentException("--keep must be at least 1: " + keep);
    }
    if (maxRestarts < 0) {
      throw new IllegalArgumentException("--max-restarts must not be negative: " + maxRestarts);
    }
    Objects.requireNonNull(engine, "engine");
    Objects.requireNonNull(createdAt, "createdAt");
    storage = storage == null ? StorageSpec.sharedOnly() : storage;
  }

  /** A job whose checkpoints go straight to the state directory. */
  public JobSpec(int formatVersion, String name, List<String> command, String workdir, Map<String, String> environment,
      String policy, int keep, int maxRestarts, String engine, Instant createdAt, boolean keepAfterSuccess) {
    this(formatVersion, name, command, workdir, environment, policy, keep, maxRestarts, engine, createdAt,
        keepAfterSuccess, null);
  }

  /** Job names become directory and cgroup names: letters, digits, '.', '_', '-'. */
  public static void requireValidName(String name) {
    if (name == null || !name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,127}")) {
      throw new IllegalArgumentException("bad job name '" + name
          + "': use 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit");
    }
  }
}
