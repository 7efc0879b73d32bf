package io.crmpi.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crmpi.engine.JobNetwork;
import io.crmpi.engine.JobNetworkPlan;
import io.crmpi.engine.LaunchSpec;
import io.crmpi.engine.TreeOwner;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How crmpid places a caller's tree: its runtime files, its owner and cgroups, and its job-network address. */
class TreePlacementTest {
  private static final JobNetworkPlan PLAN = JobNetworkPlan.of("crmpi-br", "10.213.0.0/16", "job_subnet");
  private static final Caller ALICE = new Caller("alice (uid 1000)", 1000, new TreeOwner(1000, 1000, List.of()), 4242);
  private static final Caller MALLORY = new Caller("mallory (uid 1001)", 1001, new TreeOwner(1001, 1001, List.of()),
      4343);
  private final TreePlacement placement = new TreePlacement(Path.of("/var/lib/crmpi"), PLAN);

  private static LaunchSpec spec(String job, String node, JobNetwork network) {
    return new LaunchSpec(job, node, List.of("sleep", "infinity"), Path.of("/home/alice/run"), Map.of(),
        Path.of("/home/alice/.crmpi/jobs/" + job + "/run/" + node), network);
  }

  @Test
  void aTreeRunsAsTheCallerInItsCgroupsWithItsRuntimeFilesInRootsDirectory() throws IOException {
    JobNetwork asked = PLAN.forSlot(1000, "slurm-7", 1);
    LaunchSpec placed = placement.place(ALICE, spec("slurm-7", "node1", asked));
    assertEquals(new TreeOwner(1000, 1000, List.of()), placed.owner());
    assertEquals(4242L, placed.cgroupOf(), "the tree belongs in the cgroups of the process that asked for it");
    assertTrue(placed.runtimeDir().startsWith(Path.of("/var/lib/crmpi/trees/1000")), placed.runtimeDir().toString());
    assertEquals(asked.address(), placed.network().address());
    assertEquals("crmpi-br", placed.network().bridge());
    assertTrue(placed.network().hostInterface().matches("cr[0-9a-f]{11}"), placed.network().hostInterface());
    assertNotEquals(placed.network().hostInterface(),
        placement.place(MALLORY, spec("slurm-7", "node1", PLAN.forSlot(1001, "slurm-7", 1))).network().hostInterface(),
        "two users' trees of the same job name and node share an interface name");
    JobNetworkPlan other = JobNetworkPlan.of("crmpi-br2", "10.213.0.0/16", "job_subnet");
    assertNotEquals(placed.network().hostInterface(), new TreePlacement(Path.of("/var/lib/crmpi"), other)
        .place(ALICE, spec("slurm-7", "node1", other.forSlot(1000, "slurm-7", 1))).network().hostInterface(),
        "the same tree on two job networks of one host (two clusters) shares an interface name");
  }

  @Test
  void aTreeThatAsksForAnotherJobsAddressIsRefused() {
    JobNetwork alices = PLAN.forSlot(1000, "slurm-7", 1);
    IOException e = assertThrows(IOException.class, () -> placement.place(MALLORY, spec("slurm-8", "node1", alices)));
    assertTrue(e.getMessage().contains("a tree may use only its own job's addresses")
        && e.getMessage().contains("slot 1 has " + PLAN.forSlot(1001, "slurm-8", 1).address()), e.getMessage());
    JobNetwork otherSlot = PLAN.forSlot(1001, "slurm-8", 0);
    assertThrows(IOException.class, () -> placement.place(MALLORY, spec("slurm-8", "node1", otherSlot)));
  }

  @Test
  void aTreeOutsideTheAdminsJobNetworkIsRefusedWithWhatToDo() {
    JobNetwork otherSubnet = JobNetworkPlan.of("crmpi-br", "192.168.0.0/16", "CRMPI_JOB_SUBNET")
        .forSlot(1000, "slurm-7", 1);
    IOException e = assertThrows(IOException.class, () -> placement.place(ALICE, spec("slurm-7", "node1", otherSubnet)));
    assertTrue(e.getMessage().contains("set it to 10.213.0.0/16"), e.getMessage());
    JobNetwork otherBridge = JobNetworkPlan.of("br-evil", "10.213.0.0/16", "x").forSlot(1000, "slurm-7", 1);
    e = assertThrows(IOException.class, () -> placement.place(ALICE, spec("slurm-7", "node1", otherBridge)));
    assertTrue(e.getMessage().contains("this cluster's job bridge is crmpi-br"), e.getMessage());
    e = assertThrows(IOException.class,
        () -> placement.place(ALICE, spec("slurm-7", "local", PLAN.forSlot(1000, "slurm-7", 0))));
    assertTrue(e.getMessage().contains("is not a slot of a multi-node job"), e.getMessage());
    TreePlacement noNetwork = new TreePlacement(Path.of("/var/lib/crmpi"), null);
    e = assertThrows(IOException.class,
        () -> noNetwork.place(ALICE, spec("slurm-7", "node1", PLAN.forSlot(1000, "slurm-7", 1))));
    assertTrue(e.getMessage().contains("set job_bridge in /etc/crmpi/crmpi.conf"), e.getMessage());
  }

  @Test
  void aSingleNodeTreeHasNoJobNetwork() throws IOException {
    assertEquals(null, placement.place(ALICE, spec("ring", "local", null)).network());
  }

  @Test
  void slotNamesAreNodeAndANumber() {
    assertEquals(0, JobNetworkPlan.slotOf("node0"));
    assertEquals(61, JobNetworkPlan.slotOf("node61"));
    assertEquals(-1, JobNetworkPlan.slotOf("node01"));
    assertEquals(-1, JobNetworkPlan.slotOf("local"));
    assertEquals(-1, JobNetworkPlan.slotOf("node1\n"));
  }
}
