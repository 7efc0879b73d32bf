package io.crmpi.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.crmpi.engine.LaunchSpec;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SlotSpecsTest {
  @TempDir
  Path root;

  private JobSpec spec(Map<String, String> env) {
    return new JobSpec(JobSpec.FORMAT_VERSION, "ring", List.of("mpirun", "ring"), "/work", env, "2s", 3, 5, "criu",
        Instant.parse("2026-12-02T10:00:00Z"), false);
  }

  @Test
  void aOneNodeJobRunsItsCommandInTheLocalSlotWithTheAgentsSocket() {
    JobDirectory dir = JobDirectory.of(root, "ring");
    SlotSpecs slots = new SlotSpecs(spec(Map.of("OMP_NUM_THREADS", "2")), dir, 1, null, Map.of(), Path.of("/opt/crmpi"),
        false);
    LaunchSpec s = slots.forSlot(0);
    assertEquals("local", s.node());
    assertEquals(List.of("mpirun", "ring"), s.command());
    assertEquals("2", s.environment().get("OMP_NUM_THREADS"));
    assertEquals(dir.rankSocket("local").toString(), s.environment().get("CRMPI_AGENT_SOCKET"));
    assertEquals("ring", s.environment().get("CRMPI_JOB"));
    assertNull(s.environment().get("OMPI_MCA_plm"), "a one-node job launches its ranks itself");
    assertFalse(s.environment().containsKey("OMPI_ALLOW_RUN_AS_ROOT"));
    assertNull(s.network());
  }

  @Test
  void aRequeuedSlurmJobTakesThisRunsSlurmVariablesAndItsOtherSlotsWaitForMpirunsDaemons() {
    JobDirectory dir = JobDirectory.of(root, "ring");
    Map<String, String> first = Map.of("SLURM_JOB_NODELIST", "n[1-2]", "SLURM_STEP_ID", "0", "KEEP", "yes");
    Map<String, String> now = Map.of("SLURM_JOB_ID", "17", "SLURM_JOB_NODELIST", "n[3-4]", "PATH", "/bin");
    SlotSpecs slots = new SlotSpecs(spec(first), dir, 2, null, now, Path.of("/opt/crmpi"), true);
    LaunchSpec s = slots.forSlot(1);
    assertEquals("node1", s.node());
    assertEquals(List.of("sleep", "infinity"), s.command());
    Map<String, String> env = s.environment();
    assertEquals("n[3-4]", env.get("SLURM_JOB_NODELIST"));
    assertEquals("17", env.get("SLURM_JOB_ID"));
    assertNull(env.get("SLURM_STEP_ID"), "a variable of the first run's allocation was kept");
    assertEquals("yes", env.get("KEEP"));
    assertNull(env.get("PATH"), "the launcher's own environment leaked into the job's");
    assertEquals("rsh", env.get("OMPI_MCA_plm"));
    assertEquals("/opt/crmpi/native/target/bin/crmpi-rsh", env.get("OMPI_MCA_plm_rsh_agent"));
    assertEquals(dir.launchSocket("node1").toString(), env.get("CRMPI_LAUNCH_SOCKET"));
    assertEquals("crmpi0", env.get("OMPI_MCA_btl_tcp_if_include"));
    assertEquals("1", env.get("OMPI_ALLOW_RUN_AS_ROOT"));
  }
}
