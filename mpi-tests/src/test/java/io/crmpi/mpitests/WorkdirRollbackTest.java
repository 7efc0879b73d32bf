package io.crmpi.mpitests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * What a restore does to the working directory, with real jobs of the
 * ordinary user crmpi-test1 under real CRIU: only the files the job wrote
 * come back to their checkpoint state, an append-only log is cut back
 * rather than copied, and the user's own files are never touched.
 */
class WorkdirRollbackTest extends UserJobTest {
  private static final int RANKS = 4;
  private static final String RING_ITERS = "2500";
  private static final String COUNTER = "i=0; exec 3>>count.log; while [ $i -lt $1 ]; do echo $i >&3;"
      + " i=$((i+1)); sleep 0.02; done\n";

  @Test
  void aRestoreRollsBackOnlyWhatTheJobWrote() throws Exception {
    Crmpi c = userJob();
    c.ownersFile("notes.txt", "the user's notes\n");
    c.ownersFile("inputs/big.dat", "x".repeat(1 << 20));
    Process crmpi = c.start("run", daemonEnv(), List.of("run", "--name", "ring", "--interval", "1s", "--keep", "3",
        "--keep-after-success", "--", "mpirun", "-np", Integer.toString(RANKS), "--oversubscribe",
        Crmpi.MPI_BIN.resolve("ring").toString(), RING_ITERS));
    c.awaitCommitted("ring", 2, crmpi);
    // The user works in the same directory while the job runs.
    Files.writeString(c.workdir.resolve("notes.txt"), "edited after the checkpoint\n");
    c.ownersFile("results-by-hand.txt", "mine\n");
    List<ProcessHandle> ranks = awaitUsersRanks(c, "ring", RANKS);
    Crmpi.kill9(ranks.get(ranks.size() - 1).pid());
    Crmpi.Result r = c.await("run", crmpi);

    assertEquals(0, r.exitCode(), r.describe());
    assertTrue(r.stderr().contains("restored; the job continues"), "no restore happened:\n" + r.describe());
    assertArrayEquals(Crmpi.reference(RANKS, "ring", "ring.out", RING_ITERS),
        Files.readAllBytes(c.workdir.resolve("ring.out")), "ring.out differs from an uninterrupted run");
    assertEquals("edited after the checkpoint\n", Files.readString(c.workdir.resolve("notes.txt")));
    assertEquals("mine\n", Files.readString(c.workdir.resolve("results-by-hand.txt")));
    List<Path> epochs = c.committedEpochs("ring");
    String manifest = Files.readString(epochs.get(epochs.size() - 1).resolve("manifest.json"));
    assertTrue(manifest.contains("\"path\" : \"ring.out\""), manifest);
    assertFalse(manifest.contains("notes.txt") || manifest.contains("big.dat"),
        "files the job never wrote were recorded:\n" + manifest);
  }

  @Test
  void anAppendOnlyLogIsCutBackToItsCheckpointLength() throws Exception {
    String n = "500";
    Path reference = Files.createTempDirectory("crmpi-counter-ref");
    Files.writeString(reference.resolve("counter.sh"), COUNTER);
    Process plain = new ProcessBuilder("sh", "counter.sh", n).directory(reference.toFile()).inheritIO().start();
    assertTrue(plain.waitFor(120, TimeUnit.SECONDS) && plain.exitValue() == 0, "the reference run failed");
    byte[] expected = Files.readAllBytes(reference.resolve("count.log"));

    Crmpi c = userJob();
    c.ownersFile("counter.sh", COUNTER);
    Process crmpi = c.start("run", daemonEnv(), List.of("run", "--name", "counter", "--interval", "1s",
        "--keep", "3", "--max-restarts", "3", "--", "sh", "counter.sh", n));
    c.awaitCommitted("counter", 2, crmpi);
    ProcessHandle shell = awaitOwnersShell(c);
    Crmpi.kill9(shell.pid());
    Crmpi.Result r = c.await("run", crmpi);

    assertEquals(0, r.exitCode(), r.describe());
    assertTrue(r.stderr().contains("restored; the job continues"), "no restore happened:\n" + r.describe());
    assertTrue(r.stderr().contains("cut count.log back from "), "the log was not cut back:\n" + r.describe());
    assertArrayEquals(expected, Files.readAllBytes(c.workdir.resolve("count.log")),
        "count.log differs from an uninterrupted run");
    List<Path> epochs = c.committedEpochs("counter");
    String manifest = Files.readString(epochs.get(epochs.size() - 1).resolve("manifest.json"));
    assertTrue(manifest.contains("\"state\" : \"APPEND\""), manifest);
  }

  /** The owner's shell running counter.sh in the job's working directory. */
  private static ProcessHandle awaitOwnersShell(Crmpi job) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      List<ProcessHandle> found = ProcessHandle.allProcesses()
          .filter(p -> p.info().user().map(OWNER::equals).orElse(false)
              && p.info().arguments().map(a -> a.length > 0 && a[0].equals("counter.sh")).orElse(false)
              && link(p.pid(), "cwd").equals(job.workdir.toString()))
          .toList();
      if (found.size() == 1) {
        return found.get(0);
      }
      Thread.sleep(50);
    }
    throw new AssertionError("the owner's counter.sh never ran in " + job.workdir);
  }
}
