package io.crmpi.mpitests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real Slurm test cluster (slurmctld, slurmd per node, munge, the job
 * network bridge) brought up by slurm-glue/scripts/slurm-cluster.sh in its
 * own directory and ports, and the client calls and batch scripts the
 * Slurm tests share.
 */
final class SlurmTestCluster {
  private static final Path SCRIPT = Crmpi.REPO.resolve("slurm-glue/scripts/slurm-cluster.sh");
  private final Path dir;
  private final Map<String, String> env = new HashMap<>();

  SlurmTestCluster(Path dir, int ctldPort) {
    this.dir = dir;
    env.put("CRMPI_SLURM_DIR", dir.toString());
    env.put("CRMPI_SLURM_CTLD_PORT", Integer.toString(ctldPort));
    env.put("CRMPI_SLURMD_PORT_BASE", Integer.toString(ctldPort + 1));
  }

  Path dir() {
    return dir;
  }

  /** A variable the cluster's set-up exported (e.g. CRMPI_JOB_BRIDGE), or null. */
  String exported(String name) {
    return env.get(name);
  }

  void up(int nodes) throws Exception {
    Process p = script("up", Integer.toString(nodes));
    String out = new String(p.getInputStream().readAllBytes());
    assertTrue(p.waitFor(180, TimeUnit.SECONDS) && p.exitValue() == 0,
        "the Slurm test cluster did not come up: " + new String(p.getErrorStream().readAllBytes()));
    Matcher m = Pattern.compile("export (\\w+)=(\\S+)").matcher(out);
    while (m.find()) {
      env.put(m.group(1), m.group(2).replace("'", "").replace("\"", ""));
    }
    assertTrue(env.containsKey("SLURM_CONF"), "no SLURM_CONF in: " + out);
  }

  void down() throws Exception {
    Process p = script("down");
    p.getInputStream().readAllBytes();
    p.waitFor(60, TimeUnit.SECONDS);
  }

  /** Simulates a node failure: slurmd and everything on the node killed at once. */
  void killNode(String node) throws Exception {
    Process p = script("kill-node", node);
    p.getInputStream().readAllBytes();
    String said = new String(p.getErrorStream().readAllBytes());
    System.out.print(said);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "kill-node " + node + ": " + said);
  }

  /** A killed node's slurmd starts again; returns once Slurm has the node idle. */
  void reviveNode(String node) throws Exception {
    Process p = script("revive-node", node);
    p.getInputStream().readAllBytes();
    assertTrue(p.waitFor(90, TimeUnit.SECONDS) && p.exitValue() == 0,
        "revive-node " + node + ": " + new String(p.getErrorStream().readAllBytes()));
  }

  /** The control processes of a node die (slurmd, step daemons, crmpi's agent and crmpi-ns); its node trees do not. */
  void killControl(String node) throws Exception {
    Process p = script("kill-control", node);
    p.getInputStream().readAllBytes();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0,
        "kill-control " + node + ": " + new String(p.getErrorStream().readAllBytes()));
  }

  private Process script(String... args) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(SCRIPT.toString());
    pb.command().addAll(List.of(args));
    pb.environment().putAll(env);
    return pb.start();
  }

  /** Runs a Slurm client command as an ordinary user (runuser); fails the test when it fails. */
  String slurmAs(String user, String... cmd) throws Exception {
    List<String> full = new ArrayList<>(List.of("runuser", "-u", user, "--"));
    full.addAll(List.of(cmd));
    return slurm(full.toArray(String[]::new));
  }

  /** Runs a Slurm client command; fails the test when it fails. */
  String slurm(String... cmd) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes());
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), String.join(" ", cmd) + " hung");
    assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + out);
    return out.strip();
  }

  /**
   * Writes a batch script for the low partition that runs `crmpi run ARGS --
   * mpirun -np RANKS ring ITERATIONS` on NODES nodes (2 ranks per node) in
   * base/work and returns its path.
   */
  static Path batchScript(Path base, int nodes, List<String> directives, String crmpiArgs, String iterations)
      throws Exception {
    Path work = Files.createDirectories(base.resolve("work"));
    List<String> lines = new ArrayList<>(List.of("#!/bin/bash", "#SBATCH -p low", "#SBATCH -N" + nodes,
        "#SBATCH --ntasks-per-node=2", "#SBATCH --requeue", "#SBATCH --open-mode=append",
        "#SBATCH -o " + base.resolve("job-%j.out")));
    lines.addAll(directives);
    // The test nodes declare 2 CPUs each, 4 or 6 in all, on a machine of 2 cores: without this Open MPI
    // believes each rank has a core, and ranks waiting for a message spin through whole time slices
    // (a ring iteration across two nodes takes 16 ms instead of 3).
    lines.add("export OMPI_MCA_mpi_yield_when_idle=1");
    lines.add("cd " + work);
    lines.add("exec " + Crmpi.HOME.resolve("bin/crmpi") + " run --state-dir " + base.resolve("state") + " "
        + crmpiArgs + " -- mpirun -np " + (2 * nodes) + " " + Crmpi.MPI_BIN.resolve("ring") + " " + iterations);
    Path script = base.resolve("job.sh");
    Files.writeString(script, String.join("\n", lines) + "\n");
    return script;
  }

  /** Waits until the job is COMPLETED and returns `scontrol show job`, or fails with its log. */
  String awaitCompleted(String job, Path base, int seconds, boolean requeued) throws Exception {
    String state = "";
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    java.util.regex.Pattern failed = java.util.regex.Pattern.compile(
        "JobState=(FAILED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE)\\b");
    while (!state.contains("JobState=COMPLETED") && System.nanoTime() < deadline) {
      Thread.sleep(500);
      state = slurm("scontrol", "show", "job", job);
      // A job that ended otherwise never completes (and is purged after MinJobAge): fail now, with its log.
      if (failed.matcher(state).find()) {
        break;
      }
    }
    assertTrue(state.contains("JobState=COMPLETED"), "job " + job + " did not complete: " + state + "\n"
        + read(base.resolve("job-" + job + ".out")));
    if (requeued) {
      assertTrue(state.matches("(?s).*Restarts=[1-9].*"), "job " + job + " was never requeued: " + state);
    }
    return state;
  }

  /** Waits until the job's history contains text count times. */
  static void awaitHistory(Path base, String job, String text, int count) throws Exception {
    Path history = base.resolve("state/jobs/" + jobKey(job) + "/history.jsonl");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (!(Files.exists(history) && occurrences(Files.readString(history), text) >= count)) {
      if (System.nanoTime() > deadline) {
        fail("no " + count + " x " + text + " in the job's history: " + read(base.resolve("job-" + job + ".out")));
      }
      Thread.sleep(200);
    }
  }

  /** The newest committed epoch in a job's history (0: none). */
  static long newestCommitted(Path history) throws Exception {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"kind\":\"committed\",\"epoch\":(\\d+)")
        .matcher(Files.readString(history));
    long newest = 0;
    while (m.find()) {
      newest = Math.max(newest, Long.parseLong(m.group(1)));
    }
    return newest;
  }

  static int occurrences(String s, String text) {
    int n = 0;
    for (int i = s.indexOf(text); i >= 0; i = s.indexOf(text, i + 1)) {
      n++;
    }
    return n;
  }

  static String read(Path p) throws Exception {
    return Files.exists(p) ? Files.readString(p) : "";
  }

  /** crmpi's key of the test user's Slurm job (the cluster is named "crmpi" in slurm-cluster.sh). */
  static String jobKey(String job) {
    return "slurm-" + job + ".crmpi." + SlurmUserJobs.USER;
  }
}
