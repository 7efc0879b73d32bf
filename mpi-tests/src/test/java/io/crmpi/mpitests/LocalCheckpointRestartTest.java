package io.crmpi.mpitests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Real Open MPI jobs of the ordinary user crmpi-test1 under crmpi's local
 * mode with real CRIU (run by the class's crmpid): each test checkpoints,
 * kills or corrupts something, and compares the job's final output file
 * with an uninterrupted run without crmpi, byte for byte.
 */
class LocalCheckpointRestartTest extends UserJobTest {
  private static final int RANKS = 4;
  private static final String RING_ITERS = "2500";
  private static final String LONG_RING_ITERS = "5000";
  private static final String HALO_ITERS = "2500";

  private static List<String> runArgs(String name, String interval, List<String> command) {
    List<String> args = new ArrayList<>(List.of("run", "--name", name, "--interval", interval, "--keep", "3",
        "--max-restarts", "3", "--"));
    args.addAll(command);
    return args;
  }

  @Test
  void periodicCheckpointsLeaveTheOutputIdentical() throws Exception {
    Crmpi c = userJob();
    Crmpi.Result r = c.run("run", daemonEnv(), runArgs("ring", "1s", Crmpi.mpirun(RANKS, "ring", RING_ITERS)));
    assertEquals(0, r.exitCode(), r.describe());
    assertTrue(c.committedCount("ring") >= 3, "fewer than 3 committed checkpoints:\n" + r.describe());
    assertTrue(c.committedEpochs("ring").size() <= 3, "retention kept more than --keep 3 epochs");
    assertArrayEquals(Crmpi.reference(RANKS, "ring", "ring.out", RING_ITERS),
        Files.readAllBytes(c.workdir.resolve("ring.out")), "ring.out differs from an uninterrupted run");
    // The job succeeded: its images are gone, its manifests stay, and it cannot be restarted from them.
    for (Path epoch : c.committedEpochs("ring")) {
      try (java.util.stream.Stream<Path> s = Files.list(epoch)) {
        assertEquals(List.of("manifest.json"), s.map(f -> f.getFileName().toString()).toList(),
            "epoch " + epoch.getFileName() + " kept more than its manifest after the job succeeded");
      }
    }
    Crmpi.Result again = c.run("restart", daemonEnv(), List.of("restart", "ring"));
    assertEquals(2, again.exitCode(), again.describe());
    assertTrue(again.stderr().contains("its images were removed (crmpi run --keep-after-success keeps them)"),
        again.describe());
  }

  @Test
  void aRankKilledWithSigkillIsRestoredAndTheOutputIsIdentical() throws Exception {
    Crmpi c = userJob();
    Process crmpi = c.start("run", daemonEnv(), runArgs("ring", "1s", Crmpi.mpirun(RANKS, "ring", RING_ITERS)));
    c.awaitCommitted("ring", 2, crmpi);
    List<ProcessHandle> ranks = awaitUsersRanks(c, "ring", RANKS);
    Crmpi.kill9(ranks.get(ranks.size() - 1).pid());
    Crmpi.Result r = c.await("run", crmpi);
    assertEquals(0, r.exitCode(), r.describe());
    assertTrue(r.stderr().contains("restored; the job continues"), "no restore happened:\n" + r.describe());
    assertArrayEquals(Crmpi.reference(RANKS, "ring", "ring.out", RING_ITERS),
        Files.readAllBytes(c.workdir.resolve("ring.out")), "ring.out differs from an uninterrupted run");
    // crmpid counted the dumps and the restore for the node's monitoring.
    awaitMetric("crmpi_dumps_total{result=\"ok\"}", 2);
    awaitMetric("crmpi_restores_total{result=\"ok\"}", 1);
    // The same counters over HTTP (metrics_listen), at least as far along as the file.
    assertTrue(scrapeMetric("crmpi_dumps_total{result=\"ok\"}") >= 2, "GET /metrics lacks the dumps");
    assertTrue(scrapeMetric("crmpi_restores_total{result=\"ok\"}") >= 1, "GET /metrics lacks the restore");
  }

  @Test
  void aNodeTreeNeverOutlivesItsRuntimeBeforeOrAfterARestore() throws Exception {
    Crmpi c = userJob();
    List<String> args = new ArrayList<>(List.of("run", "--name", "ring", "--interval", "1s", "--restore-probation",
        "1s", "--"));
    args.addAll(Crmpi.mpirun(RANKS, "ring", LONG_RING_ITERS));
    Process crmpi = c.start("run", daemonEnv(), args);
    c.awaitCommitted("ring", 2, crmpi);
    Crmpi.kill9(awaitUsersRanks(c, "ring", RANKS).get(0).pid());
    c.awaitRestored("ring", crmpi);
    // The restored tree runs under crmpi-ns restore, a child of crmpid. SIGKILL that and crmpi (runuser and
    // the user's JVM) at once, as a node whose control processes die, with crmpid stopped meanwhile (it
    // would kill the tree once crmpi's lease closes): nothing is left to kill the tree, so it must die by
    // itself (fencing).
    List<ProcessHandle> restored = awaitUsersRanks(c, "ring", RANKS);
    ProcessHandle daemon = crmpid.handle();
    List<ProcessHandle> runtimes = daemon.children()
        .filter(p -> p.info().command().map(cmd -> cmd.endsWith("crmpi-ns")).orElse(false)).toList();
    assertEquals(1, runtimes.size(), "crmpi-ns processes under crmpid: " + runtimes);
    List<ProcessHandle> control = new ArrayList<>(List.of(crmpi.toHandle()));
    control.addAll(crmpi.descendants().toList());
    control.add(runtimes.get(0));
    signal("STOP", daemon);
    try {
      Crmpi.killAtOnce(control);
      for (ProcessHandle rank : restored) {
        assertTrue(Crmpi.awaitGone(rank, 5), "rank " + rank.pid() + " outlived its node tree's runtime by 5 s");
      }
    } finally {
      signal("CONT", daemon);
    }
    Crmpi.Result r = c.run("restart", daemonEnv(), List.of("restart", "ring"));
    assertEquals(0, r.exitCode(), r.describe());
    assertArrayEquals(Crmpi.reference(RANKS, "ring", "ring.out", LONG_RING_ITERS),
        Files.readAllBytes(c.workdir.resolve("ring.out")), "ring.out differs from an uninterrupted run");
  }

  @Test
  void afterCrmpiItselfIsKilledRestartResumesAndTheOutputIsIdentical() throws Exception {
    Crmpi c = userJob();
    Process crmpi = c.start("run", daemonEnv(), runArgs("halo", "1s", Crmpi.mpirun(RANKS, "halo", HALO_ITERS)));
    c.awaitCommitted("halo", 2, crmpi);
    // The ranks are crmpid's children: crmpi's lease closing when it dies makes crmpid kill them.
    Crmpi.killWithItsTree(crmpi);
    Crmpi.Result r = c.run("restart", daemonEnv(), List.of("restart", "halo"));
    assertEquals(0, r.exitCode(), r.describe());
    assertTrue(r.stderr().contains("restored; the job continues"), r.describe());
    assertArrayEquals(Crmpi.reference(RANKS, "halo", "halo.out", HALO_ITERS),
        Files.readAllBytes(c.workdir.resolve("halo.out")), "halo.out differs from an uninterrupted run");
  }

  @Test
  void aFailedDumpAbortsTheEpochAndThePreviousOneStillRestores() throws Exception {
    Crmpi c = userJob();
    // Every dump after the first fails on purpose: epoch 1 stays the newest committed checkpoint.
    Process crmpi = c.start("run", daemonEnv("CRMPI_FAULTS", "dump@2-"),
        runArgs("ring", "1s", Crmpi.mpirun(RANKS, "ring", RING_ITERS)));
    c.awaitCommitted("ring", 1, crmpi);
    Path history = c.jobDir("ring").resolve("history.jsonl");
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (!Files.readString(history).contains("DUMP_FAILED") && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    assertTrue(Files.readString(history).contains("DUMP_FAILED"), "no aborted epoch in the history");
    assertTrue(crmpi.isAlive(), "the job died with its failed checkpoint");
    List<Path> epochs = c.committedEpochs("ring");
    assertEquals(1, epochs.size(), "aborted epochs left committed directories: " + epochs);
    try (Stream<Path> s = Files.list(c.jobDir("ring").resolve("checkpoints/epochs"))) {
      assertEquals(1, s.count(), "an aborted epoch left its directory behind");
    }
    List<ProcessHandle> ranks = awaitUsersRanks(c, "ring", RANKS);
    Crmpi.kill9(ranks.get(0).pid());
    Crmpi.Result r = c.await("run", crmpi);
    assertEquals(0, r.exitCode(), r.describe());
    assertTrue(r.stderr().contains("epoch 1: restored"), "not restored from epoch 1:\n" + r.describe());
    assertArrayEquals(Crmpi.reference(RANKS, "ring", "ring.out", RING_ITERS),
        Files.readAllBytes(c.workdir.resolve("ring.out")), "ring.out differs from an uninterrupted run");
  }

  @Test
  void aCorruptedNewestEpochIsSkippedForThePreviousOne() throws Exception {
    Crmpi c = userJob();
    Process crmpi = c.start("run", daemonEnv(), runArgs("halo", "1s", Crmpi.mpirun(RANKS, "halo", HALO_ITERS)));
    c.awaitCommitted("halo", 3, crmpi);
    Crmpi.killWithItsTree(crmpi);
    List<Path> epochs = c.committedEpochs("halo");
    Path newest = epochs.get(epochs.size() - 1);
    Path pages;
    try (Stream<Path> s = Files.list(newest.resolve("nodes/local/image"))) {
      pages = s.filter(p -> p.getFileName().toString().startsWith("pages-"))
          .max(Comparator.comparingLong(p -> p.toFile().length())).orElseThrow();
    }
    try (RandomAccessFile f = new RandomAccessFile(pages.toFile(), "rw")) {
      long at = f.length() / 2;
      f.seek(at);
      int b = f.read();
      f.seek(at);
      f.write(b ^ 0x5a);
    }
    long newestEpoch = Long.parseLong(newest.getFileName().toString());
    Crmpi.Result r = c.run("restart", daemonEnv(), List.of("restart", "halo"));
    assertEquals(0, r.exitCode(), r.describe());
    // A user's images are checked by crmpid as it restores them (crmpi checks only the working directory's
    // files before), so the damage shows as a refused restore of that epoch rather than a skipped one.
    assertTrue(r.stderr().contains("epoch " + newestEpoch + ": restore failed"), r.describe());
    assertTrue(r.stderr().contains("refusing to restore epoch " + newestEpoch), r.describe());
    assertTrue(r.stderr().contains("epoch " + (newestEpoch - 1) + ": restored"), r.describe());
    assertArrayEquals(Crmpi.reference(RANKS, "halo", "halo.out", HALO_ITERS),
        Files.readAllBytes(c.workdir.resolve("halo.out")), "halo.out differs from an uninterrupted run");
  }

  private static void signal(String signal, ProcessHandle p) throws Exception {
    Process k = new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).inheritIO().start();
    assertEquals(0, k.waitFor(), "kill -" + signal + " " + p.pid());
  }
}
