package io.crmpi.mpitests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A full state directory costs only checkpoints: the state directory of a
 * real job of crmpi-test1 is a tmpfs that, once the first epoch is
 * committed, is shrunk to leave room for half an epoch. Later checkpoints
 * are skipped or aborted; the job runs on, ends with exit 0 and the output
 * of an uninterrupted run, and its newest committed epoch still verifies.
 */
class FullDiskTest extends UserJobTest {
  private static final int RANKS = 4;
  private static final String ITERS = "10000";

  @Test
  void aFullStateDirectoryCostsOnlyCheckpoints() throws Exception {
    Crmpi c = userJob();
    String ids = "uid=" + run("id", "-u", OWNER) + ",gid=" + run("id", "-g", OWNER);
    run("mount", "-t", "tmpfs", "-o", "size=512m,mode=0755," + ids, "crmpi-full-disk", c.state.toString());
    try {
      Process crmpi = c.start("run", daemonEnv(), List.of("run", "--name", "ring", "--interval", "1s", "--keep",
          "2", "--keep-after-success", "--", "mpirun", "-np", Integer.toString(RANKS), "--oversubscribe",
          Crmpi.MPI_BIN.resolve("ring").toString(), ITERS));
      c.awaitCommitted("ring", 1, crmpi);
      FileStore fs = Files.getFileStore(c.state);
      long used = fs.getTotalSpace() - fs.getUsableSpace();
      long epoch = Crmpi.sizeOf(c.committedEpochs("ring").get(0));
      run("mount", "-o", "remount,size=" + ((used + epoch / 2) / 1024 + 1) + "k", c.state.toString());
      long committedBefore = c.committedCount("ring");
      Crmpi.Result r = c.await("run", crmpi);

      assertEquals(0, r.exitCode(), r.describe());
      String history = Files.readString(c.jobDir("ring").resolve("history.jsonl"));
      assertTrue(history.contains("\"kind\":\"skipped\"") || history.contains("\"kind\":\"aborted\""),
          "no checkpoint was skipped or aborted on the full disk:\n" + history + "\n" + r.describe());
      assertArrayEquals(Crmpi.reference(RANKS, "ring", "ring.out", ITERS),
          Files.readAllBytes(c.workdir.resolve("ring.out")), "ring.out differs from an uninterrupted run");
      assertTrue(c.committedCount("ring") >= committedBefore, history);
      Crmpi.Result verify = c.run("verify", daemonEnv(), List.of("manifest", "--verify", "ring"));
      assertEquals(0, verify.exitCode(), "the newest committed epoch does not verify:\n" + verify.describe());
    } finally {
      new ProcessBuilder("umount", "-l", c.state.toString()).inheritIO().start().waitFor(30, TimeUnit.SECONDS);
    }
  }

  private static String run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes()).strip();
    assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, String.join(" ", cmd) + ": " + out);
    return out;
  }
}
