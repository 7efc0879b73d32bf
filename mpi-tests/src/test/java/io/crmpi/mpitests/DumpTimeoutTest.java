package io.crmpi.mpitests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A CRIU dump that hangs past --dump-timeout, with real CRIU under a crmpid
 * configured (crmpi.conf "criu") with a wrapper that, while a marker file
 * exists, gives the real criu an action script that hangs after the dump,
 * with the ranks still frozen and seized: criu is killed with its helpers,
 * the epoch is aborted, the ranks are thawed, and the job of crmpi-test1
 * goes on to checkpoint again and finish with the output of an
 * uninterrupted run.
 */
class DumpTimeoutTest {
  private static final String OWNER = "crmpi-test1";
  private static final int RANKS = 4;
  private static final String ITERS = "3000";
  private static Path base;
  private static Path marker;
  private static Path hang;
  private static TestCrmpid crmpid;

  @BeforeAll
  static void startCrmpid() throws Exception {
    TestCrmpid.ensureUser(OWNER);
    base = TestCrmpid.openDirectory(Path.of("/tmp"), "crmpi-hang-");
    String real = Files.readAllLines(Crmpi.REPO.resolve("build/criu/env")).stream()
        .filter(l -> l.startsWith("CRMPI_CRIU=")).findFirst().orElseThrow().substring("CRMPI_CRIU=".length())
        .replace("\"", "");
    marker = base.resolve("hang-now");
    hang = base.resolve("hang.sh");
    Files.writeString(hang, "#!/bin/sh\n[ \"$CRTOOLS_SCRIPT_ACTION\" = post-dump ] && exec sleep 600\nexit 0\n");
    Path wrapper = base.resolve("criu");
    Files.writeString(wrapper, "#!/bin/sh\nif [ \"$1\" = dump ] && [ -e " + marker + " ]; then\n"
        + "  exec " + real + " \"$@\" --action-script " + hang + "\nfi\nexec " + real + " \"$@\"\n");
    for (Path p : List.of(hang, wrapper)) {
      Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    crmpid = TestCrmpid.start(base.resolve("crmpid"), "criu = " + wrapper + "\n");
  }

  @AfterAll
  static void stopCrmpid() throws Exception {
    TestCrmpid.stopAndDelete(crmpid, base);
  }

  @Test
  void aHungDumpIsKilledTheRanksThawedAndTheJobGoesOn() throws Exception {
    Path dir = Files.createDirectory(base.resolve("job"));
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    Crmpi c = Crmpi.asUser(dir, OWNER);
    Map<String, String> env = Map.of("CRMPI_DAEMON_SOCKET", crmpid.socket.toString());
    Process crmpi = c.start("run", env, List.of("run", "--name", "ring", "--interval", "1s", "--dump-timeout", "4s",
        "--keep", "3", "--", "mpirun", "-np", Integer.toString(RANKS), "--oversubscribe",
        Crmpi.MPI_BIN.resolve("ring").toString(), ITERS));
    c.awaitCommitted("ring", 1, crmpi);
    Files.createFile(marker);
    Path daemonLog = base.resolve("crmpid/crmpid.log");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!Files.readString(daemonLog).contains("did not finish within 3 s; killing it")) {
      assertTrue(System.nanoTime() < deadline, "no dump was killed:\n" + Files.readString(daemonLog));
      assertTrue(crmpi.isAlive(), "the job ended while its dump hung");
      Thread.sleep(100);
    }
    Files.delete(marker);
    // The network lock CRIU put on the tree's network namespace was taken off.
    deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!Files.readString(daemonLog).contains("removed the network lock CRIU-")) {
      assertTrue(System.nanoTime() < deadline, "CRIU's network lock stayed:\n" + Files.readString(daemonLog));
      Thread.sleep(100);
    }
    long committedBefore = c.committedCount("ring");
    Crmpi.Result r = c.await("run", crmpi);

    assertEquals(0, r.exitCode(), r.describe());
    assertTrue(r.stderr().contains("aborted"), "no epoch was aborted:\n" + r.describe());
    assertTrue(c.committedCount("ring") > committedBefore, "no checkpoint committed after the hung one:\n"
        + r.describe());
    assertArrayEquals(Crmpi.reference(RANKS, "ring", "ring.out", ITERS),
        Files.readAllBytes(c.workdir.resolve("ring.out")), "ring.out differs from an uninterrupted run");
    assertTrue(ProcessHandle.allProcesses().noneMatch(p -> p.info().commandLine().orElse("").contains(hang.toString())),
        "the hung action script outlived its criu");
  }
}
