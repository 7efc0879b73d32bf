package io.crmpi.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crmpi.store.FileCheckpointStore;
import io.crmpi.store.Manifest;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The benchmark's set-up commits real epochs (its figures are not checked here: that is the benchmark's job). */
class CoordinationBenchmarkTest {
  @TempDir
  Path dir;

  @Test
  void everyEpochOfManySimulatedAgentsIsCommittedWithEveryNodeInItsManifest() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      double[] ms = CoordinationBenchmark.run(dir.resolve("b"), 64, 50, 3, pool);
      assertEquals(3, ms.length);
      assertTrue(ms[0] > 0 && ms[0] <= ms[2], java.util.Arrays.toString(ms));
    } finally {
      pool.shutdownNow();
    }
    List<Manifest> kept = FileCheckpointStore.open(dir.resolve("b"), "bench").committed();
    assertEquals(2, kept.size(), "retention keeps 2 epochs");
    assertEquals(64, kept.get(1).nodes().size());
    assertEquals(33, kept.get(1).epoch(), "30 warm-up epochs and 3 measured");
  }
}
