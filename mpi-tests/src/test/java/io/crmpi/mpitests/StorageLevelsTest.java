package io.crmpi.mpitests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * A job of crmpi-test1 with a node-local level (--local-dir on a tmpfs under
 * /dev/shm, mode 1777 like /dev/shm itself): every checkpoint is dumped
 * there and flushed to the state directory while the job runs.
 *
 * <ul>
 *   <li>The job is suspended (checkpointed, its processes ended) and resumed:
 *       it is restored from the node-local copy.
 *   <li>A rank is killed: the job is restored from the node-local copy.
 *   <li>Every node-local copy is deleted (as a lost node takes them), then a
 *       rank is killed: epochs held only there are skipped, and the job is
 *       restored from the state directory's copy of the newest flushed epoch,
 *       whose images the flush stored as deduplicated chunks: they are put
 *       back together at the node-local level and restored from there.
 * </ul>
 * Later flushes reuse chunks of the ones before.
 * Each time the output is byte-identical to an uninterrupted run's; the
 * user's directory in the shared root is 0700, and once the job succeeded no
 * node-local copy is left.
 */
class StorageLevelsTest extends UserJobTest {
  private static final int RANKS = 4;
  private static final String ITERS = "8000";
  private static final Pattern FLUSHED = Pattern.compile(
      "flushed to the state directory: ([0-9.]+) MiB written, ([0-9.]+) MiB already");
  private static final Pattern RESTORED_FROM = Pattern.compile("node local: restoring from (\\S+)");

  @Test
  void restoresFromTheNodeLocalCopyAndFromTheStateDirectoryWhenItIsGone() throws Exception {
    Path shm = Crmpi.sharedTmpfsDir("crmpi-levels-");
    try {
      Crmpi c = userJob();
      Process crmpi = c.start("run", daemonEnv(), List.of("run", "--name", "ring", "--interval", "1s", "--keep", "3",
          "--local-dir", shm.toString(), "--max-restarts", "5", "--", "mpirun", "-np", Integer.toString(RANKS),
          "--oversubscribe", Crmpi.MPI_BIN.resolve("ring").toString(), ITERS));
      c.awaitHistory("ring", "\"kind\":\"flushed\"", 1, crmpi);
      Path userDir = Files.list(shm).findFirst().orElseThrow();
      assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(userDir)));
      assertEquals(OWNER, Files.getOwner(userDir).getName());

      // 0. Suspended and resumed: the node-local copy is used.
      Crmpi.Result suspend = c.run("suspend", daemonEnv(), List.of("suspend", "ring"));
      assertEquals(0, suspend.exitCode(), suspend.describe());
      assertTrue(suspend.stdout().contains("the job is suspended"), suspend.describe());
      Crmpi.Result suspended = c.await("run", crmpi);
      assertEquals(143, suspended.exitCode(), suspended.describe());
      assertTrue(suspended.stderr().contains("suspended after its checkpoint"), suspended.describe());
      assertEquals(List.of(), ProcessHandle.allProcesses().filter(p -> p.info().user().map(OWNER::equals)
          .orElse(false) && UserJobTest.link(p.pid(), "cwd").equals(c.workdir.toString())).toList(),
          "processes of the suspended job are left");
      crmpi = c.start("resume", daemonEnv(), List.of("resume", "ring"));
      c.awaitHistory("ring", "\"kind\":\"restart\"", 1, crmpi); // restored, and through its probation

      // 1. A rank dies: the node-local copy is used.
      Crmpi.kill9(awaitUsersRanks(c, "ring", RANKS).get(1).pid());
      c.awaitHistory("ring", "\"kind\":\"restart\"", 2, crmpi);
      // 2. Every node-local copy goes, and a rank dies: the state directory's copy is used.
      c.awaitHistory("ring", "\"kind\":\"flushed\"", 3, crmpi);
      Path epochs = userDir.resolve("ring/epochs");
      new ProcessBuilder("rm", "-rf", epochs.toString()).inheritIO().start().waitFor();
      Crmpi.kill9(awaitUsersRanks(c, "ring", RANKS).get(2).pid());
      Crmpi.Result r = c.await("resume", crmpi);

      assertEquals(0, r.exitCode(), r.describe());
      String both = suspended.stderr() + r.stderr();
      both.lines().filter(l -> l.contains("restor") || l.contains("flush") || l.contains("skipped"))
          .forEach(System.out::println); // what the three restores did, in the test's report
      List<String> restoredFrom = new java.util.ArrayList<>();
      Matcher m = RESTORED_FROM.matcher(r.stderr());
      while (m.find()) {
        restoredFrom.add(m.group(1));
      }
      assertTrue(restoredFrom.size() >= 3, "three restores expected:\n" + r.describe());
      assertTrue(restoredFrom.get(0).startsWith(epochs.toString()), "the resume did not read the node-local"
          + " copy: " + restoredFrom + "\n" + r.describe());
      assertTrue(restoredFrom.get(1).startsWith(epochs.toString()), "the restore after the rank's death did not read"
          + " the node-local copy: " + restoredFrom + "\n" + r.describe());
      String last = restoredFrom.get(restoredFrom.size() - 1);
      assertTrue(last.startsWith(c.jobDir("ring").resolve("checkpoints/epochs").toString()),
          "the second restore did not read the state directory: " + restoredFrom + "\n" + r.describe());
      assertTrue(r.stderr().contains("putting its images back together from the chunks in "
          + c.jobDir("ring").resolve("checkpoints/epochs")), "the state directory's copy was not read from its"
          + " chunks:\n" + r.describe());
      Matcher flushed = FLUSHED.matcher(both);
      double reused = 0;
      while (flushed.find()) {
        reused = Math.max(reused, Double.parseDouble(flushed.group(2)));
      }
      assertTrue(reused > 0, "no flush reused a chunk of the one before:\n" + r.describe());
      assertArrayEquals(Crmpi.reference(RANKS, "ring", "ring.out", ITERS),
          Files.readAllBytes(c.workdir.resolve("ring.out")), "ring.out differs from an uninterrupted run");
      try (Stream<Path> left = Files.exists(epochs) ? Files.list(epochs) : Stream.empty()) {
        assertEquals(List.of(), left.toList(), "node-local copies left after the job succeeded:\n" + r.describe());
      }
    } finally {
      Crmpi.deleteTree(shm);
    }
  }

  /**
   * crmpi is killed (SIGKILL) in the middle of a flush, after its chunk
   * pack and recipes are written and before the manifest counts them. The
   * restarted job resumes from its newest committed epoch and ends with the
   * right output, and the chunk store keeps no pack that no checkpoint uses
   * (the sweep after later retentions took the dead flush's pack).
   */
  @Test
  void aCrashInTheMiddleOfAFlushCostsNoCheckpointAndLeavesNoDeadPack() throws Exception {
    Path shm = Crmpi.sharedTmpfsDir("crmpi-levels-");
    try {
      Crmpi c = userJob();
      Process crmpi = c.start("run", daemonEnv("CRMPI_FAULTS", "flush@3:kill"), List.of("run", "--name", "ring",
          "--interval", "1s", "--keep", "2", "--local-dir", shm.toString(), "--keep-after-success",
          "--max-restarts", "2", "--", "mpirun", "-np", Integer.toString(RANKS), "--oversubscribe",
          Crmpi.MPI_BIN.resolve("ring").toString(), ITERS));
      Crmpi.Result killed = c.await("run", crmpi);
      assertTrue(killed.stderr().contains("injected fault 'flush' at epoch 3: SIGKILL"), killed.describe());
      Path checkpoints = c.jobDir("ring").resolve("checkpoints");
      String manifest3 = Files.readString(checkpoints.resolve("epochs/0000000003/manifest.json"));
      assertFalse(manifest3.contains("\"shared\""), "the killed flush was counted: " + manifest3);
      assertTrue(Files.exists(checkpoints.resolve("epochs/0000000003/nodes/local/image")), "nothing was flushed");

      Crmpi.Result again = c.run("restart", daemonEnv(), List.of("restart", "ring"));
      assertEquals(0, again.exitCode(), again.describe());
      Matcher restored = Pattern.compile("epoch (\\d+): restored; ").matcher(again.stderr());
      assertTrue(restored.find() && Long.parseLong(restored.group(1)) >= 3,
          "not resumed from epoch 3 or a later one:\n" + again.describe());
      assertArrayEquals(Crmpi.reference(RANKS, "ring", "ring.out", ITERS),
          Files.readAllBytes(c.workdir.resolve("ring.out")), "ring.out differs from an uninterrupted run");

      // Every pack left is named by a recipe of an epoch still kept (or is of the newest flushed epoch or later).
      java.util.Set<String> named = new java.util.HashSet<>();
      try (Stream<Path> files = Files.walk(checkpoints.resolve("epochs"))) {
        for (Path recipe : files.filter(p -> p.toString().endsWith(".crmpi-chunks")).toList()) {
          named.addAll(io.crmpi.chunks.ChunkRecipe.decode(Files.readAllBytes(recipe)).packs());
        }
      }
      assertFalse(named.isEmpty(), "no recipe kept: the flushes did not store chunks");
      String newest = newestFlushedPrefix(checkpoints);
      try (Stream<Path> packs = Files.list(checkpoints.resolve("chunks/packs"))) {
        List<String> dead = packs.map(p -> p.getFileName().toString()).filter(p -> !named.contains(p))
            .filter(p -> p.compareTo(newest) < 0).toList();
        assertEquals(List.of(), dead, "packs no checkpoint uses were left");
      }
    } finally {
      Crmpi.deleteTree(shm);
    }
  }

  /**
   * The node-local disk fills up (a file of someone else's takes the last
   * byte of a 64 MiB tmpfs) while the job runs: the checkpoints that hit
   * the full disk abort, the job keeps running, and once there is room
   * again the next checkpoints commit; the output is byte-identical.
   */
  @Test
  void aFullNodeLocalDiskCostsOnlyTheCheckpointsThatHitIt() throws Exception {
    Path dir = Files.createTempDirectory(Path.of("/tmp"), "crmpi-enospc-");
    assertEquals(0, new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=64m,mode=1777", "crmpi-enospc",
        dir.toString()).inheritIO().start().waitFor(), "mount a 64 MiB tmpfs on " + dir);
    try {
      Crmpi c = userJob();
      Process crmpi = c.start("run", daemonEnv(), List.of("run", "--name", "ring", "--interval", "1s", "--keep", "2",
          "--local-dir", dir.toString(), "--local-keep", "1", "--", "mpirun", "-np", Integer.toString(RANKS),
          "--oversubscribe", Crmpi.MPI_BIN.resolve("ring").toString(), ITERS));
      c.awaitHistory("ring", "\"kind\":\"committed\"", 2, crmpi);
      Path filler = dir.resolve("filler");
      new ProcessBuilder("dd", "if=/dev/zero", "of=" + filler, "bs=1M").redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor(); // ends with ENOSPC: the disk is full
      c.awaitHistory("ring", "\"kind\":\"aborted\"", 1, crmpi);
      long committed = Files.readAllLines(c.jobDir("ring").resolve("history.jsonl")).stream()
          .filter(l -> l.contains("\"kind\":\"committed\"")).count();
      Files.delete(filler);
      c.awaitHistory("ring", "\"kind\":\"committed\"", committed + 2, crmpi);
      Crmpi.Result r = c.await("run", crmpi);
      assertEquals(0, r.exitCode(), r.describe());
      String history = Files.readString(c.jobDir("ring").resolve("history.jsonl"));
      history.lines().filter(l -> l.contains("\"aborted\"")).limit(2).forEach(System.out::println);
      for (String aborted : history.lines().filter(l -> l.contains("\"aborted\"")).toList()) {
        assertTrue(aborted.contains("DUMP_FAILED") || aborted.contains("PERSIST_FAILED"), aborted);
      }
      assertTrue(history.contains("ran out of space"), "no abort says the disk is full:\n" + history);
      assertArrayEquals(Crmpi.reference(RANKS, "ring", "ring.out", ITERS),
          Files.readAllBytes(c.workdir.resolve("ring.out")), "ring.out differs from an uninterrupted run");
    } finally {
      new ProcessBuilder("umount", dir.toString()).inheritIO().start().waitFor();
      Files.deleteIfExists(dir);
    }
  }

  /** The pack-name prefix (ten-digit epoch) of the newest epoch whose manifest holds the shared level. */
  private static String newestFlushedPrefix(Path checkpoints) throws Exception {
    String newest = "9999999999";
    try (Stream<Path> epochs = Files.list(checkpoints.resolve("epochs"))) {
      for (Path e : epochs.sorted().toList()) {
        Path m = e.resolve("manifest.json");
        if (Files.exists(m) && Files.readString(m).contains("\"shared\"")) {
          newest = e.getFileName().toString();
        }
      }
    }
    return newest;
  }
}
