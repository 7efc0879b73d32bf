package io.crmpi.mpitests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A 2-node Open MPI job under crmpi in a real Slurm cluster: mpirun runs in
 * the batch node's tree, its orted in the other node's tree (started there
 * through crmpi-rsh and the remote agent), the trees talk over the job
 * network, and every global checkpoint holds both nodes' images. When a
 * node dies, the job is requeued and both trees are restored from the last
 * committed epoch, the lost node's share on another node. Every job is an
 * ordinary user's (crmpi-test1): slurmd runs as root, the ranks as the
 * user, and a crmpid of the test's own runs the node trees.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SlurmMultiNodeTest {
  @RegisterExtension
  static final SlurmUserCluster SLURM = new SlurmUserCluster(Path.of("/tmp/crmpi-slurm-mn"), 38817, 4);
  private static final SlurmTestCluster CLUSTER = SLURM.cluster;
  private static final Pattern SLOT_HOST = Pattern.compile("node node1 is (n\\d+)");

  @Test
  @Order(1)
  void periodicCheckpointsCoverEveryNodeAndTheOutputIsUnchanged() throws Exception {
    Path base = SLURM.user().jobDir("it-periodic");
    String job = SLURM.user().submit(base, 2, List.of(), "--interval 2s", SlurmPreemptionTest.RING_ITERS);
    SlurmTestCluster.awaitHistory(base, job, "\"committed\"", 1);
    List<ProcessHandle> ranks = SlurmUserJobs.ranks();
    assertEquals(4, ranks.size(), "the job's 4 ranks: " + ranks);
    for (ProcessHandle r : ranks) {
      assertEquals(SlurmUserJobs.USER, r.info().user().orElse("?"), "rank " + r.pid() + " is not the user's");
    }
    // The same user, outside the job, cannot drive its trees through crmpid.
    String outside = SLURM.user().outsider("{\"type\":\"Freeze\",\"body\":{\"tree\":{\"job\":\"" + SlurmTestCluster.jobKey(job)
        + "\",\"node\":\"node1\"}}}");
    assertTrue(outside.contains("is a Slurm job: crmpid serves it only to processes inside that job"), outside);
    CLUSTER.awaitCompleted(job, base, 420, false);
    String log = SlurmTestCluster.read(base.resolve("job-" + job + ".out"));
    assertTrue(log.contains("finished after 0 restart(s)"), log);
    assertTrue(log.contains("started on n") && log.contains("orted"), "orted was not started through crmpi:\n" + log);
    Path epochs = base.resolve("state/jobs/" + SlurmTestCluster.jobKey(job) + "/checkpoints/epochs");
    List<Path> kept;
    try (Stream<Path> s = Files.list(epochs)) {
      kept = s.sorted().toList();
    }
    assertTrue(!kept.isEmpty(), "no committed epoch kept");
    for (Path epoch : kept) {
      String manifest = Files.readString(epoch.resolve("manifest.json"));
      assertTrue(manifest.contains("\"node0\"") && manifest.contains("\"node1\"")
          && manifest.contains("crmpidSeal"), "epoch " + epoch.getFileName() + " lacks a node's sealed image: "
          + manifest);
    }
    assertArrayEquals(SlurmPreemptionTest.reference(SlurmPreemptionTest.RING_ITERS), Files.readAllBytes(base.resolve("work/ring.out")),
        "ring.out differs from an uninterrupted run");
    // crmpi status takes the bare Slurm job id
    String status = SLURM.user().crmpi("status", "--state-dir", base.resolve("state").toString(), job);
    assertTrue(status.contains("job:       " + SlurmTestCluster.jobKey(job)) && status.contains("SUCCEEDED")
        && !status.contains("skipping"), status);
  }

  /**
   * The job network is cut between the two node trees: every IPv4 frame the
   * trees' bridge ports send is dropped, while the coordinator and the agents
   * (on the control network) go on. A checkpoint is committed during the cut
   * (a checkpoint does not use the job network). Then a rank is killed:
   * mpirun's abort of the job waits on the cut network, so the job neither
   * runs nor ends, and no checkpoint of it may be committed (that would
   * replace its good epochs with a dying job). Once the network is back,
   * the abort ends the run and the job is restored from the epoch committed
   * before the kill; the output is byte-identical.
   */
  @Test
  @Order(2)
  void aJobNetworkCutNeverCommitsTheFailingJobAndTheJobResumes() throws Exception {
    Path base = SLURM.user().jobDir("it-network-cut");
    String job = SLURM.user().submit(base, 2, List.of(), "--interval 2s", SlurmPreemptionTest.RING_ITERS);
    SlurmTestCluster.awaitHistory(base, job, "\"committed\"", 2);
    Path history = base.resolve("state/jobs/" + SlurmTestCluster.jobKey(job) + "/history.jsonl");
    List<String> ports = bridgePorts(CLUSTER.exported("CRMPI_JOB_BRIDGE"));
    assertEquals(2, ports.size(), "the job's two node trees on the bridge: " + ports);
    long newestBeforeKill;
    try {
      sh("nft -f - <<'EOF'\ntable bridge crmpi_test_cut {\n chain forward {\n  type filter hook forward priority -300;"
          + " policy accept;\n  iifname { \"" + String.join("\", \"", ports) + "\" } meta protocol ip drop\n }\n}\nEOF");
      int before = SlurmTestCluster.occurrences(Files.readString(history), "\"committed\"");
      SlurmTestCluster.awaitHistory(base, job, "\"committed\"", before + 1);
      List<ProcessHandle> ranks = SlurmUserJobs.ranks();
      assertEquals(4, ranks.size(), "the job's 4 ranks: " + ranks);
      newestBeforeKill = SlurmTestCluster.newestCommitted(history);
      ranks.get(0).destroyForcibly();
      Thread.sleep(8000); // four checkpoint intervals of a job whose abort hangs on the cut network
      assertEquals(newestBeforeKill, SlurmTestCluster.newestCommitted(history), "a checkpoint of the failing job was committed:\n"
          + SlurmTestCluster.read(base.resolve("job-" + job + ".out")));
    } finally {
      sh("nft delete table bridge crmpi_test_cut 2>/dev/null || true");
    }
    CLUSTER.awaitCompleted(job, base, 420, false);
    String log = SlurmTestCluster.read(base.resolve("job-" + job + ".out"));
    assertTrue(log.contains("epoch " + newestBeforeKill + ": restored; the job continues"),
        "not restored from epoch " + newestBeforeKill + ", the newest before the rank died:\n" + log);
    assertArrayEquals(SlurmPreemptionTest.reference(SlurmPreemptionTest.RING_ITERS), Files.readAllBytes(base.resolve("work/ring.out")),
        "ring.out differs from an uninterrupted run");
  }


  /** The interfaces attached to bridge (the node trees' host-side veths). */
  private static List<String> bridgePorts(String bridge) throws Exception {
    Process p = new ProcessBuilder("ip", "-o", "link", "show", "master", bridge).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertEquals(0, p.waitFor(), "ip link show master " + bridge);
    List<String> ports = new ArrayList<>();
    Matcher m = Pattern.compile("^\\d+: ([^:@]+)[@:]", Pattern.MULTILINE).matcher(out);
    while (m.find()) {
      ports.add(m.group(1));
    }
    return ports;
  }

  private static void sh(String script) throws Exception {
    Process p = new ProcessBuilder("bash", "-c", script).inheritIO().start();
    assertEquals(0, p.waitFor(), script);
  }

  /**
   * The control processes of node1's host die (slurmd, the agent's step,
   * the agent, crmpi-ns), its ranks do not: the tree must end by itself
   * (fencing), and the job resumes on healthy nodes. The host stays down.
   */
  @Test
  @Order(3)
  void aNodeWhoseControlProcessesDieLeavesNothingRunningAndTheJobResumes() throws Exception {
    Path base = SLURM.user().jobDir("it-control-kill");
    String job = SLURM.user().submit(base, 2, List.of(), "--interval 2s", SlurmPreemptionTest.RING_ITERS);
    SlurmTestCluster.awaitHistory(base, job, "\"committed\"", 2);
    Path out = base.resolve("job-" + job + ".out");
    List<String> hosts = slotHosts(SlurmTestCluster.read(out));
    List<ProcessHandle> before = jobProcesses(base.resolve("work"));
    assertTrue(before.size() >= 4, "the job's processes were not found: " + before);
    CLUSTER.killControl(hosts.get(0));
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(15);
    while (before.stream().anyMatch(ProcessHandle::isAlive) && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    assertEquals(List.of(), before.stream().filter(ProcessHandle::isAlive).map(ProcessHandle::pid).toList(),
        "processes of the job's first run outlived its control processes by 15 s");
    CLUSTER.awaitCompleted(job, base, 420, true);
    String log = SlurmTestCluster.read(out);
    assertTrue(log.matches("(?s).*epoch \\d+: restored; the job continues.*"), "not restored:\n" + log);
    assertArrayEquals(SlurmPreemptionTest.reference(SlurmPreemptionTest.RING_ITERS), Files.readAllBytes(base.resolve("work/ring.out")),
        "ring.out differs from an uninterrupted run");
  }

  /** The processes whose working directory is dir: the job's node trees on every node. */
  private static List<ProcessHandle> jobProcesses(Path dir) {
    return ProcessHandle.allProcesses().filter(p -> {
      try {
        return Files.readSymbolicLink(Path.of("/proc", Long.toString(p.pid()), "cwd")).equals(dir);
      } catch (java.io.IOException | UnsupportedOperationException e) {
        return false;
      }
    }).toList();
  }

  /**
   * The killed node is revived once the job completed. The job has
   * a node-local level (--local-dir, the same tmpfs path on every node), and
   * the node's local storage is lost with it (all test nodes share this
   * machine's /dev/shm, so the test deletes the node's part there): the lost
   * slot is restored from the state directory's copy on another node, the
   * surviving one from its node-local copy.
   */
  @Test
  @Order(4)
  void aJobWhoseNodeDiesIsRequeuedAndRestoredOnTheRemainingNodes() throws Exception {
    Path local = Crmpi.sharedTmpfsDir("crmpi-mn-");
    try {
      Path base = SLURM.user().jobDir("it-node-failure");
      String job = SLURM.user().submit(base, 2, List.of(), "--interval 2s --local-dir " + local, SlurmPreemptionTest.RING_ITERS);
      SlurmTestCluster.awaitHistory(base, job, "\"flushed\"", 2);
      Path out = base.resolve("job-" + job + ".out");
      List<String> hosts = slotHosts(SlurmTestCluster.read(out));
      CLUSTER.killNode(hosts.get(0));
      deleteLost(local, p -> p.getFileName().toString().equals("node1") && p.getParent() != null
          && p.getParent().getFileName().toString().equals("nodes"));
      CLUSTER.awaitCompleted(job, base, 420, true);
      CLUSTER.reviveNode(hosts.get(0)); // for the tests after this one
      String log = SlurmTestCluster.read(out);
      assertTrue(log.contains("(" + hosts.get(0) + ") lost"), "the node loss was not noticed:\n" + log);
      assertTrue(log.matches("(?s).*epoch \\d+: restored; the job continues.*"), "not restored:\n" + log);
      List<String> after = slotHosts(log);
      assertTrue(after.size() >= 2, "node1 was not placed again:\n" + log);
      assertNotEquals(hosts.get(0), after.get(after.size() - 1), "node1 was restored on the dead node");
      String epochs = base.resolve("state/jobs/" + SlurmTestCluster.jobKey(job) + "/checkpoints/epochs").toString();
      assertTrue(log.matches("(?s).*node node1: restoring from " + Pattern.quote(epochs) + ".*"),
          "node1 was not restored from the state directory:\n" + log);
      assertTrue(log.contains("node node1: putting its images back together from the chunks in " + epochs),
          "node1's images were not put together from the state directory's chunks:\n" + log);
      assertTrue(log.matches("(?s).*node node0: restoring from " + Pattern.quote(local.toString()) + ".*"),
          "node0 was not restored from its node-local copy:\n" + log);
      assertArrayEquals(SlurmPreemptionTest.reference(SlurmPreemptionTest.RING_ITERS), Files.readAllBytes(base.resolve("work/ring.out")),
          "ring.out differs from an uninterrupted run");
    } finally {
      deleteShared(local);
    }
  }

  /**
   * Partner copies: every checkpoint's node-local parts are also copied to
   * the partner node, and none is ever flushed to the state directory
   * (--flush-every is beyond the job's length), so only the partner copy
   * can bring back a lost node's part. Node1's host is killed and its
   * node-local storage deleted (its own part, and node0's partner copy it
   * held); the requeued job restores node1 on another host from the copy
   * fetched from node0's partner port, byte-identically.
   */
  @Test
  @Order(5)
  void aLostNodesPartIsFetchedFromItsPartnerWithoutTheStateDirectory() throws Exception {
    Path local = Crmpi.sharedTmpfsDir("crmpi-partner-");
    try {
      Path base = SLURM.user().jobDir("it-partner");
      String job = SLURM.user().submit(base, 2, List.of(), "--interval 2s --local-dir " + local
          + " --partner-copy --flush-every 1000000", SlurmPreemptionTest.RING_ITERS);
      Path epochs = base.resolve("state/jobs/" + SlurmTestCluster.jobKey(job) + "/checkpoints/epochs");
      long partnered = awaitPartnerEpoch(epochs, 0);
      awaitPartnerEpoch(epochs, partnered); // two epochs with partner copies: the newest may be in the making
      Path out = base.resolve("job-" + job + ".out");
      List<String> hosts = slotHosts(SlurmTestCluster.read(out));
      long start = System.nanoTime();
      String dead = hosts.get(hosts.size() - 1);
      CLUSTER.killNode(dead);
      deleteLost(local, p -> p.getParent() != null && (
          p.getFileName().toString().equals("node1") && p.getParent().getFileName().toString().equals("nodes")
          || p.getFileName().toString().equals("node0") && p.getParent().getFileName().toString()
              .equals("partners")));
      CLUSTER.awaitCompleted(job, base, 420, true); // the last test: its dead node stays down
      String log = SlurmTestCluster.read(out);
      assertTrue(log.contains("partner copies made"), "no partner copies were made:\n" + log);
      assertTrue(log.matches("(?s).*node node1: fetched its part of epoch \\d+ from the partner copy at .*"),
          "node1's part was not fetched from its partner:\n" + log);
      assertTrue(log.matches("(?s).*node node1: restoring from " + Pattern.quote(local.toString()) + ".*"),
          "node1 was not restored from the fetched node-local copy:\n" + log);
      assertTrue(!log.matches("(?s).*restoring from " + Pattern.quote(epochs.toString()) + ".*"),
          "a node was restored from the state directory:\n" + log);
      assertArrayEquals(SlurmPreemptionTest.reference(SlurmPreemptionTest.RING_ITERS), Files.readAllBytes(base.resolve("work/ring.out")),
          "ring.out differs from an uninterrupted run");
      System.out.printf("it-partner: node loss to finished job in %.1f s%n", (System.nanoTime() - start) / 1e9);
      log.lines().filter(l -> l.contains("partner copies made") || l.contains("from the partner copy"))
          .limit(6).forEach(l -> System.out.println("it-partner: " + l));
    } finally {
      deleteShared(local);
    }
  }

  /**
   * Deletes what a lost node held in the tmpfs all test nodes share. The
   * surviving node writes and prunes its epochs there meanwhile, so a walk
   * that meets a directory vanishing under it is tried again.
   */
  private static void deleteLost(Path local, java.util.function.Predicate<Path> lost) throws Exception {
    for (int attempt = 1; ; attempt++) {
      try (Stream<Path> s = Files.walk(local)) {
        for (Path p : s.filter(lost).toList()) {
          Crmpi.deleteTree(p);
        }
        return;
      } catch (java.io.IOException | java.io.UncheckedIOException e) {
        if (attempt == 20) {
          throw e;
        }
        Thread.sleep(50);
      }
    }
  }

  /**
   * Removes the test's node-local directory; a job still running (after a
   * failure) may write into it meanwhile, so it is tried a few times, and a
   * last failure is reported without hiding the test's own.
   */
  private static void deleteShared(Path local) throws InterruptedException {
    for (int attempt = 1; attempt <= 10; attempt++) {
      try {
        Crmpi.deleteTree(local);
        return;
      } catch (java.io.IOException | java.io.UncheckedIOException e) {
        if (attempt == 10) {
          System.out.println("could not remove " + local + ": " + e);
        }
        Thread.sleep(1000);
      }
    }
  }

  /** Waits for a committed epoch newer than after whose manifest holds the partner level; returns it. */
  private static long awaitPartnerEpoch(Path epochs, long after) throws Exception {
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(240);
    while (System.nanoTime() < deadline) {
      if (Files.isDirectory(epochs)) {
        try (Stream<Path> s = Files.list(epochs)) {
          for (Path e : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
            Path m = e.resolve("manifest.json");
            long epoch = Long.parseLong(e.getFileName().toString());
            if (epoch > after && Files.isRegularFile(m) && Files.readString(m).contains("\"partner\"")) {
              return epoch;
            }
          }
        } catch (java.io.IOException | NumberFormatException e) {
          // an epoch came or went meanwhile: look again
        }
      }
      Thread.sleep(200);
    }
    throw new AssertionError("no epoch after " + after + " was copied to the partners within 240 s");
  }

  /** The hosts slot node1 was placed on, in order, from the job's log. */
  private static List<String> slotHosts(String log) {
    List<String> hosts = new ArrayList<>();
    Matcher m = SLOT_HOST.matcher(log);
    while (m.find()) {
      hosts.add(m.group(1));
    }
    assertTrue(!hosts.isEmpty(), "no node slot placement in the log:\n" + log);
    return hosts;
  }
}
