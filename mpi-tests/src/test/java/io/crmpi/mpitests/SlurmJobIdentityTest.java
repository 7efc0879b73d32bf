package io.crmpi.mpitests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Slurm job ids repeat: a cluster set up again numbers its jobs from 1.
 * Job 1 of a new cluster that shares its state directory with job 1 of an
 * earlier one must start afresh, never resume the other job's state, and
 * must leave that state where it can still be found. The jobs are an
 * ordinary user's (crmpi-test1).
 */
class SlurmJobIdentityTest {
  private static final SlurmTestCluster CLUSTER = new SlurmTestCluster(Path.of("/tmp/crmpi-slurm-id"), 39817);

  @Test
  void aNewClustersFirstJobNeverResumesAnEarlierJobWithTheSameId() throws Exception {
    Path base = Path.of("/tmp/crmpi-identity-it");
    Crmpi.deleteTree(base);
    Files.createDirectories(base);
    try {
      String first = runFirstJob(base);
      String second = runFirstJob(base);
      assertEquals(first, second, "the new cluster did not reuse the job id: this test needs it to");
      String log = SlurmTestCluster.read(base.resolve("job-" + second + ".out"));
      assertTrue(log.contains("held the state of an earlier Slurm job with the same id"), log);
      assertTrue(!log.contains("requeued by Slurm"), "a first run resumed:\n" + log);
      try (Stream<Path> s = Files.list(base.resolve("state/jobs"))) {
        assertEquals(1, s.filter(p -> p.getFileName().toString().startsWith(SlurmTestCluster.jobKey(first) + ".superseded-"))
            .count(), "the earlier job's state was not kept aside");
      }
      assertArrayEquals(Crmpi.reference(Crmpi.mpirun(2, "ring", "600"), "ring.out"),
          Files.readAllBytes(base.resolve("work/ring.out")), "ring.out differs from an uninterrupted run");
    } finally {
      CLUSTER.down();
      Crmpi.deleteTree(base);
    }
  }

  /** Sets the cluster up afresh and runs its first job (an ordinary user's) in base to its end. */
  private static String runFirstJob(Path base) throws Exception {
    CLUSTER.up(1);
    try (SlurmUserJobs user = SlurmUserJobs.start(CLUSTER)) {
      String job = user.submit(base, 1, List.of(), "--interval 1s", "600");
      CLUSTER.awaitCompleted(job, base, 120, false);
      return job;
    } finally {
      CLUSTER.down();
    }
  }
}
