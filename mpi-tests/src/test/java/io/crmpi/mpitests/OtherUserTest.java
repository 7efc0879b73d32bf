package io.crmpi.mpitests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A second local user, created by the test, against a running job: the
 * crmpi commands refuse it, and even with the job's directory opened up by
 * mistake its control and rank sockets refuse it (SO_PEERCRED), while the
 * job runs on and its output stays byte-identical.
 */
class OtherUserTest {
  private static final String OTHER = "crmpi-test2";
  private static final int RANKS = 2;
  private static final String ITERS = "3000";

  @Test
  void anotherUserCannotSeeControlOrTalkToTheJob() throws Exception {
    sh("id " + OTHER + " >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin " + OTHER);
    Path base = Files.createTempDirectory(Path.of("/tmp"), "crmpi-other-user-");
    Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
    Process crmpi = null;
    try {
      Crmpi c = new Crmpi(base);
      Files.setPosixFilePermissions(base.resolve("state"), PosixFilePermissions.fromString("rwxr-xr-x"));
      crmpi = c.start("run", Map.of(), List.of("run", "--name", "ring", "--interval", "2s", "--",
          "mpirun", "-np", Integer.toString(RANKS), "--oversubscribe", Crmpi.MPI_BIN.resolve("ring").toString(),
          ITERS));
      c.awaitCommitted("ring", 1, crmpi);
      Path job = c.jobDir("ring");
      assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(job)),
          "the job directory is not owner-only");
      Files.setPosixFilePermissions(base.resolve("state/jobs"), PosixFilePermissions.fromString("rwxr-xr-x"));

      for (String cmd : List.of("checkpoint", "vacate", "restart", "manifest", "status")) {
        Result r = asOther(Crmpi.REPO.resolve("bin/crmpi").toString(), cmd, "--state-dir",
            base.resolve("state").toString(), "ring");
        assertEquals(2, r.code(), cmd + ": " + r.out());
        assertTrue(r.out().contains("job 'ring' belongs to root: only its owner (or root) can see or control it"),
            cmd + ": " + r.out());
      }

      // A mistake opens the job's directory to everybody: the sockets still check who connects.
      Path sock = job.resolve("sock");
      Files.setPosixFilePermissions(job, PosixFilePermissions.fromString("rwxrwxrwx"));
      Files.setPosixFilePermissions(sock, PosixFilePermissions.fromString("rwxrwxrwx"));
      Files.setPosixFilePermissions(sock.resolve("control.sock"), PosixFilePermissions.fromString("rw-rw-rw-"));
      Files.setPosixFilePermissions(sock.resolve("ranks-local.sock"), PosixFilePermissions.fromString("rw-rw-rw-"));
      Result control = new Result(0, SocketProbe.asUser(OTHER, base, sock.resolve("control.sock"), "vacate"));
      assertEquals("ERR refused: user " + OTHER + " is not the job's owner root", control.out().strip());
      Result rank = new Result(0, SocketProbe.asUser(OTHER, base, sock.resolve("ranks-local.sock"), "HELLO 1 0 0 2 1"));
      assertTrue(rank.out().startsWith("(closed"), "the rank socket answered another user: " + rank.out());

      Crmpi.Result r = c.await("run", crmpi);
      assertEquals(0, r.exitCode(), "the job did not survive the other user:\n" + r.describe());
      assertTrue(r.stderr().contains("refused a connection: user " + OTHER), r.describe());
      assertArrayEquals(Crmpi.reference(RANKS, "ring", "ring.out", ITERS),
          Files.readAllBytes(c.workdir.resolve("ring.out")), "ring.out differs from an uninterrupted run");
    } finally {
      if (crmpi != null && crmpi.isAlive()) {
        Crmpi.killWithItsTree(crmpi);
      }
      try {
        Crmpi.deleteTree(base);
      } catch (java.io.IOException e) {
        System.err.println("cleanup of " + base + ": " + e);
      }
    }
  }

  private record Result(int code, String out) {}

  private static Result asOther(String... cmd) throws Exception {
    List<String> full = new ArrayList<>(List.of("runuser", "-u", OTHER, "--"));
    full.addAll(List.of(cmd));
    Process p = new ProcessBuilder(full).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), String.join(" ", cmd) + " hung");
    return new Result(p.exitValue(), out);
  }

  private static void sh(String script) throws Exception {
    Process p = new ProcessBuilder("sh", "-c", script).inheritIO().start();
    assertEquals(0, p.waitFor(), script);
  }
}
