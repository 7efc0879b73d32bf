package io.crmpi.mpitests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * crmpi in a batch job of a real Slurm cluster (slurmctld, three slurmd and
 * munge on loopback, started by slurm-glue/scripts/slurm-cluster.sh):
 * preemption by a higher-priority job sends SIGUSR1, crmpi checkpoints,
 * vacates and requeues the job; when the job runs again it resumes from
 * that checkpoint under the same job id, and its output is byte-identical
 * to an uninterrupted run.
 */
class SlurmPreemptionTest {
  private static final Path CLUSTER = Path.of("/tmp/crmpi-slurm-it");
  private static final Path SCRIPT = Crmpi.REPO.resolve("slurm-glue/scripts/slurm-cluster.sh");
  private static final Map<String, String> ENV = new HashMap<>(Map.of(
      "CRMPI_SLURM_DIR", CLUSTER.toString(),
      "CRMPI_SLURM_CTLD_PORT", "36817",
      "CRMPI_SLURMD_PORT_BASE", "36818"));

  @BeforeAll
  static void up() throws Exception {
    Process p = cluster("up", "3");
    String out = new String(p.getInputStream().readAllBytes());
    assertTrue(p.waitFor(180, TimeUnit.SECONDS) && p.exitValue() == 0,
        "the Slurm test cluster did not come up: " + new String(p.getErrorStream().readAllBytes()));
    Matcher m = Pattern.compile("export SLURM_CONF=(\\S+)").matcher(out);
    assertTrue(m.find(), "no SLURM_CONF in: " + out);
    ENV.put("SLURM_CONF", m.group(1).replace("'", "").replace("\"", ""));
  }

  @AfterAll
  static void down() throws Exception {
    Process p = cluster("down");
    p.getInputStream().readAllBytes();
    p.waitFor(60, TimeUnit.SECONDS);
  }

  private static Process cluster(String... args) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(SCRIPT.toString());
    pb.command().addAll(List.of(args));
    pb.environment().putAll(ENV);
    return pb.start();
  }

  private static String slurm(String... cmd) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().putAll(ENV);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes());
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), String.join(" ", cmd) + " hung");
    assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + out);
    return out.strip();
  }

  @Test
  void aPreemptedJobIsCheckpointedRequeuedAndResumed() throws Exception {
    Path base = Files.createDirectories(CLUSTER.resolve("it-preempt"));
    Path script = batchScript(base, List.of("#SBATCH --signal=B:USR1@5"), "--interval 2s", "4000");
    String job = slurm("sbatch", "--parsable", script.toString());
    awaitHistory(base, job, "\"committed\"");
    String high = slurm("sbatch", "--parsable", "-p", "high", "-N3", "--exclusive", "-o",
        base.resolve("high.out").toString(), "--wrap", "echo high ran");
    awaitCompleted(job, base, 150);
    String log = read(base.resolve("job-" + job + ".out"));
    assertTrue(log.contains("the job is vacated"), "no vacate checkpoint:\n" + log);
    assertTrue(log.contains("requeued by Slurm"), "the requeued job did not resume:\n" + log);
    assertTrue(log.matches("(?s).*epoch \\d+: restored; the job continues.*"), log);
    assertTrue(slurm("scontrol", "show", "job", high).contains("JobState=COMPLETED"), "the preempting job did not run");
    assertEquals("high ran", read(base.resolve("high.out")).strip());
    assertArrayEquals(Crmpi.reference(Crmpi.mpirun(2, "ring", "4000"), "ring.out"),
        Files.readAllBytes(base.resolve("work/ring.out")), "ring.out differs from an uninterrupted run");
  }

  @Test
  void aJobSignalledBeforeItsWalltimeIsCheckpointedRequeuedAndResumed() throws Exception {
    Path base = Files.createDirectories(CLUSTER.resolve("it-walltime"));
    // A 1-minute limit with SIGUSR1 50 s before it: every run of the job is vacated after about 10 s
    // or later (slurmctld checks limits on a 30 s timer) and requeued, until the program has finished.
    Path script = batchScript(base, List.of("#SBATCH --time=1", "#SBATCH --signal=B:USR1@50"), "--interval none",
        "30000");
    String job = slurm("sbatch", "--parsable", script.toString());
    awaitCompleted(job, base, 480);
    String log = read(base.resolve("job-" + job + ".out"));
    assertTrue(log.contains("the job is vacated") && log.contains("requeued by Slurm"), log);
    assertArrayEquals(Crmpi.reference(Crmpi.mpirun(2, "ring", "30000"), "ring.out"),
        Files.readAllBytes(base.resolve("work/ring.out")), "ring.out differs from an uninterrupted run");
  }

  @Test
  void aVacateThatCannotCheckpointLeavesTheRequeuedJobThePreviousEpoch() throws Exception {
    Path base = Files.createDirectories(CLUSTER.resolve("it-failed-vacate"));
    // Epochs 1 and 2 commit; every dump after them fails on purpose, so the vacate at preemption aborts,
    // Slurm ends the job at the end of its grace time and requeues it, and it resumes from epoch 2.
    Path script = batchScript(base, List.of("#SBATCH --signal=B:USR1@5", "export CRMPI_FAULTS=dump@3-"),
        "--interval 1s --keep 5", "12000");
    String job = slurm("sbatch", "--parsable", script.toString());
    awaitHistory(base, job, "DUMP_FAILED");
    slurm("sbatch", "--parsable", "-p", "high", "-N3", "--exclusive", "--wrap", "true");
    awaitCompleted(job, base, 300);
    String log = read(base.resolve("job-" + job + ".out"));
    assertTrue(log.contains("epoch 2: restored; the job continues"), "not resumed from epoch 2:\n" + log);
    assertTrue(!log.contains("the job is vacated"), "a vacate succeeded although every dump fails:\n" + log);
    assertArrayEquals(Crmpi.reference(Crmpi.mpirun(2, "ring", "12000"), "ring.out"),
        Files.readAllBytes(base.resolve("work/ring.out")), "ring.out differs from an uninterrupted run");
  }

  /**
   * Writes a batch script for one node of the low partition that runs
   * `crmpi run ARGS -- mpirun -np 2 ring ITERATIONS` in base/work and returns its path.
   */
  private static Path batchScript(Path base, List<String> directives, String crmpiArgs, String iterations)
      throws Exception {
    Path work = Files.createDirectories(base.resolve("work"));
    List<String> lines = new java.util.ArrayList<>(List.of("#!/bin/bash", "#SBATCH -p low", "#SBATCH -N1",
        "#SBATCH --requeue", "#SBATCH --open-mode=append", "#SBATCH -o " + base.resolve("job-%j.out")));
    lines.addAll(directives);
    lines.add("cd " + work);
    lines.add("exec " + Crmpi.REPO.resolve("bin/crmpi") + " run --state-dir " + base.resolve("state") + " "
        + crmpiArgs + " -- mpirun -np 2 --oversubscribe " + Crmpi.MPI_BIN.resolve("ring") + " " + iterations);
    Path script = base.resolve("job.sh");
    Files.writeString(script, String.join("\n", lines) + "\n");
    return script;
  }

  /** Waits until the job is COMPLETED and returns `scontrol show job`, or fails with its log. */
  private static String awaitCompleted(String job, Path base, int seconds) throws Exception {
    String state = "";
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!state.contains("JobState=COMPLETED") && System.nanoTime() < deadline) {
      Thread.sleep(500);
      state = slurm("scontrol", "show", "job", job);
    }
    assertTrue(state.contains("JobState=COMPLETED"), "job " + job + " did not complete: " + state + "\n"
        + read(base.resolve("job-" + job + ".out")));
    assertTrue(state.matches("(?s).*Restarts=[1-9].*"), "job " + job + " was never requeued: " + state);
    return state;
  }

  /** Waits until the job's history contains text. */
  private static void awaitHistory(Path base, String job, String text) throws Exception {
    Path history = base.resolve("state/jobs/slurm-" + job + "/history.jsonl");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (!(Files.exists(history) && Files.readString(history).contains(text))) {
      if (System.nanoTime() > deadline) {
        fail("no " + text + " in the job's history: " + read(base.resolve("job-" + job + ".out")));
      }
      Thread.sleep(200);
    }
  }

  private static String read(Path p) throws Exception {
    return Files.exists(p) ? Files.readString(p) : "";
  }
}
