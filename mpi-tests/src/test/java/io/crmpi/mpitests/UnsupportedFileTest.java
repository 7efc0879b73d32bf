package io.crmpi.mpitests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A job CRIU cannot checkpoint (it holds a perf event, perfholder.c), of
 * the ordinary user crmpi-test1: every checkpoint fails in a real criu
 * dump, and each failure says in one line what the cause is and what to
 * do, pointing to docs/troubleshooting.md. The job is never harmed by its
 * own failed checkpoints: it runs to its end, exits 0, and its output is
 * what it would have been without crmpi.
 */
class UnsupportedFileTest extends UserJobTest {
  private static final int STEPS = 200;

  @Test
  void aJobCriuCannotCheckpointRunsOnAndEachFailureSaysWhatToDo() throws Exception {
    Crmpi c = userJob();
    Crmpi.Result r = c.run("run", daemonEnv(), List.of("run", "--name", "perf", "--interval", "1s",
        "--max-restarts", "0", "--", Crmpi.MPI_BIN.resolve("perfholder").toString(), Integer.toString(STEPS)));
    assertEquals(0, r.exitCode(), r.describe());
    String log = r.stderr();
    assertTrue(log.contains("DUMP_FAILED"), "no checkpoint failed:\n" + r.describe());
    assertTrue(log.contains("the job holds a file CRIU cannot checkpoint (descriptor ")
        && log.contains("anon_inode:[perf_event])")
        && log.contains("(docs/troubleshooting.md#unsupported-file)"), "the failure does not say why:\n"
        + r.describe());
    assertEquals(0, c.committedCount("perf"), "an epoch of a job CRIU cannot dump was committed");
    // The aborted epoch's directory is gone; CRIU's log of the failure is kept where the message says.
    java.nio.file.Path kept = c.jobDir("perf").resolve("run/local/failed-dump.log");
    assertTrue(log.contains("(full log: " + kept + ", epoch "), r.describe());
    assertTrue(Files.readString(kept).contains("anon_inode:[perf_event]"), "the kept log is not CRIU's");
    assertArrayEquals(expected(), Files.readAllBytes(c.workdir.resolve("perfholder.out")),
        "perfholder.out differs from what the program writes without crmpi");
  }

  /** What perfholder writes: step i and the i-th value of its 64-bit LCG. */
  private static byte[] expected() {
    StringBuilder b = new StringBuilder();
    long x = 1;
    for (int i = 1; i <= STEPS; i++) {
      x = x * 6364136223846793005L + 1442695040888963407L;
      b.append("step ").append(i).append(' ').append(Long.toUnsignedString(x)).append('\n');
    }
    return b.toString().getBytes(StandardCharsets.US_ASCII);
  }
}
