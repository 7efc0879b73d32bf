package io.crmpi.mpitests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The node agent of a 2-node job's second node (crmpi agent, in its own
 * Slurm step) is killed with SIGKILL at one phase of a checkpoint or of a
 * restore ({@code CRMPI_FAULTS=agent:PHASE@2:kill}, armed only in the
 * remote agents, and only in the job's first run). Its node tree goes with
 * its lease; the coordinator finds the node lost, the epoch under way is
 * never committed, and the job is requeued without that node and restored
 * from its last committed epoch. Every case ends with the job's output
 * byte-identical to an uninterrupted run and nothing of it left running.
 *
 * <p>A case {@code node@PHASE} takes the whole node away at that phase
 * instead: the agent stops itself there ({@code :stop}), and the test kills
 * everything of that Slurm node at once, slurmd included
 * ({@code slurm-cluster.sh kill-node}), then brings its slurmd back for the
 * next case. The outcome must be the same.
 *
 * <p>CI runs the cases in {@code crmpi.agentFaults} (default
 * {@value #IN_CI}); {@code -Dcrmpi.agentFaults=all} runs every phase an
 * agent goes through, both ways (scripts/stress-local.sh can repeat it).
 */
class SlurmAgentFaultTest {
  static final String IN_CI = "restore";
  private static final List<String> ALL = List.of("prepare", "freeze", "dump", "resume", "persist", "restore");
  @RegisterExtension
  static final SlurmUserCluster SLURM = new SlurmUserCluster(Path.of("/tmp/crmpi-slurm-af"), 40817, 4);
  private static final SlurmTestCluster CLUSTER = SLURM.cluster;
  private static final String ITERS = SlurmPreemptionTest.RING_ITERS;

  static Stream<String> phases() {
    String chosen = System.getProperty("crmpi.agentFaults", IN_CI).strip();
    return chosen.equals("all") ? Stream.concat(ALL.stream(), ALL.stream().map(p -> "node@" + p))
        : Stream.of(chosen.split(",")).map(String::strip);
  }

  @ParameterizedTest(name = "agent killed at {0}")
  @MethodSource("phases")
  void anAgentKilledAtAnyPhaseCostsThatEpochOnlyAndTheJobResumes(String which) throws Exception {
    boolean nodeLoss = which.startsWith("node@");
    String phase = nodeLoss ? which.substring("node@".length()) : which;
    assertTrue(ALL.contains(phase), "no such agent phase: " + phase + " (one of " + ALL + ")");
    boolean restore = phase.equals("restore");
    Path base = SLURM.user().jobDir("it-agent-" + which.replace('@', '-'));
    // A restore fault fires at whichever epoch the rank failure below restores; a checkpoint fault at epoch 2.
    String fault = "agent:" + phase + (restore ? "@*" : "@2") + (nodeLoss ? ":stop" : ":kill");
    String job = SLURM.user().submit(base, 2, List.of("export CRMPI_FAULTS=" + fault,
        "if [ \"${SLURM_RESTART_COUNT:-0}\" -gt 0 ]; then unset CRMPI_FAULTS; fi"), "--interval 2s", ITERS);
    if (restore) {
      SlurmTestCluster.awaitHistory(base, job, "\"committed\"", 2);
      List<ProcessHandle> ranks = SlurmUserJobs.ranks();
      assertFalse(ranks.isEmpty(), "no rank of the job found");
      Crmpi.kill9(ranks.get(ranks.size() - 1).pid());
    }
    if (nodeLoss) {
      String node = awaitStoppedAgentsNode(base.resolve("job-" + job + ".out"), phase);
      CLUSTER.killNode(node);
      CLUSTER.awaitCompleted(job, base, 480, true);
      CLUSTER.reviveNode(node);
    } else {
      CLUSTER.awaitCompleted(job, base, 480, true);
    }
    String log = SlurmTestCluster.read(base.resolve("job-" + job + ".out"));
    // What happened, for docs/reliability.md's table.
    log.lines().filter(l -> l.matches(".*(injected fault|lost: |requeue|restoring|restored; ).*"))
        .forEach(l -> System.out.println("agent fault " + which + ": " + l));
    assertTrue(log.contains("injected fault '" + phase + "' at epoch "), "the fault never fired:\n" + log);
    assertTrue(log.matches("(?s).*node node1 \\(n\\d+\\) lost: .*"), "the agent's loss was not noticed:\n" + log);
    assertTrue(log.matches("(?s).*epoch \\d+: restored; the job continues.*"), "not restored:\n" + log);
    String history = Files.readString(base.resolve("state/jobs/" + SlurmTestCluster.jobKey(job)
        + "/history.jsonl"));
    assertTrue(history.matches("(?s).*\"kind\":\"restart\",\"epoch\":[1-9]\\d*,\"trigger\":\"requeue\".*"),
        "the restore after the requeue is not recorded as one:\n" + history);
    if (!restore) {
      assertFalse(history.contains("\"kind\":\"committed\",\"epoch\":2,"),
          "epoch 2 was committed although node1's agent died in its " + phase + ":\n" + history);
    }
    assertArrayEquals(SlurmPreemptionTest.reference(ITERS), Files.readAllBytes(base.resolve("work/ring.out")),
        "ring.out differs from an uninterrupted run");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (!SlurmUserJobs.ranks().isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(200);
    }
    assertEquals(List.of(), SlurmUserJobs.ranks().stream().map(ProcessHandle::pid).toList(),
        "ranks of the job outlived it by 15 s");
  }

  /**
   * Once the job's output says an agent stopped itself at phase: the Slurm
   * node (SLURMD_NODENAME) of the agent process that is stopped.
   */
  private static String awaitStoppedAgentsNode(Path out, String phase) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
    String mark = "injected fault '" + phase + "' at epoch ";
    while (System.nanoTime() < deadline) {
      if (Files.exists(out) && Files.readString(out).lines().anyMatch(l -> l.contains(mark) && l.endsWith("SIGSTOP"))) {
        for (ProcessHandle p : ProcessHandle.allProcesses().toList()) {
          String node = stoppedAgentNode(p.pid());
          if (node != null) {
            return node;
          }
        }
      }
      Thread.sleep(100);
    }
    throw new AssertionError("no agent stopped at " + phase + " within 240 s:\n" + SlurmTestCluster.read(out));
  }

  /** The SLURMD_NODENAME of pid when it is a stopped crmpi agent of the test user, else null. */
  private static String stoppedAgentNode(long pid) {
    try {
      Path proc = Path.of("/proc", Long.toString(pid));
      String stat = Files.readString(proc.resolve("stat"));
      String cmdline = Files.readString(proc.resolve("cmdline")).replace('\0', ' ');
      if (stat.charAt(stat.lastIndexOf(')') + 2) != 'T' || !cmdline.contains(" agent ")
          || !ProcessHandle.of(pid).flatMap(h -> h.info().user()).map(SlurmUserJobs.USER::equals).orElse(false)) {
        return null;
      }
      for (String kv : Files.readString(proc.resolve("environ")).split("\0")) {
        if (kv.startsWith("SLURMD_NODENAME=")) {
          return kv.substring("SLURMD_NODENAME=".length());
        }
      }
    } catch (java.io.IOException | RuntimeException e) {
      return null; // gone, or not ours to read
    }
    return null;
  }
}
