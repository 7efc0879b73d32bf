package io.crmpi.slurm;

import java.util.Map;
import java.util.Optional;

/**
 * The Slurm job crmpi runs in, from the environment slurmstepd gives the
 * batch script. The job id is the job key: it stays the same when Slurm
 * requeues the job, so a requeued run finds its checkpoints by it.
 *
 * @param id the job id (SLURM_JOB_ID)
 * @param restartCount how often Slurm has requeued the job (SLURM_RESTART_COUNT)
 */
public record SlurmJob(long id, int restartCount) {
  public SlurmJob {
    if (id <= 0) {
      throw new IllegalArgumentException("SLURM_JOB_ID <= 0: " + id);
    }
  }

  /** The job of this process, if it runs inside a Slurm job. */
  public static Optional<SlurmJob> fromEnvironment(Map<String, String> env) {
    String id = env.get("SLURM_JOB_ID");
    if (id == null || id.isBlank()) {
      return Optional.empty();
    }
    try {
      String restarts = env.getOrDefault("SLURM_RESTART_COUNT", "0");
      return Optional.of(new SlurmJob(Long.parseLong(id.strip()), Integer.parseInt(restarts.strip())));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("SLURM_JOB_ID or SLURM_RESTART_COUNT is not a number: " + id);
    }
  }

  /** The crmpi job name of this Slurm job. */
  public String jobKey() {
    return "slurm-" + id;
  }
}
