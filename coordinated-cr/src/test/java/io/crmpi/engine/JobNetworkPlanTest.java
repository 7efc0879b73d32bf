package io.crmpi.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class JobNetworkPlanTest {
  private final JobNetworkPlan plan = JobNetworkPlan.fromEnvironment(Map.of("CRMPI_JOB_BRIDGE", "crbr0"));

  @Test
  void slotsOfOneJobGetDistinctAddressesInTheDefaultSubnetAndStableNames() {
    Set<String> addresses = new HashSet<>();
    Set<String> interfaces = new HashSet<>();
    for (int slot = 0; slot < 62; slot++) {
      JobNetwork n = plan.forSlot(0, "slurm-42", slot);
      assertTrue(n.address().startsWith("10.213.") && n.address().endsWith("/16"), n.address());
      assertTrue(n.hostInterface().length() <= 15, n.hostInterface());
      assertEquals("crbr0", n.bridge());
      addresses.add(n.ip());
      interfaces.add(n.hostInterface());
    }
    assertEquals(62, addresses.size());
    assertEquals(62, interfaces.size());
    assertEquals(plan.forSlot(0, "slurm-42", 1), plan.forSlot(0, "slurm-42", 1), "a requeue must get the same address");
  }

  @Test
  void slurmJobsRunningTogetherGetDistinctBlocksByTheirIds() {
    Set<String> blocks = new HashSet<>();
    for (long id = 5000; id < 5000 + 1024; id++) {
      String key = "slurm-" + id + ".hal." + (id % 2 == 0 ? "alice" : "bob");
      assertTrue(blocks.add(JobNetworkPlan.blockOf(plan.forSlot(1000, key, 0).address())),
          "job " + id + " shares a block with an earlier one of 1024 consecutive jobs");
    }
    assertEquals(plan.forSlot(1000, "slurm-7.hal.alice", 3).address(), plan.forSlot(1000, "slurm-7", 3).address(),
        "the block is the Slurm job's, whatever the key's cluster and user parts");
    assertEquals(7, JobNetworkPlan.slurmJobId("slurm-7.hal.alice"));
    assertEquals(0, JobNetworkPlan.slurmJobId("slurm-7x"));
    assertEquals(0, JobNetworkPlan.slurmJobId("ring"));
  }

  @Test
  void theBlockNeverUsesItsNetworkOrBroadcastAddress() {
    for (String job : new String[] {"a", "b", "slurm-1", "slurm-2", "slurm-99999"}) {
      int first = last(plan.forSlot(0, job, 0).ip());
      int last = last(plan.forSlot(0, job, 61).ip());
      assertEquals(1, first % 64, job);
      assertEquals(62, last % 64, job);
    }
    assertNotEquals(plan.forSlot(0, "slurm-1", 0).hostInterface(), plan.forSlot(0, "slurm-2", 0).hostInterface());
    // Two users' jobs of the same name: other interfaces, and (for these two) another address block.
    assertNotEquals(plan.forSlot(1000, "ring", 0).hostInterface(), plan.forSlot(1001, "ring", 0).hostInterface());
    assertNotEquals(plan.forSlot(1000, "ring", 0).ip(), plan.forSlot(1001, "ring", 0).ip());
  }

  @Test
  void aConfiguredSubnetIsUsed() {
    JobNetworkPlan p = JobNetworkPlan.fromEnvironment(Map.of("CRMPI_JOB_BRIDGE", "br1",
        "CRMPI_JOB_SUBNET", "192.168.128.0/20"));
    String ip = p.forSlot(0, "slurm-5", 3).ip();
    assertTrue(ip.startsWith("192.168.") && p.forSlot(0, "slurm-5", 3).address().endsWith("/20"), ip);
    int third = Integer.parseInt(ip.split("\\.")[2]);
    assertTrue(third >= 128 && third < 144, ip);
  }

  @Test
  void badConfigurationIsAClearError() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> JobNetworkPlan.fromEnvironment(Map.of()));
    assertTrue(e.getMessage().contains("CRMPI_JOB_BRIDGE") && e.getMessage().contains("docs/install.md"));
    e = assertThrows(IllegalArgumentException.class, () -> JobNetworkPlan.fromEnvironment(
        Map.of("CRMPI_JOB_BRIDGE", "b", "CRMPI_JOB_SUBNET", "10.0.0.300/16")));
    assertTrue(e.getMessage().contains("not an IPv4 subnet"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> JobNetworkPlan.fromEnvironment(
        Map.of("CRMPI_JOB_BRIDGE", "b", "CRMPI_JOB_SUBNET", "10.0.0.0/30")));
    assertTrue(e.getMessage().contains("/8 to /26"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> plan.forSlot(0, "x", 62));
  }

  private static int last(String ip) {
    return Integer.parseInt(ip.substring(ip.lastIndexOf('.') + 1));
  }
}
