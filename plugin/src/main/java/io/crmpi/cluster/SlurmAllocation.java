package io.crmpi.cluster;

import io.crmpi.slurm.Scontrol;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * The nodes of the Slurm allocation a batch script runs in: its hosts in
 * allocation order, the batch host (where the coordinator runs) and the
 * address the other nodes reach it at (its NodeAddr).
 */
public record SlurmAllocation(List<String> hosts, String batchHost, String batchAddress) {
  public SlurmAllocation {
    hosts = List.copyOf(hosts);
    if (!hosts.contains(batchHost)) {
      throw new IllegalArgumentException("batch host " + batchHost + " is not in the allocation " + hosts);
    }
  }

  /** How many nodes the allocation has, from the environment alone (1 outside Slurm). */
  public static int nodeCount(Map<String, String> env) {
    String n = env.getOrDefault("SLURM_JOB_NUM_NODES", env.getOrDefault("SLURM_NNODES", "1"));
    try {
      return Integer.parseInt(n.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("SLURM_JOB_NUM_NODES is not a number: " + n);
    }
  }

  /** The allocation of this batch script, asking scontrol for the host list and the batch node's address. */
  public static SlurmAllocation current(Map<String, String> env) throws IOException {
    String list = env.get("SLURM_JOB_NODELIST");
    String batch = env.get("SLURMD_NODENAME");
    if (list == null || batch == null) {
      throw new IOException("SLURM_JOB_NODELIST or SLURMD_NODENAME is not set: not inside a Slurm batch job");
    }
    return new SlurmAllocation(Scontrol.hostnames(list), batch, Scontrol.nodeAddress(batch));
  }

  /** The hosts of the remote agents, in slot order (slot 1 first). */
  public List<String> remoteHosts() {
    return hosts.stream().filter(h -> !h.equals(batchHost)).toList();
  }
}
