package io.crmpi.mpitests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The application-assisted engine with real Open MPI: appring saves its own
 * state through libcrmpi's callbacks at quiesced points; after a rank is
 * killed, crmpi starts the job afresh, the program reads its state back and
 * finishes with the uninterrupted run's output.
 */
class AppEngineTest {
  private static final int RANKS = 4;
  private static final String ITERS = "2500";

  @TempDir Path tmp;

  @Test
  void aJobRestartedFromItsOwnStateFinishesWithTheUninterruptedOutput() throws Exception {
    Crmpi c = new Crmpi(tmp);
    Process crmpi = c.start("run", Map.of(), List.of("run", "--name", "app", "--engine", "app", "--interval", "1s",
        "--max-restarts", "2", "--", "mpirun", "-np", Integer.toString(RANKS), "--oversubscribe",
        Crmpi.MPI_BIN.resolve("appring").toString(), ITERS));
    c.awaitCommitted("app", 2, crmpi);
    List<ProcessHandle> ranks = Crmpi.awaitRanks(crmpi, "appring", RANKS);
    Crmpi.kill9(ranks.get(3).pid());
    Crmpi.Result r = c.await("run", crmpi);
    assertEquals(0, r.exitCode(), r.describe());
    assertTrue(r.stdout().contains("appring: restarted from epoch"), "the job did not restart from its state:\n"
        + r.describe());
    String manifest = c.run("manifest", Map.of(), List.of("manifest", "app")).stdout();
    assertTrue(manifest.contains("engine:   app"), manifest);
    assertArrayEquals(Crmpi.reference(RANKS, "appring", "appring.out", ITERS),
        Files.readAllBytes(c.workdir.resolve("appring.out")), "appring.out differs from an uninterrupted run");
  }
}
