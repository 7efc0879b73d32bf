package io.crmpi.mpitests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Slurm's SIGUSR1 (--signal before a walltime limit, or at a preemption)
 * may come while crmpi is still starting: an ordinary user's job that gets
 * it while its JVM boots is vacated once it runs (never killed by the
 * signal), and its restart ends byte-identical to an uninterrupted run.
 */
class EarlyVacateTest extends UserJobTest {
  private static final String ITERS = "3000";

  @Test
  void aSignalWhileCrmpiStartsVacatesTheJobOnceItRuns() throws Exception {
    Crmpi c = userJob();
    Map<String, String> env = daemonEnv();
    Process p = c.start("run", env, List.of("run", "--name", "ring", "--interval", "none", "--",
        "mpirun", "-np", "2", Crmpi.MPI_BIN.resolve("ring").toString(), ITERS));
    long jvm = jvm(p);
    // The JVM has just been exec'ed: crmpi's handler is seconds away (the job is not even started).
    Process kill = new ProcessBuilder("kill", "-USR1", Long.toString(jvm)).inheritIO().start();
    assertEquals(0, kill.waitFor());
    Crmpi.Result r = c.await("run", p);
    assertEquals(75, r.exitCode(), "not vacated:\n" + r.describe());
    assertTrue(r.stderr().contains("vacated after its checkpoint at epoch 1"), r.describe());
    Crmpi.Result restart = c.run("restart", env, List.of("restart", "ring"));
    assertEquals(0, restart.exitCode(), restart.describe());
    assertArrayEquals(Crmpi.reference(Crmpi.mpirun(2, "ring", ITERS), "ring.out"),
        Files.readAllBytes(c.workdir.resolve("ring.out")), "ring.out differs from an uninterrupted run");
  }
}
