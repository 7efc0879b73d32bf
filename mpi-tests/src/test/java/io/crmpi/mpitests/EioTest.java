package io.crmpi.mpitests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Real EIO from the kernel on the state directory: it is a FUSE file system
 * (eiofs, built with the test programs) over a directory of the test, which
 * answers chosen reads or writes with EIO the way a failing disk or a broken
 * network file system does. Jobs are crmpi-test1's, through crmpid.
 *
 * <ul>
 *   <li>Writes of image pages fail for a while: those checkpoints are
 *       aborted, the job runs on, later checkpoints commit, and it ends
 *       with exit 0 and an uninterrupted run's output.
 *   <li>Reads of the newest epoch's pages fail, and then a rank is killed:
 *       that epoch is refused, the job is restored from the one before, and
 *       its output is byte-identical to an uninterrupted run's.
 * </ul>
 */
class EioTest extends UserJobTest {
  private static final int RANKS = 4;
  private static final String ITERS = "8000";

  @Test
  void failingImageWritesCostOnlyThoseCheckpoints() throws Exception {
    Crmpi c = userJob();
    Path backing = mount(c);
    try {
      Process crmpi = c.start("run", daemonEnv(), List.of("run", "--name", "ring", "--interval", "1s", "--keep",
          "2", "--keep-after-success", "--", "mpirun", "-np", Integer.toString(RANKS), "--oversubscribe",
          Crmpi.MPI_BIN.resolve("ring").toString(), ITERS));
      c.awaitCommitted("ring", 1, crmpi);
      Files.writeString(backing.resolve(".eio"), "write pages-\n");
      awaitHistory(c, "\"kind\":\"aborted\"", crmpi);
      long committed = c.committedCount("ring");
      Files.writeString(backing.resolve(".eio"), "");
      c.awaitCommitted("ring", committed + 1, crmpi);
      Crmpi.Result r = c.await("run", crmpi);

      assertEquals(0, r.exitCode(), r.describe());
      assertTrue(r.stderr().contains("Input/output error"), "the EIO is not named in the log:\n" + r.describe());
      assertArrayEquals(Crmpi.reference(RANKS, "ring", "ring.out", ITERS),
          Files.readAllBytes(c.workdir.resolve("ring.out")), "ring.out differs from an uninterrupted run");
      Crmpi.Result verify = c.run("verify", daemonEnv(), List.of("manifest", "--verify", "ring"));
      assertEquals(0, verify.exitCode(), "the newest committed epoch does not verify:\n" + verify.describe());
    } finally {
      unmount(c);
    }
  }

  @Test
  void anUnreadableNewestEpochIsRefusedAndTheOneBeforeIsRestored() throws Exception {
    Crmpi c = userJob();
    Path backing = mount(c);
    try {
      Process crmpi = c.start("run", daemonEnv(), List.of("run", "--name", "ring", "--interval", "none", "--keep",
          "3", "--max-restarts", "3", "--", "mpirun", "-np", Integer.toString(RANKS), "--oversubscribe",
          Crmpi.MPI_BIN.resolve("ring").toString(), ITERS));
      List<ProcessHandle> ranks = awaitUsersRanks(c, "ring", RANKS);
      for (int i = 1; i <= 2; i++) {
        Crmpi.Result checkpoint = c.run("checkpoint" + i, daemonEnv(), List.of("checkpoint", "ring"));
        assertEquals(0, checkpoint.exitCode(), checkpoint.describe());
      }
      List<Path> epochs = c.committedEpochs("ring");
      assertEquals(2, epochs.size(), "committed epochs: " + epochs);
      String newest = epochs.get(1).getFileName().toString();
      String older = epochs.get(0).getFileName().toString();
      Files.writeString(backing.resolve(".eio"), "read /" + newest + "/nodes/local/image/pages-\n");
      Crmpi.kill9(ranks.get(0).pid());
      Crmpi.Result r = c.await("run", crmpi);

      assertEquals(0, r.exitCode(), r.describe());
      String history = Files.readString(c.jobDir("ring").resolve("history.jsonl"));
      long newestEpoch = Long.parseLong(newest);
      long olderEpoch = Long.parseLong(older);
      assertFalse(history.contains("\"kind\":\"restart\",\"epoch\":" + newestEpoch + ","),
          "the unreadable epoch " + newestEpoch + " was restored:\n" + history);
      assertTrue(history.contains("\"kind\":\"restart\",\"epoch\":" + olderEpoch + ","),
          "the job was not restored from epoch " + olderEpoch + ":\n" + history + "\n" + r.describe());
      assertTrue(r.stderr().matches("(?s).*cannot read image file pages-\\d+\\.img: Input/output error.*"),
          "the unreadable file is not named in the log:\n" + r.describe());
      assertArrayEquals(Crmpi.reference(RANKS, "ring", "ring.out", ITERS),
          Files.readAllBytes(c.workdir.resolve("ring.out")), "ring.out differs from an uninterrupted run");
    } finally {
      unmount(c);
    }
  }

  /** Puts eiofs over c.state (the owner's, like the directory under it) and returns its backing directory. */
  private static Path mount(Crmpi c) throws Exception {
    Path backing = Files.createDirectory(c.base.resolve("backing"));
    run("chown", OWNER + ":", backing.toString());
    run(Crmpi.MPI_BIN.resolve("eiofs").toString(), backing.toString(), c.state.toString(), "-o",
        "allow_other,default_permissions,fsname=crmpi-eiofs");
    return backing;
  }

  private static void unmount(Crmpi c) throws Exception {
    new ProcessBuilder("umount", "-l", c.state.toString()).inheritIO().start().waitFor(30, TimeUnit.SECONDS);
  }

  private static void awaitHistory(Crmpi c, String text, Process crmpi) throws Exception {
    Path h = c.jobDir("ring").resolve("history.jsonl");
    long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
    while (!(Files.exists(h) && Files.readString(h).contains(text))) {
      assertTrue(crmpi.isAlive(), "crmpi ended before its history showed " + text);
      assertTrue(System.nanoTime() < deadline, "no " + text + " in the history within a minute");
      Thread.sleep(100);
    }
  }

  private static String run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes()).strip();
    assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, String.join(" ", cmd) + ": " + out);
    return out;
  }
}
