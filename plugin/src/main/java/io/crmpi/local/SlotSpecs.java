package io.crmpi.local;

import io.crmpi.engine.JobNetwork;
import io.crmpi.engine.JobNetworkPlan;
import io.crmpi.engine.LaunchSpec;
import io.crmpi.nativeio.Posix;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What each node slot's tree of a job is: the job's command in slot 0 and,
 * in a multi-node job, an empty tree on every other node that mpirun's
 * daemons join (through crmpi-rsh); each with the job's environment plus
 * what Open MPI needs inside a node tree.
 */
final class SlotSpecs {
  private final JobSpec spec;
  private final JobDirectory dir;
  private final int nodeCount;
  private final JobNetworkPlan network;
  private final Map<String, String> launcherEnvironment;
  private final Path crmpiHome;
  private final boolean root;

  SlotSpecs(JobSpec spec, JobDirectory dir, int nodeCount, JobNetworkPlan network) {
    this(spec, dir, nodeCount, network, System.getenv(), Path.of(System.getProperty("crmpi.home", ".")),
        Posix.isRoot());
  }

  SlotSpecs(JobSpec spec, JobDirectory dir, int nodeCount, JobNetworkPlan network,
      Map<String, String> launcherEnvironment, Path crmpiHome, boolean root) {
    this.spec = spec;
    this.dir = dir;
    this.nodeCount = nodeCount;
    this.network = network;
    this.launcherEnvironment = Map.copyOf(launcherEnvironment);
    this.crmpiHome = crmpiHome;
    this.root = root;
  }

  /** The tree of slot i. */
  LaunchSpec forSlot(int slot) {
    String name = nodeCount > 1 ? LocalJob.slotName(slot) : LocalJob.NODE;
    List<String> command = slot == 0 ? spec.command() : List.of("sleep", "infinity");
    return new LaunchSpec(spec.name(), name, command, Path.of(spec.workdir()), environment(name), dir.runtime(name),
        network == null ? null : network.forSlot(Posix.uid(), spec.name(), slot));
  }

  /** The crmpi command of this installation (the same path on every node). */
  Path crmpiCommand() {
    return crmpiHome.resolve("bin").resolve("crmpi").toAbsolutePath();
  }

  /** The job's environment plus what Open MPI needs inside the node tree of a slot. */
  Map<String, String> environment(String slot) {
    Map<String, String> env = new HashMap<>(spec.environment());
    if (launcherEnvironment.containsKey("SLURM_JOB_ID")) {
      // A requeued job runs on a new allocation: its Slurm variables are this run's, not the first run's.
      env.keySet().removeIf(k -> k.startsWith("SLURM"));
      launcherEnvironment.forEach((k, v) -> {
        if (k.startsWith("SLURM")) {
          env.put(k, v);
        }
      });
    }
    env.put("OMPI_MCA_orte_tmpdir_base", dir.runtime(slot).resolve("session").toString());
    env.put("CRMPI_JOB", spec.name());
    env.put("CRMPI_AGENT_SOCKET", dir.rankSocket(slot).toString());
    if (nodeCount > 1) {
      // mpirun starts its daemons on the other nodes inside their node trees, through crmpi-rsh,
      // and every connection of the job runs over the job network.
      env.put("CRMPI_LAUNCH_SOCKET", dir.launchSocket(slot).toString());
      env.put("OMPI_MCA_plm", "rsh");
      env.put("OMPI_MCA_plm_rsh_agent", crmpiHome.resolve("native/target/bin/crmpi-rsh").toAbsolutePath().toString());
      env.put("OMPI_MCA_plm_rsh_no_tree_spawn", "1");
      env.put("OMPI_MCA_oob_tcp_if_include", JobNetwork.INNER_INTERFACE);
      env.put("OMPI_MCA_btl_tcp_if_include", JobNetwork.INNER_INTERFACE);
    }
    if (root) {
      env.putIfAbsent("OMPI_ALLOW_RUN_AS_ROOT", "1");
      env.putIfAbsent("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
    }
    return env;
  }
}
