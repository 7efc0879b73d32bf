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
 * with faults injected (CRMPI_FAULTS) at the phases of its checkpoints and
 * restores. A step fails; the process that reaches it (crmpi run: the
 * coordinator and its node agent) is killed with SIGKILL; or one rank of the
 * tree is killed with SIGKILL there. Where the case says so, the test kills
 * a rank itself once epoch 2 is committed (later checkpoints are made to
 * fail, so epoch 2 stays the newest) to drive a restore through its faults.
 * Every case ends with the job's output identical to an uninterrupted run's,
 * after `crmpi restart` where crmpi was killed, restored from the epoch the
 * case names (never from one that was not committed), or with a clear
 * refusal where the job could not start. Nothing of the job is left running.
 * The table goes to target/fault-matrix.md (scripts/fault-matrix.sh copies
 * it into docs/reliability.md).
 */
class FaultMatrixTest extends UserJobTest {
  private static final int RANKS = 4;
  private static final String ITERS = "2500";
  private static final List<String> ROWS = new ArrayList<>();

  /**
   * @param fault CRMPI_FAULTS for the run
   * @param trigger "-", or "rank@2": the test kills a rank once epoch 2 is committed
   * @param kind fail (the step fails, the job goes on), recover (the job restores itself and ends well),
   *     kill (crmpi is killed; `crmpi restart` ends the job), refuse (the job cannot start, and says why)
   * @param expect what the log or the history must say
   * @param epoch the epoch restored from: a number, "*" for whichever was newest, "-" for none
   */
  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({
      "launch@0, -, refuse, injected fault 'launch' at epoch 0, -",
      "prepare@2, -, fail, PREPARE_FAILED, -",
      "freeze@2, -, fail, injected fault 'freeze' at epoch 2, -",
      "dump@2, -, fail, DUMP_FAILED, -",
      "resume@2, -, recover, cannot resume its tree, 1",
      "persist@2, -, fail, PERSIST_FAILED, -",
      "commit@2, -, fail, COMMIT_FAILED, -",
      "seal@2, -, fail, SEAL_FAILED, -",
      "committed@2, -, fail, 'committed, but after the commit', -",
      "retention@*, -, fail, retention failed, -",
      "prepare@2:killrank, -, recover, SIGKILL to rank process, *",
      "freeze@2:killrank, -, recover, SIGKILL to rank process, *",
      "dump@2:killrank, -, recover, SIGKILL to rank process, *",
      "resume@2:killrank, -, recover, SIGKILL to rank process, *",
      "persist@2:killrank, -, recover, SIGKILL to rank process, *",
      "seal@2:killrank, -, recover, SIGKILL to rank process, 2",
      "dump@2:kill, -, kill, injected fault 'dump' at epoch 2: SIGKILL, 1",
      "persist@2:kill, -, kill, injected fault 'persist' at epoch 2: SIGKILL, 1",
      "commit@2:kill, -, kill, injected fault 'commit' at epoch 2: SIGKILL, 1",
      "committed@2:kill, -, kill, injected fault 'committed' at epoch 2: SIGKILL, 2",
      "seal@2:kill, -, kill, injected fault 'seal' at epoch 2: SIGKILL, 2",
      "retention@2:kill, -, kill, injected fault 'retention' at epoch 2: SIGKILL, 2",
      "'prepare@3-,verify@2', rank@2, recover, epoch 2 is damaged and skipped, 1",
      "'prepare@3-,restore@2', rank@2, recover, injected fault 'restore' at epoch 2, 1",
      "'prepare@3-,verify@2:kill', rank@2, kill, injected fault 'verify' at epoch 2: SIGKILL, 2",
      "'prepare@3-,restore@2:kill', rank@2, kill, injected fault 'restore' at epoch 2: SIGKILL, 2",
  })
  void theJobEndsCorrectWhateverFails(String fault, String trigger, String kind, String expect, String epoch)
      throws Exception {
    Crmpi c = userJob();
    long start = System.nanoTime();
    Process crmpi = c.start("run", daemonEnv("CRMPI_FAULTS", fault), List.of("run", "--name", "ring", "--interval",
        "1s", "--keep", "2", "--max-restarts", "2", "--", "mpirun", "-np", Integer.toString(RANKS),
        "--oversubscribe", Crmpi.MPI_BIN.resolve("ring").toString(), ITERS));
    if (trigger.equals("rank@2")) {
      c.awaitCommitted("ring", 2, crmpi);
      ProcessHandle rank = awaitUsersRanks(c, "ring", RANKS).get(0);
      rank.destroyForcibly();
    }
    Crmpi.Result r = c.await("run", crmpi);
    String history = Files.exists(c.jobDir("ring").resolve("history.jsonl"))
        ? Files.readString(c.jobDir("ring").resolve("history.jsonl")) : "";
    String result;
    switch (kind) {
      case "refuse" -> {
        assertNotEquals(0, r.exitCode(), r.describe());
        assertTrue(r.stderr().contains(expect), "no '" + expect + "' in the log:\n" + r.describe());
        assertEquals(0, c.committedCount("ring"), "a job that never started committed an epoch");
        String state = Files.readString(c.jobDir("ring").resolve("state.json"));
        assertTrue(state.contains("FAILED") && state.contains("could not start"), "not recorded as failed: " + state);
        awaitNoRanks(c);
        record(fault, trigger, "the job does not start, and says why (exit " + r.exitCode() + ")", "-", start);
        return;
      }
      case "fail" -> {
        assertEquals(0, r.exitCode(), r.describe());
        assertTrue(r.stderr().contains(expect) || history.contains(expect), "no '" + expect + "' in the log or the"
            + " history:\n" + r.describe() + "\n" + history);
        assertTrue(c.committedCount("ring") >= 2, "no checkpoint committed after the fault:\n" + r.describe());
        result = "the step fails; the job goes on and finishes (" + expect + ")";
      }
      case "recover" -> {
        assertEquals(0, r.exitCode(), r.describe());
        assertTrue(r.stderr().contains(expect) || history.contains(expect), "no '" + expect + "' in the log or the"
            + " history:\n" + r.describe() + "\n" + history);
        String restored = restoredEpoch(r.stderr(), epoch);
        result = "the job restores itself from epoch " + restored + " and finishes (" + expect + ")";
      }
      case "kill" -> {
        assertNotEquals(0, r.exitCode(), r.describe());
        assertTrue(r.stderr().contains(expect), r.describe());
        awaitNoRanks(c);
        long killedAt = System.nanoTime();
        Crmpi.Result again = c.run("restart", daemonEnv(), List.of("restart", "ring"));
        assertEquals(0, again.exitCode(), again.describe());
        restoredEpoch(again.stderr(), epoch);
        result = "crmpi killed; `crmpi restart` resumes from epoch " + epoch + " in "
            + String.format("%.1f", (System.nanoTime() - killedAt) / 1e9) + " s (to the job's end)";
      }
      default -> throw new IllegalArgumentException(kind);
    }
    assertArrayEquals(Crmpi.reference(RANKS, "ring", "ring.out", ITERS),
        Files.readAllBytes(c.workdir.resolve("ring.out")), "ring.out differs from an uninterrupted run");
    awaitNoRanks(c);
    record(fault, trigger, result, "identical", start);
  }

  /** The epoch the log says the job was restored from; it must be want (a number, or "*" for any). */
  private static String restoredEpoch(String log, String want) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("epoch (\\d+): restored; ").matcher(log);
    String last = null;
    while (m.find()) {
      last = m.group(1);
    }
    assertTrue(last != null, "the job was not restored:\n" + log);
    if (!want.equals("*")) {
      assertEquals(want, last, "restored from the wrong epoch:\n" + log);
    }
    return last;
  }

  private static void record(String fault, String trigger, String result, String output, long start) {
    synchronized (ROWS) {
      ROWS.add("| `" + fault + "`" + (trigger.equals("-") ? "" : " + rank killed after epoch 2") + " | " + result
          + " | " + output + " | " + String.format("%.1f", (System.nanoTime() - start) / 1e9) + " |");
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
