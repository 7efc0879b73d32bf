package io.crmpi.slurm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class SlurmJobTest {
  @Test
  void theKeyNamesTheJobIdTheClusterAndTheUserAndSurvivesRequeues() {
    SlurmJob first = SlurmJob.fromEnvironment(Map.of("SLURM_JOB_ID", "42", "SLURM_CLUSTER_NAME", "hal"), "alice")
        .orElseThrow();
    SlurmJob requeued = SlurmJob.fromEnvironment(Map.of("SLURM_JOB_ID", "42", "SLURM_RESTART_COUNT", "2",
        "SLURM_CLUSTER_NAME", "hal"), "alice").orElseThrow();
    assertEquals("slurm-42.hal.alice", first.jobKey());
    assertEquals(first.jobKey(), requeued.jobKey());
    assertEquals(2, requeued.restartCount());
    assertEquals(0, first.restartCount());
  }

  @Test
  void anotherClusterOrAnotherUserGetsAnotherKey() {
    String key = new SlurmJob(42, 0, "hal", "alice").jobKey();
    assertNotEquals(key, new SlurmJob(42, 0, "marvin", "alice").jobKey());
    assertNotEquals(key, new SlurmJob(42, 0, "hal", "bob").jobKey());
    assertEquals("slurm-42.alice", new SlurmJob(42, 0, null, "alice").jobKey());
  }

  @Test
  void namesThatCouldEscapeTheStateDirectoryAreMadeSafe() {
    assertEquals("slurm-7.___etc.a_b", new SlurmJob(7, 0, "../etc", "a/b").jobKey());
  }

  @Test
  void aKeyIsRecognisedByItsJobIdButASetAsideOneIsNot() {
    assertTrue(SlurmJob.isKeyOf("slurm-42.hal.alice", 42));
    assertTrue(SlurmJob.isKeyOf("slurm-42", 42));
    assertFalse(SlurmJob.isKeyOf("slurm-420.hal.alice", 42));
    assertFalse(SlurmJob.isKeyOf("slurm-42.hal.alice.superseded-20261130T101010", 42));
  }

  @Test
  void outsideSlurmThereIsNoJob() {
    assertTrue(SlurmJob.fromEnvironment(Map.of(), "alice").isEmpty());
  }

  @Test
  void aMalformedJobIdOrRestartCountIsReported() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SlurmJob.fromEnvironment(Map.of("SLURM_JOB_ID", "abc"), "alice"));
    assertTrue(e.getMessage().contains("abc"), e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> SlurmJob.fromEnvironment(Map.of("SLURM_JOB_ID", "1", "SLURM_RESTART_COUNT", "-1"), "alice"));
  }
}
