package io.crmpi.mpitests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
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
    Crmpi c = userJob();
    Map<String, String> env = daemonEnv("RING_APPEND", "1");
    // Checkpoints on request only: a periodic one between the log's growth
    // and the kill would leave nothing to cut (a CI run saw exactly that).
    Process crmpi = c.start("run", env, List.of("run", "--name", "ring", "--interval", "none", "--keep", "3",
        "--max-restarts", "3", "--keep-after-success", "--", "mpirun", "-np", Integer.toString(RANKS),
        "--oversubscribe", "-x", "RING_APPEND", Crmpi.MPI_BIN.resolve("ring").toString(), RING_ITERS));
    List<ProcessHandle> ranks = awaitUsersRanks(c, "ring", RANKS);
    for (int i = 1; i <= 2; i++) {
      Crmpi.Result checkpoint = c.run("checkpoint" + i, env, List.of("checkpoint", "ring"));
      assertEquals(0, checkpoint.exitCode(), checkpoint.describe());
    }
    Path log = c.workdir.resolve("ring.out");
    long atCheckpoint = Files.size(log);
    awaitGrowth(log, atCheckpoint, crmpi);
    Crmpi.kill9(ranks.get(0).pid());
    Crmpi.Result r = c.await("run", crmpi);

    assertEquals(0, r.exitCode(), r.describe());
    assertTrue(r.stderr().contains("restored; the job continues"), "no restore happened:\n" + r.describe());
    assertTrue(r.stderr().contains("cut ring.out back from "), "the log was not cut back:\n" + r.describe());
    assertArrayEquals(Crmpi.reference(RANKS, "ring", "ring.out", RING_ITERS),
        Files.readAllBytes(c.workdir.resolve("ring.out")), "ring.out differs from an uninterrupted run");
    List<Path> epochs = c.committedEpochs("ring");
    Path newest = epochs.get(epochs.size() - 1);
    String manifest = Files.readString(newest.resolve("manifest.json"));
    assertTrue(manifest.contains("\"state\" : \"APPEND\""), manifest);
    assertFalse(Files.exists(newest.resolve("nodes/local/workdir/ring.out")), "the append-only log was copied");
  }

  /** Waits until the job has appended to {@code log} past {@code size} bytes. */
  private static void awaitGrowth(Path log, long size, Process crmpi) throws Exception {
    long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
    while (Files.size(log) <= size) {
      assertTrue(crmpi.isAlive(), "crmpi ended before the job appended to " + log);
      assertTrue(System.nanoTime() < deadline, log + " did not grow past " + size + " bytes within a minute");
      Thread.sleep(50);
    }
  }
}
