package io.crmpi.mpitests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * Jobs of an ordinary user (crmpi-test1, created when missing) on a Slurm
 * test cluster: slurmd runs as root, the batch script, the coordinator, the
 * agents and every rank run as the user, and a crmpid of the test's own
 * (one serves every node: they share this machine) runs their node trees.
 * Close it after the cluster is down.
 */
final class SlurmUserJobs implements AutoCloseable {
  static final String USER = "crmpi-test1";
  private final SlurmTestCluster cluster;
  private final Path daemonDir;
  private final TestCrmpid crmpid;

  private SlurmUserJobs(SlurmTestCluster cluster, Path daemonDir, TestCrmpid crmpid) {
    this.cluster = cluster;
    this.daemonDir = daemonDir;
    this.crmpid = crmpid;
  }

  /** For a cluster that is up: the user, and a crmpid serving the cluster's job bridge. */
  static SlurmUserJobs start(SlurmTestCluster cluster) throws Exception {
    sh("id " + USER + " >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin " + USER);
    Files.setPosixFilePermissions(cluster.dir(), PosixFilePermissions.fromString("rwxr-xr-x"));
    Path daemonDir = Files.createTempDirectory(Path.of("/tmp"), "crmpid-slurm-");
    Files.setPosixFilePermissions(daemonDir, PosixFilePermissions.fromString("rwxr-xr-x"));
    TestCrmpid crmpid = TestCrmpid.start(daemonDir.resolve("crmpid"),
        "job_bridge = " + cluster.exported("CRMPI_JOB_BRIDGE") + "\n");
    return new SlurmUserJobs(cluster, daemonDir, crmpid);
  }

  /** A new job directory (base/state for crmpi, base/work for the job) under the cluster's directory. */
  Path jobDir(String name) throws Exception {
    Path base = Files.createDirectories(cluster.dir().resolve(name));
    Files.createDirectories(base.resolve("state"));
    Files.createDirectories(base.resolve("work"));
    return base;
  }

  /**
   * Writes the batch script (see {@link SlurmTestCluster#batchScript}, talking
   * to this crmpid), gives base to the user and submits it as the user.
   */
  String submit(Path base, int nodes, List<String> directives, String crmpiArgs, String iterations)
      throws Exception {
    List<String> lines = new ArrayList<>(directives);
    lines.add("export CRMPI_DAEMON_SOCKET=" + crmpid.socket);
    Path script = SlurmTestCluster.batchScript(base, nodes, lines, crmpiArgs, iterations);
    sh("chown -R " + USER + ": " + base);
    return cluster.slurmAs(USER, "sbatch", "--parsable", script.toString());
  }

  /** Runs bin/crmpi ARGS as the user (with the cluster's Slurm settings) and returns its output. */
  String crmpi(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Crmpi.HOME.resolve("bin/crmpi").toString()));
    cmd.addAll(List.of(args));
    return cluster.slurmAs(USER, cmd.toArray(String[]::new));
  }

  /** Sends one request line to crmpid as the user, from outside every Slurm job, and returns the answer. */
  String outsider(String line) throws Exception {
    return SocketProbe.asUser(USER, daemonDir, crmpid.socket, line);
  }

  /** The running ranks of the ring program (every job's). */
  static List<ProcessHandle> ranks() {
    String exe = Crmpi.MPI_BIN.resolve("ring").toString();
    return ProcessHandle.allProcesses().filter(p -> p.info().command().map(exe::equals).orElse(false)).toList();
  }

  @Override
  public void close() throws Exception {
    crmpid.close();
    Crmpi.deleteTree(daemonDir);
  }

  private static void sh(String script) throws Exception {
    Process p = new ProcessBuilder("sh", "-c", script).inheritIO().start();
    assertEquals(0, p.waitFor(), script);
  }
}
