package io.crmpi.mpitests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The fault matrix: a real 4-rank job of the ordinary user crmpi-test1,
 * with one fault injected (CRMPI_FAULTS) at one phase of its second
 * checkpoint: the step fails, or the process that reaches it (crmpi run: the
 * coordinator and its node agent) is killed with SIGKILL. Every case ends
 * with the job's output identical to an uninterrupted run's, after `crmpi
 * restart` where crmpi was killed, and the restart resumes from the newest
 * epoch that was committed (never from one that was not). Nothing of the
 * job is left running. The table goes to target/fault-matrix.md
 * (scripts/fault-matrix.sh copies it into docs/reliability.md).
 */
class FaultMatrixTest extends UserJobTest {
  private static final int RANKS = 4;
  private static final String ITERS = "2500";
  private static final List<String> ROWS = new ArrayList<>();

  @ParameterizedTest(name = "{0}")
  @CsvSource({
      "prepare@2, fail, PREPARE_FAILED",
      "dump@2, fail, DUMP_FAILED",
      "persist@2, fail, PERSIST_FAILED",
      "commit@2, fail, COMMIT_FAILED",
      "committed@2, fail, 'committed, but after the commit'",
      "retention@*, fail, retention failed",
      "dump@2:kill, kill, 1",
      "persist@2:kill, kill, 1",
      "commit@2:kill, kill, 1",
      "committed@2:kill, kill, 2",
      "retention@2:kill, kill, 2",
  })
  void theJobEndsCorrectWhateverFailsAtTheSecondCheckpoint(String fault, String kind, String expect)
      throws Exception {
    Crmpi c = userJob();
    long start = System.nanoTime();
    Process crmpi = c.start("run", daemonEnv("CRMPI_FAULTS", fault), List.of("run", "--name", "ring", "--interval",
        "1s", "--keep", "2", "--max-restarts", "2", "--", "mpirun", "-np", Integer.toString(RANKS),
        "--oversubscribe", Crmpi.MPI_BIN.resolve("ring").toString(), ITERS));
    Crmpi.Result r = c.await("run", crmpi);
    String result;
    if (kind.equals("fail")) {
      assertEquals(0, r.exitCode(), r.describe());
      String history = Files.readString(c.jobDir("ring").resolve("history.jsonl"));
      assertTrue(r.stderr().contains(expect) || history.contains(expect), "no '" + expect + "' in the log or the"
          + " history:\n" + r.describe() + "\n" + history);
      assertTrue(c.committedCount("ring") >= 2, "no checkpoint committed after the fault:\n" + r.describe());
      result = "the step fails; the job goes on and finishes (" + expect + ")";
    } else {
      assertNotEquals(0, r.exitCode(), r.describe());
      assertTrue(r.stderr().contains("injected fault '" + fault.substring(0, fault.indexOf('@')) + "' at epoch 2:"
          + " SIGKILL"), r.describe());
      awaitNoRanks(c);
      long killedAt = System.nanoTime();
      Crmpi.Result again = c.run("restart", daemonEnv(), List.of("restart", "ring"));
      assertEquals(0, again.exitCode(), again.describe());
      assertTrue(again.stderr().contains("epoch " + expect + ": restored"), "not restored from epoch " + expect
          + ":\n" + again.describe());
      result = "crmpi killed; `crmpi restart` resumes from epoch " + expect + " in "
          + String.format("%.1f", (System.nanoTime() - killedAt) / 1e9) + " s (to the job's end)";
    }
    assertArrayEquals(Crmpi.reference(RANKS, "ring", "ring.out", ITERS),
        Files.readAllBytes(c.workdir.resolve("ring.out")), "ring.out differs from an uninterrupted run");
    awaitNoRanks(c);
    synchronized (ROWS) {
      ROWS.add("| `" + fault + "` | " + result + " | identical | " + String.format("%.1f",
          (System.nanoTime() - start) / 1e9) + " |");
    }
  }

  /** No process of the owner's is left in the job's working directory (within 30 s). */
  private static void awaitNoRanks(Crmpi c) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    List<ProcessHandle> left;
    do {
      left = ProcessHandle.allProcesses().filter(p -> p.info().user().map(OWNER::equals).orElse(false)
          && link(p.pid(), "cwd").equals(c.workdir.toString())).toList();
      if (left.isEmpty()) {
        return;
      }
      Thread.sleep(100);
    } while (System.nanoTime() < deadline);
    throw new AssertionError("processes of the job were left: " + left.stream().map(p -> p.pid() + " "
        + p.info().commandLine().orElse("?")).toList());
  }

  @AfterAll
  static void writeTable() throws Exception {
    List<String> lines = new ArrayList<>(List.of("| fault (CRMPI_FAULTS) | what happens | ring.out | case, s |",
        "|---|---|---|---|"));
    lines.addAll(ROWS);
    Path out = Path.of("target/fault-matrix.md");
    Files.write(out, lines);
  }
}
