package io.crmpi.mpitests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * libcrmpi's quiesce with real Open MPI and CRIU: a program that always
 * has messages in flight (eager bursts, rendezvous-size messages, pending
 * Isend/Irecv, ANY_SOURCE receives, a rank blocked in Recv, collectives on
 * two communicators) is checkpointed every second with every rank
 * quiesced and drained, then killed and restored. Every message is checked
 * on arrival, and the output is compared with an uninterrupted run. The
 * jobs are the ordinary user crmpi-test1's, run by the class's crmpid.
 */
class QuiesceTest extends UserJobTest {
  private static final int RANKS = 4;
  private static final String ITERS = "1500";
  private static final Path LIBCRMPI = Crmpi.REPO.resolve("native/target/bin/libcrmpi.so");

  private static List<String> preloaded(String program, String iters) {
    List<String> cmd = new ArrayList<>(List.of("mpirun", "-np", Integer.toString(RANKS), "--oversubscribe",
        "-x", "LD_PRELOAD=" + LIBCRMPI, "-x", "CRMPI_TEST_CRITICAL"));
    cmd.add(Crmpi.MPI_BIN.resolve(program).toString());
    cmd.add(iters);
    return cmd;
  }

  private static List<String> run(String name, String interval, String prepareTimeout, List<String> command) {
    List<String> args = new ArrayList<>(List.of("run", "--name", name, "--interval", interval,
        "--prepare-timeout", prepareTimeout, "--max-restarts", "3", "--"));
    args.addAll(command);
    return args;
  }

  @Test
  void quiescedCheckpointsAndARestoreDeliverEveryMessageOnce() throws Exception {
    Crmpi c = userJob();
    Process crmpi = c.start("run", daemonEnv("CRMPI_TEST_CRITICAL", "0"),
        run("inflight", "1s", "20s", preloaded("inflight", ITERS)));
    c.awaitCommitted("inflight", 2, crmpi);
    List<ProcessHandle> ranks = awaitUsersRanks(c, "inflight", RANKS);
    Crmpi.kill9(ranks.get(1).pid());
    Crmpi.Result r = c.await("run", crmpi);
    assertEquals(0, r.exitCode(), r.describe());
    String log = Files.readString(c.jobDir("inflight").resolve("crmpi.log"));
    assertTrue(log.contains("quiesced " + RANKS + " ranks"), "no epoch was quiesced by libcrmpi:\n" + r.describe());
    assertTrue(r.stderr().contains("restored; the job continues"), "no restore happened:\n" + r.describe());
    assertArrayEquals(Crmpi.reference(RANKS, "inflight", "inflight.out", ITERS),
        Files.readAllBytes(c.workdir.resolve("inflight.out")), "inflight.out differs from an uninterrupted run");
  }

  @Test
  void mpichRanksAreQuiescedCheckpointedAndRestoredToo() throws Exception {
    Crmpi c = userJob();
    Path lib = Crmpi.REPO.resolve("native/target/bin/libcrmpi-mpich.so");
    List<String> command = Crmpi.mpiexecMpich(RANKS, List.of("-genv", "LD_PRELOAD", lib.toString()),
        "inflight-mpich", "300");
    Process crmpi = c.start("run", daemonEnv(), run("mpich", "1s", "20s", command));
    c.awaitCommitted("mpich", 2, crmpi);
    List<ProcessHandle> ranks = awaitUsersRanks(c, "inflight-mpich", RANKS);
    Crmpi.kill9(ranks.get(2).pid());
    Crmpi.Result r = c.await("run", crmpi);
    assertEquals(0, r.exitCode(), r.describe());
    String log = Files.readString(c.jobDir("mpich").resolve("crmpi.log"));
    assertTrue(log.contains("quiesced " + RANKS + " ranks"), "no epoch was quiesced by libcrmpi:\n" + r.describe());
    assertTrue(r.stderr().contains("restored; the job continues"), "no restore happened:\n" + r.describe());
    assertArrayEquals(Crmpi.reference(Crmpi.mpiexecMpich(RANKS, List.of(), "inflight-mpich", "300"), "inflight.out"),
        Files.readAllBytes(c.workdir.resolve("inflight.out")), "inflight.out differs from an uninterrupted run");
  }

  @Test
  void aQuiesceThatCannotCompleteAbortsAndTheJobRunsOn() throws Exception {
    Crmpi c = userJob();
    // Rank 1 computes for 6 s inside a critical section at iteration 20; quiesces time out after 1.5 s.
    Crmpi.Result r = c.run("run", daemonEnv("CRMPI_TEST_CRITICAL", "6"),
        run("critical", "1s", "2s", preloaded("inflight-crmpi", "400")));
    assertEquals(0, r.exitCode(), r.describe());
    String history = Files.readString(c.jobDir("critical").resolve("history.jsonl"));
    assertTrue(history.contains("PREPARE_FAILED") && history.contains("quiesce timed out"),
        "no quiesce timed out:\n" + history);
    assertArrayEquals(Crmpi.reference(RANKS, "inflight", "inflight.out", "400"),
        Files.readAllBytes(c.workdir.resolve("inflight.out")), "inflight.out differs from an uninterrupted run");
  }
}
