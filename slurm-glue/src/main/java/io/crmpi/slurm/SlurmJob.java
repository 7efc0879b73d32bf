package io.crmpi.slurm;

import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The Slurm job crmpi runs in, from the environment slurmstepd gives the
 * batch script. Its job key names the job id, the cluster and the owner
 * ({@code slurm-1234.CLUSTER.USER}): it stays the same when Slurm requeues
 * the job, so a requeued run finds its checkpoints by it, and neither
 * another cluster's job 1234 nor another user's shares it.
 *
 * @param id the job id (SLURM_JOB_ID)
 * @param restartCount how often Slurm has requeued the job (SLURM_RESTART_COUNT)
 * @param cluster the cluster's name (SLURM_CLUSTER_NAME), or null when Slurm does not say
 * @param user the name of the user the job runs as
 */
public record SlurmJob(long id, int restartCount, String cluster, String user) {
  private static final Pattern UNSAFE = Pattern.compile("[^A-Za-z0-9_-]");

  public SlurmJob {
    if (id <= 0) {
      throw new IllegalArgumentException("SLURM_JOB_ID <= 0: " + id);
    }
    if (restartCount < 0) {
      throw new IllegalArgumentException("SLURM_RESTART_COUNT < 0: " + restartCount);
    }
    if (user == null || user.isBlank()) {
      throw new IllegalArgumentException("the job's user is unknown");
    }
    cluster = cluster == null || cluster.isBlank() ? null : cluster.strip();
  }

  /** The job of this process, if it runs inside a Slurm job; user is the name this process runs as. */
  public static Optional<SlurmJob> fromEnvironment(Map<String, String> env, String user) {
    String id = env.get("SLURM_JOB_ID");
    if (id == null || id.isBlank()) {
      return Optional.empty();
    }
    String restarts = env.getOrDefault("SLURM_RESTART_COUNT", "0");
    long jobId;
    int restartCount;
    try {
      jobId = Long.parseLong(id.strip());
      restartCount = Integer.parseInt(restarts.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("SLURM_JOB_ID or SLURM_RESTART_COUNT is not a number: '" + id + "', '"
          + restarts + "'");
    }
    return Optional.of(new SlurmJob(jobId, restartCount, env.get("SLURM_CLUSTER_NAME"), user));
  }

  /** The job of this process (run by the user the JVM runs as), if it runs inside a Slurm job. */
  public static Optional<SlurmJob> ofThisProcess() {
    return fromEnvironment(System.getenv(), System.getProperty("user.name"));
  }

  /** The crmpi job name of this Slurm job: slurm-ID.CLUSTER.USER (slurm-ID.USER without a cluster name). */
  public String jobKey() {
    return "slurm-" + id + (cluster == null ? "" : "." + safe(cluster)) + "." + safe(user);
  }

  /** Whether a crmpi job name is the key of Slurm job id (of any cluster and user), or the bare slurm-ID of old. */
  public static boolean isKeyOf(String jobName, long id) {
    return jobName.equals("slurm-" + id) || jobName.startsWith("slurm-" + id + ".")
        && !jobName.contains(".superseded-");
  }

  private static String safe(String s) {
    return UNSAFE.matcher(s).replaceAll("_");
  }
}
