package io.crmpi.mpitests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Base of the test classes whose jobs belong to the ordinary user
 * crmpi-test1 (created when missing), with a crmpid of the class's own and
 * a 0755 directory under /tmp for the jobs. A user's `crmpi run` runs under
 * runuser and its node trees under crmpid, so the ranks are found among the
 * user's processes and signals go to crmpi's JVM ({@link #jvm}).
 */
abstract class UserJobTest {
  static final String OWNER = "crmpi-test1";
  static Path base;
  static TestCrmpid crmpid;
  /** The class crmpid's textfile-collector directory (metrics_dir). */
  static Path metrics;
  /** The loopback port the class crmpid serves its metrics on over HTTP (metrics_listen). */
  static int metricsPort;
  private static final AtomicInteger JOBS = new AtomicInteger();
  private static String ownerUid;

  @BeforeAll
  static void startCrmpid() throws Exception {
    TestCrmpid.ensureUser(OWNER);
    ownerUid = uid(OWNER);
    base = TestCrmpid.openDirectory(Path.of("/tmp"), "crmpi-user-");
    metrics = Files.createDirectories(base.resolve("metrics"));
    try (java.net.ServerSocket free = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      metricsPort = free.getLocalPort();
    }
    crmpid = TestCrmpid.start(base.resolve("crmpid"), "metrics_dir = " + metrics + "\nmetrics_listen = 127.0.0.1:"
        + metricsPort + "\n");
  }

  @AfterAll
  static void stopCrmpid() throws Exception {
    TestCrmpid.stopAndDelete(crmpid, base);
  }

  /**
   * A new job of the owner's, in a directory with a short name: the job's
   * sockets then fit in its own sock/ directory (a longer path would move
   * them to /tmp/crmpi-UID/, where they outlive the test's directory).
   */
  static Crmpi userJob() throws Exception {
    Path dir = Files.createDirectory(base.resolve("job" + JOBS.incrementAndGet()));
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    return Crmpi.asUser(dir, OWNER);
  }

  /** The line of crmpid's metrics file for a series, once its value is at least min (within 20 s). */
  static String awaitMetric(String series, double min) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    String last = "";
    while (System.nanoTime() < deadline) {
      Path file = metrics.resolve("crmpi.prom");
      if (Files.exists(file)) {
        for (String line : Files.readAllLines(file)) {
          if (line.startsWith(series + " ") && Double.parseDouble(line.substring(series.length() + 1)) >= min) {
            return line;
          }
        }
        last = Files.readString(file);
      }
      Thread.sleep(200);
    }
    throw new AssertionError(series + " never reached " + min + " in crmpid's metrics:\n" + last);
  }

  /** The value of a series as crmpid serves it over HTTP now (GET /metrics), or -1 when it has no such series. */
  static double scrapeMetric(String series) throws Exception {
    java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
        java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + metricsPort + "/metrics"))
            .timeout(java.time.Duration.ofSeconds(10)).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new AssertionError("GET /metrics answered " + r.statusCode() + ":\n" + r.body());
    }
    return r.body().lines().filter(l -> l.startsWith(series + " "))
        .mapToDouble(l -> Double.parseDouble(l.substring(series.length() + 1))).findFirst().orElse(-1);
  }

  /** The environment that points bin/crmpi at the class's crmpid. */
  static Map<String, String> daemonEnv() {
    return Map.of("CRMPI_DAEMON_SOCKET", crmpid.socket.toString());
  }

  /** daemonEnv() and one more variable, which reaches the job's environment through crmpi. */
  static Map<String, String> daemonEnv(String name, String value) {
    return Map.of("CRMPI_DAEMON_SOCKET", crmpid.socket.toString(), name, value);
  }

  /**
   * The owner's processes of program in job's working directory (crmpid,
   * not crmpi run, is their ancestor), once there are exactly n; each runs
   * with the owner's real, effective, saved and file-system uid.
   */
  static List<ProcessHandle> awaitUsersRanks(Crmpi job, String program, int n) throws Exception {
    String exe = Crmpi.MPI_BIN.resolve(program).toString();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    List<ProcessHandle> r = List.of();
    while (r.size() != n && System.nanoTime() < deadline) {
      Thread.sleep(50);
      r = ProcessHandle.allProcesses().filter(p -> p.info().command().map(exe::equals).orElse(false)
          && p.info().user().map(OWNER::equals).orElse(false) && link(p.pid(), "cwd").equals(job.workdir.toString()))
          .toList();
    }
    assertEquals(n, r.size(), "ranks of " + program + " running as " + OWNER + " in " + job.workdir + ": " + r);
    for (ProcessHandle p : r) {
      assertEquals(List.of(ownerUid, ownerUid, ownerUid, ownerUid), uids(p.pid()),
          "rank " + p.pid() + " of " + program + " does not run as " + OWNER);
    }
    return r;
  }

  /**
   * The pid of the crmpi JVM under p (runuser, bin/crmpi, crmpi-ns
   * hold-signal, then java), once it is java: a signal to p would reach
   * runuser, not crmpi.
   */
  static long jvm(Process p) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      Optional<ProcessHandle> jvm = p.descendants().filter(h -> link(h.pid(), "exe").endsWith("/java")).findFirst();
      if (jvm.isPresent()) {
        return jvm.get().pid();
      }
      Thread.sleep(2);
    }
    throw new AssertionError("crmpi's JVM did not start within 20 s");
  }

  /** Where /proc/PID/NAME points (exe, cwd), or "" once the process is gone. */
  static String link(long pid, String name) {
    try {
      return Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), name)).toString();
    } catch (java.io.IOException e) {
      return "";
    }
  }

  /** The four uids of /proc/PID/status (real, effective, saved, file system). */
  private static List<String> uids(long pid) throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
      if (line.startsWith("Uid:")) {
        return List.of(line.substring("Uid:".length()).strip().split("\\s+"));
      }
    }
    throw new AssertionError("no Uid line in /proc/" + pid + "/status");
  }

  private static String uid(String user) throws Exception {
    Process p = new ProcessBuilder("id", "-u", user).start();
    String out = new String(p.getInputStream().readAllBytes()).strip();
    assertTrue(p.waitFor() == 0 && out.matches("\\d+"), "id -u " + user + ": " + out);
    return out;
  }
}
