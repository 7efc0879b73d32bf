package io.crmpi.mpitests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The commands a person (the ordinary user crmpi-test1) uses on their
 * running job: `crmpi checkpoint` from another terminal, `crmpi status`,
 * stopping crmpi with SIGTERM and resuming with `crmpi restart`.
 */
class ManualCheckpointTest extends UserJobTest {
  private static final int RANKS = 4;
  /**
   * Long enough that the job still runs after two checkpoints on request
   * and its status: at 2500, with the cheaper checkpoints of late, the job
   * sometimes ended before the status (CI of a8bb053: SUCCEEDED).
   */
  private static final String ITERS = "6000";
  /**
   * Long enough that the resumed job still runs when its restore's
   * probation (5 s, during which a vacate waits) is over: at 2500 the job
   * sometimes ended first and the SIGUSR1 found nothing left to vacate.
   */
  private static final String VACATE_ITERS = "6000";

  @Test
  void checkpointsOnRequestThenStopAndResume() throws Exception {
    Crmpi c = userJob();
    Map<String, String> env = daemonEnv();
    Process crmpi = c.start("run", env, List.of("run", "--name", "ring", "--interval", "none", "--",
        "mpirun", "-np", Integer.toString(RANKS), "--oversubscribe", Crmpi.MPI_BIN.resolve("ring").toString(), ITERS));
    awaitUsersRanks(c, "ring", RANKS);
    Crmpi.Result first = c.run("checkpoint1", env, List.of("checkpoint", "ring"));
    assertEquals(0, first.exitCode(), first.describe());
    assertTrue(first.stdout().startsWith("job ring epoch 1 committed: "), first.stdout());
    Crmpi.Result second = c.run("checkpoint2", env, List.of("checkpoint", "ring"));
    assertEquals(0, second.exitCode(), second.describe());
    assertTrue(second.stdout().startsWith("job ring epoch 2 committed: "), second.stdout());

    Crmpi.Result status = c.run("status", env, List.of("status", "ring"));
    assertEquals(0, status.exitCode(), status.describe());
    assertTrue(status.stdout().contains("state:     RUNNING"), status.stdout());
    assertTrue(status.stdout().matches("(?s).*EPOCH +STATE +TIME +SIZE +DUMP +FROZEN +TOTAL +NODES.*"), status.stdout());
    assertEquals(2, status.stdout().lines().filter(l -> l.matches(" +[12]  committed .*manual")).count(),
        status.stdout());

    // To crmpi's JVM, as the user would send it: crmpi.pid() is runuser's.
    new ProcessBuilder("kill", "-TERM", Long.toString(jvm(crmpi))).inheritIO().start().waitFor();
    Crmpi.Result stopped = c.await("run", crmpi);
    assertEquals(143, stopped.exitCode(), stopped.describe());
    Crmpi.Result after = c.run("status-after", env, List.of("status", "ring"));
    assertTrue(after.stdout().contains("state:     STOPPED"), after.stdout());
    Crmpi.Result refused = c.run("checkpoint3", env, List.of("checkpoint", "ring"));
    assertEquals(2, refused.exitCode(), refused.describe());
    assertTrue(refused.stderr().contains("is not running"), refused.stderr());

    Crmpi.Result resumed = c.run("restart", env, List.of("restart", "ring"));
    assertEquals(0, resumed.exitCode(), resumed.describe());
    assertTrue(resumed.stderr().contains("epoch 2: restored"), resumed.describe());
    assertArrayEquals(Crmpi.reference(RANKS, "ring", "ring.out", ITERS),
        Files.readAllBytes(c.workdir.resolve("ring.out")), "ring.out differs from an uninterrupted run");
  }

  @Test
  void aVacateCheckpointsEndsAndLaterResumesTheJob() throws Exception {
    Crmpi c = userJob();
    Map<String, String> env = daemonEnv();
    Process crmpi = c.start("run", env, List.of("run", "--name", "ring", "--interval", "none", "--",
        "mpirun", "-np", Integer.toString(RANKS), "--oversubscribe", Crmpi.MPI_BIN.resolve("ring").toString(),
        VACATE_ITERS));
    awaitUsersRanks(c, "ring", RANKS);
    Crmpi.Result vacate = c.run("vacate", env, List.of("vacate", "ring"));
    assertEquals(0, vacate.exitCode(), vacate.describe());
    assertTrue(vacate.stdout().contains("epoch 1 committed") && vacate.stdout().contains("vacated"), vacate.stdout());
    Crmpi.Result run = c.await("run", crmpi);
    assertEquals(75, run.exitCode(), run.describe());
    assertTrue(c.run("status", env, List.of("status", "ring")).stdout().contains("vacated after its checkpoint"));

    // Resumed, then vacated again by SIGUSR1 (what Slurm sends before a walltime limit).
    Process again = c.start("restart", env, List.of("restart", "ring"));
    awaitUsersRanks(c, "ring", RANKS);
    new ProcessBuilder("kill", "-USR1", Long.toString(jvm(again))).inheritIO().start().waitFor();
    Crmpi.Result second = c.await("restart", again);
    assertEquals(75, second.exitCode(), second.describe());

    Crmpi.Result last = c.run("restart2", env, List.of("restart", "ring"));
    assertEquals(0, last.exitCode(), last.describe());
    assertTrue(last.stderr().contains("epoch 2: restored"), last.describe());
    assertArrayEquals(Crmpi.reference(RANKS, "ring", "ring.out", VACATE_ITERS),
        Files.readAllBytes(c.workdir.resolve("ring.out")), "ring.out differs from an uninterrupted run");
  }
}
