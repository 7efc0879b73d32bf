package io.crmpi.slurm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class SlurmJobTest {
  @Test
  void theJobIdIsTheJobKeyAcrossRequeues() {
    SlurmJob first = SlurmJob.fromEnvironment(Map.of("SLURM_JOB_ID", "42")).orElseThrow();
    SlurmJob requeued = SlurmJob.fromEnvironment(Map.of("SLURM_JOB_ID", "42", "SLURM_RESTART_COUNT", "2"))
        .orElseThrow();
    assertEquals("slurm-42", first.jobKey());
    assertEquals(first.jobKey(), requeued.jobKey());
    assertEquals(2, requeued.restartCount());
  }

  @Test
  void outsideSlurmThereIsNoJob() {
    assertTrue(SlurmJob.fromEnvironment(Map.of()).isEmpty());
  }

  @Test
  void aMalformedJobIdIsReported() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SlurmJob.fromEnvironment(Map.of("SLURM_JOB_ID", "abc")));
    assertTrue(e.getMessage().contains("abc"), e.getMessage());
  }
}
