package io.crmpi.mpitests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A second local user (crmpi-test2, created by the test) against a running
 * job of the ordinary user crmpi-test1: the crmpi commands refuse it, and
 * even with the job's directory opened up by mistake its control and rank
 * sockets refuse it (SO_PEERCRED), while the job runs on and its output
 * stays byte-identical.
 */
class OtherUserTest extends UserJobTest {
  private static final String OTHER = "crmpi-test2";
  private static final int RANKS = 2;
  private static final String ITERS = "3000";

  @Test
  void anotherUserCannotSeeControlOrTalkToTheJob() throws Exception {
    TestCrmpid.ensureUser(OTHER);
    Crmpi c = userJob();
    Process crmpi = null;
    try {
      Files.setPosixFilePermissions(c.state, PosixFilePermissions.fromString("rwxr-xr-x"));
      crmpi = c.start("run", daemonEnv(), List.of("run", "--name", "ring", "--interval", "2s", "--",
          "mpirun", "-np", Integer.toString(RANKS), "--oversubscribe", Crmpi.MPI_BIN.resolve("ring").toString(),
          ITERS));
      c.awaitCommitted("ring", 1, crmpi);
      awaitUsersRanks(c, "ring", RANKS);
      Path job = c.jobDir("ring");
      assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(job)),
          "the job directory is not owner-only");
      Files.setPosixFilePermissions(c.state.resolve("jobs"), PosixFilePermissions.fromString("rwxr-xr-x"));

      for (String cmd : List.of("checkpoint", "vacate", "restart", "manifest", "status")) {
        Result r = asOther(Crmpi.HOME.resolve("bin/crmpi").toString(), cmd, "--state-dir",
            c.state.toString(), "ring");
        assertEquals(2, r.code(), cmd + ": " + r.out());
        assertTrue(r.out().contains("job 'ring' belongs to " + OWNER + ": only its owner (or root) can see or"
            + " control it"), cmd + ": " + r.out());
      }

      // A mistake opens the job's directory to everybody: the sockets still check who connects.
      Path sock = job.resolve("sock");
      assertTrue(Files.isDirectory(sock), "the job's sockets are not in " + sock + " (is its path too long?)");
      Files.setPosixFilePermissions(job, PosixFilePermissions.fromString("rwxrwxrwx"));
      Files.setPosixFilePermissions(sock, PosixFilePermissions.fromString("rwxrwxrwx"));
      Files.setPosixFilePermissions(sock.resolve("control.sock"), PosixFilePermissions.fromString("rw-rw-rw-"));
      Files.setPosixFilePermissions(sock.resolve("ranks-local.sock"), PosixFilePermissions.fromString("rw-rw-rw-"));
      // A well-formed vacate of the control wire (one JSON line), so that only the peer check can refuse it.
      Result control = new Result(0, SocketProbe.asUser(OTHER, c.base, sock.resolve("control.sock"),
          "{\"type\":\"Vacate\",\"body\":{}}"));
      assertTrue(control.out().contains("\"type\":\"Refused\"")
          && control.out().contains("refused: user " + OTHER + " is not the job's owner " + OWNER),
          "the control socket did not refuse another user: " + control.out());
      Result rank = new Result(0, SocketProbe.asUser(OTHER, c.base, sock.resolve("ranks-local.sock"),
          "HELLO 1 0 0 2 1"));
      assertTrue(rank.out().startsWith("(closed"), "the rank socket answered another user: " + rank.out());

      Crmpi.Result r = c.await("run", crmpi);
      assertEquals(0, r.exitCode(), "the job did not survive the other user:\n" + r.describe());
      assertTrue(r.stderr().contains("refused a connection: user " + OTHER), r.describe());
      assertArrayEquals(Crmpi.reference(RANKS, "ring", "ring.out", ITERS),
          Files.readAllBytes(c.workdir.resolve("ring.out")), "ring.out differs from an uninterrupted run");
    } finally {
      // The class's crmpid kills the job's tree when crmpi's lease closes; the directories go with the class's.
      if (crmpi != null && crmpi.isAlive()) {
        Crmpi.killWithItsTree(crmpi);
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
}
