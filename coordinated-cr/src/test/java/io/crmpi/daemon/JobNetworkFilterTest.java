package io.crmpi.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.crmpi.engine.JobNetwork;
import io.crmpi.engine.JobNetworkPlan;
import io.crmpi.nativeio.Posix;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The job network's filter on a real bridge: three network namespaces
 * stand for node trees, two of one job and one of another, each on a port
 * of a bridge of the test's own. A TCP connection to a port nobody listens
 * on is answered with a reset when the packets get through ("Connection
 * refused") and not at all when the filter drops them.
 */
class JobNetworkFilterTest {
  private static final String PLAN_SUBNET = "10.251.0.0/16";
  private final String tag = Long.toString(ProcessHandle.current().pid() % 100000);
  private final String bridge = "crftb" + tag;
  private final List<String> namespaces = new ArrayList<>();
  private JobNetworkFilter filter;

  @BeforeEach
  void bridge() throws Exception {
    assumeTrue(Posix.isRoot() && Files.isExecutable(Path.of("/usr/sbin/nft")) && Files.isExecutable(
        Path.of("/usr/sbin/ip")), "needs root, nft and ip");
    sh("ip link add " + bridge + " type bridge && ip link set " + bridge + " up");
    filter = new JobNetworkFilter("crmpi_test_" + tag);
    filter.install();
  }

  @AfterEach
  void cleanUp() throws Exception {
    if (filter != null) {
      filter.uninstall();
    }
    for (String ns : namespaces) {
      sh("ip netns del " + ns + " || true");
    }
    sh("ip link del " + bridge + " 2>/dev/null || true");
  }

  /** A namespace with a veth on the bridge carrying network's address, its port opened in the filter. */
  private String tree(String name, JobNetwork network) throws Exception {
    String ns = "crft" + name + tag;
    namespaces.add(ns);
    sh("ip netns add " + ns
        + " && ip link add " + network.hostInterface() + " type veth peer name in0 netns " + ns
        + " && ip link set " + network.hostInterface() + " master " + bridge + " up"
        + " && ip -n " + ns + " addr add " + network.address() + " dev in0"
        + " && ip -n " + ns + " link set in0 up && ip -n " + ns + " link set lo up");
    filter.open(network);
    return ns;
  }

  private JobNetwork slot(JobNetworkPlan plan, int uid, String job, int slot, String ifname) {
    JobNetwork n = plan.forSlot(uid, job, slot);
    return new JobNetwork(ifname, bridge, n.address());
  }

  @Test
  void aTreeReachesItsOwnJobOnlyAndCannotUseAnotherAddress() throws Exception {
    JobNetworkPlan plan = JobNetworkPlan.of(bridge, PLAN_SUBNET, "test");
    JobNetwork a0 = slot(plan, 1000, "slurm-1", 0, "crfa0" + tag);
    JobNetwork a1 = slot(plan, 1000, "slurm-1", 1, "crfa1" + tag);
    JobNetwork b0 = slot(plan, 1001, "slurm-2", 0, "crfb0" + tag);
    assertTrue(!JobNetworkPlan.blockOf(a0.address()).equals(JobNetworkPlan.blockOf(b0.address())),
        "the two jobs share one block; pick other job ids");
    String nsA0 = tree("a0", a0);
    String nsA1 = tree("a1", a1);
    String nsB0 = tree("b0", b0);

    assertEquals("reached", connect(nsA0, a1.ip()), "a tree cannot reach its own job's other tree");
    assertEquals("reached", connect(nsA1, a0.ip()));
    assertEquals("blocked", connect(nsB0, a0.ip()), "another job's tree reached the job");
    assertEquals("blocked", connect(nsA0, b0.ip()), "the job reached another job's tree");

    // Root in the other job's namespace (a tree's processes have no capabilities; this is the worst case):
    // an address of the job's block does not get it in either.
    String block = JobNetworkPlan.blockOf(a0.address());
    String base = block.substring(0, block.indexOf('/'));
    String spoof = base.substring(0, base.lastIndexOf('.') + 1)
        + (Integer.parseInt(base.substring(base.lastIndexOf('.') + 1)) + 50);
    sh("ip -n " + nsB0 + " addr flush dev in0 && ip -n " + nsB0 + " addr add " + spoof + "/16 dev in0");
    assertEquals("blocked", connect(nsB0, a0.ip()), "a forged source address got through");

    // A closed port (its tree is gone) no longer passes anything of the job to a newcomer's address.
    filter.close(a1.hostInterface());
    assertEquals("reached", connect(nsA0, a1.ip()), "closing a port must not block its job's traffic to it");
    filter.open(a1);
    assertEquals("reached", connect(nsA0, a1.ip()));
  }

  /** "reached" when a connection to a port nobody listens on is refused, "blocked" when nothing answers. */
  private static String connect(String ns, String ip) throws Exception {
    Process p = new ProcessBuilder("ip", "netns", "exec", ns, "timeout", "4", "bash", "-c",
        "exec 3<>/dev/tcp/" + ip + "/9")
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(20, TimeUnit.SECONDS));
    if (out.contains("Connection refused")) {
      return "reached";
    }
    assertTrue(p.exitValue() != 0, "a connection to port 9 succeeded: " + out);
    return "blocked";
  }

  private static void sh(String script) throws Exception {
    Process p = new ProcessBuilder("sh", "-c", script).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.waitFor(), script + ": " + out);
  }
}
