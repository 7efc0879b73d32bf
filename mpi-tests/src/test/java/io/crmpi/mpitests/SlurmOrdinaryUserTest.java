package io.crmpi.mpitests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * 2-node Slurm jobs submitted by an ordinary user (crmpi-test1), with
 * slurmd as root and one crmpid (the test cluster's nodes share this
 * machine): the batch script, the coordinator, the agents and every rank
 * run as the user, crmpid runs their node trees; periodic checkpoints,
 * preemption (vacate, requeue, resume) and a node failure (requeue,
 * restore on the remaining nodes) end with output byte-identical to an
 * uninterrupted run.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SlurmOrdinaryUserTest {
  private static final String USER = "crmpi-test1";
  private static final SlurmTestCluster CLUSTER = new SlurmTestCluster(Path.of("/tmp/crmpi-slurm-user"), 42817);
  private static final Pattern SLOT_HOST = Pattern.compile("node node1 is (n\\d+)");
  private static Path daemonDir;
  private static Path socket;
  private static TestCrmpid crmpid;

  @BeforeAll
  static void up() throws Exception {
    sh("id " + USER + " >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin " + USER);
    CLUSTER.up(3);
    Files.setPosixFilePermissions(CLUSTER.dir(), PosixFilePermissions.fromString("rwxr-xr-x"));
    daemonDir = Files.createTempDirectory(Path.of("/tmp"), "crmpid-slurm-");
    Files.setPosixFilePermissions(daemonDir, PosixFilePermissions.fromString("rwxr-xr-x"));
    crmpid = TestCrmpid.start(daemonDir.resolve("crmpid"), "job_bridge = " + CLUSTER.exported("CRMPI_JOB_BRIDGE") + "\n");
    socket = crmpid.socket;
  }

  @AfterAll
  static void down() throws Exception {
    CLUSTER.down();
    if (crmpid != null) {
      crmpid.close();
    }
    if (daemonDir != null) {
      Crmpi.deleteTree(daemonDir);
    }
  }

  @Test
  @Order(1)
  void periodicCheckpointsOfAUsersJobRunAsTheUser() throws Exception {
    Path base = jobDir("it-user-periodic");
    String job = submit(base, List.of(), "--interval 2s", "3000");
    SlurmTestCluster.awaitHistory(base, job, "\"committed\"", 1);
    List<ProcessHandle> ranks = ranks();
    assertEquals(4, ranks.size(), "the job's 4 ranks: " + ranks);
    for (ProcessHandle r : ranks) {
      assertEquals(USER, r.info().user().orElse("?"), "rank " + r.pid() + " does not run as " + USER);
    }
    // The same user, outside the job, cannot drive its trees through crmpid.
    String outside = outsider("{\"type\":\"Freeze\",\"body\":{\"tree\":{\"job\":\"slurm-" + job
        + "\",\"node\":\"node1\"}}}");
    assertTrue(outside.contains("is a Slurm job: crmpid serves it only to processes inside that job"), outside);
    CLUSTER.awaitCompleted(job, base, 420, false);
    String log = SlurmTestCluster.read(base.resolve("job-" + job + ".out"));
    assertTrue(log.contains("finished after 0 restart(s)"), log);
    String manifest = Files.readString(newestEpoch(base, job).resolve("manifest.json"));
    assertTrue(manifest.contains("\"node0\"") && manifest.contains("\"node1\"") && manifest.contains("crmpidSeal"),
        "an epoch lacks a node's sealed image: " + manifest);
    assertArrayEquals(reference("3000"), Files.readAllBytes(base.resolve("work/ring.out")),
        "ring.out differs from an uninterrupted run");
  }

  @Test
  @Order(2)
  void aUsersPreemptedJobIsCheckpointedRequeuedAndResumed() throws Exception {
    Path base = jobDir("it-user-preempt");
    String job = submit(base, List.of("#SBATCH --signal=B:USR1@5"), "--interval 2s", "4000");
    SlurmTestCluster.awaitHistory(base, job, "\"committed\"", 1);
    CLUSTER.slurm("sbatch", "--parsable", "-p", "high", "-N3", "--exclusive", "-o",
        base.resolve("high.out").toString(), "--wrap", "echo high ran");
    CLUSTER.awaitCompleted(job, base, 420, true);
    String log = SlurmTestCluster.read(base.resolve("job-" + job + ".out"));
    assertTrue(log.contains("vacated after its checkpoint"), "no vacate checkpoint:\n" + log);
    assertTrue(log.matches("(?s).*epoch \\d+: restored; the job continues.*"), log);
    assertArrayEquals(reference("4000"), Files.readAllBytes(base.resolve("work/ring.out")),
        "ring.out differs from an uninterrupted run");
  }

  /** Last: the killed node stays down. */
  @Test
  @Order(3)
  void aUsersJobWhoseNodeDiesIsRequeuedAndRestoredOnTheRemainingNodes() throws Exception {
    Path base = jobDir("it-user-node-failure");
    String job = submit(base, List.of(), "--interval 2s", "4000");
    SlurmTestCluster.awaitHistory(base, job, "\"committed\"", 2);
    Path out = base.resolve("job-" + job + ".out");
    Matcher m = SLOT_HOST.matcher(SlurmTestCluster.read(out));
    assertTrue(m.find(), "no node slot placement in the log");
    String lost = m.group(1);
    CLUSTER.killNode(lost);
    CLUSTER.awaitCompleted(job, base, 420, true);
    String log = SlurmTestCluster.read(out);
    assertTrue(log.contains("(" + lost + ") lost"), "the node loss was not noticed:\n" + log);
    assertTrue(log.matches("(?s).*epoch \\d+: restored; the job continues.*"), "not restored:\n" + log);
    assertArrayEquals(reference("4000"), Files.readAllBytes(base.resolve("work/ring.out")),
        "ring.out differs from an uninterrupted run");
  }

  /** A job directory of the user's under the cluster directory. */
  private static Path jobDir(String name) throws Exception {
    Path base = Files.createDirectories(CLUSTER.dir().resolve(name));
    Files.createDirectories(base.resolve("state"));
    return base;
  }

  /** Writes the batch script (talking to the test's crmpid) and submits it as the user. */
  private static String submit(Path base, List<String> directives, String crmpiArgs, String iterations)
      throws Exception {
    List<String> lines = new java.util.ArrayList<>(directives);
    lines.add("export CRMPI_DAEMON_SOCKET=" + socket);
    Path script = SlurmTestCluster.batchScript(base, 2, lines, crmpiArgs, iterations);
    sh("chown -R " + USER + ": " + base);
    return CLUSTER.slurmAs(USER, "sbatch", "--parsable", script.toString());
  }

  /** Sends one request line to crmpid as the user, from outside every Slurm job, and returns the answer. */
  private static String outsider(String line) throws Exception {
    return SocketProbe.asUser(USER, daemonDir, socket, line);
  }

  private static Path newestEpoch(Path base, String job) throws Exception {
    try (var s = Files.list(base.resolve("state/jobs/slurm-" + job + "/checkpoints/epochs"))) {
      return s.sorted().reduce((a, b) -> b).orElseThrow();
    }
  }

  private static List<ProcessHandle> ranks() {
    String exe = Crmpi.MPI_BIN.resolve("ring").toString();
    return ProcessHandle.allProcesses().filter(p -> p.info().command().map(exe::equals).orElse(false)).toList();
  }

  private static byte[] reference(String iterations) throws Exception {
    return Crmpi.reference(Crmpi.mpirun(4, "ring", iterations), "ring.out");
  }

  private static void sh(String script) throws Exception {
    Process p = new ProcessBuilder("sh", "-c", script).inheritIO().start();
    assertEquals(0, p.waitFor(), script);
  }
}
