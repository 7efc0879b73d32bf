package io.crmpi.engine;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;

/**
 * The job network of a multi-node job: every node slot's tree gets a veth
 * on the cluster's job bridge (CRMPI_JOB_BRIDGE) and an address of the job
 * subnet (CRMPI_JOB_SUBNET, default 10.213.0.0/16). A job's addresses are a
 * block of 64 chosen by the job key, so that they stay the same across
 * requeues: a tree restored on another node keeps its slot's address. A
 * Slurm job's block is its job id modulo the number of blocks, so jobs
 * that run at the same time get different blocks unless their ids are a
 * multiple of that number apart (1024 in a /16); any other job's comes
 * from a hash of its owner and key.
 * crmpid holds the admin's plan (job_bridge and job_subnet in crmpi.conf)
 * and runs a tree only with the address this plan gives its owner's job.
 *
 * @param bridge the host bridge
 * @param base the subnet's first address
 * @param prefix the subnet's prefix length
 */
public record JobNetworkPlan(String bridge, int base, int prefix) {
  public static final String BRIDGE_VARIABLE = "CRMPI_JOB_BRIDGE";
  public static final String SUBNET_VARIABLE = "CRMPI_JOB_SUBNET";
  public static final String DEFAULT_SUBNET = "10.213.0.0/16";
  /** Addresses per job: slots 0..61 (the block's first and last address are never used). */
  static final int BLOCK = 64;
  /** The most node slots a multi-node job has. */
  public static final int MAX_SLOTS = BLOCK - 2;

  public JobNetworkPlan {
    if (prefix < 8 || prefix > 26) {
      throw new IllegalArgumentException("the job subnet's prefix must be /8 to /26, not /" + prefix);
    }
  }

  /** The plan the environment configures; a clear error when the bridge is not configured. */
  public static JobNetworkPlan fromEnvironment(Map<String, String> env) {
    String bridge = env.get(BRIDGE_VARIABLE);
    if (bridge == null || bridge.isBlank()) {
      throw new IllegalArgumentException("a multi-node job needs the job network: set " + BRIDGE_VARIABLE
          + " to the bridge that connects the nodes' job networks (see docs/install.md, \"Job network\")");
    }
    String subnet = env.getOrDefault(SUBNET_VARIABLE, DEFAULT_SUBNET);
    return of(bridge, subnet, SUBNET_VARIABLE);
  }

  /**
   * The plan of bridge and subnet (ADDRESS/PREFIX); errors name the subnet
   * as setting (e.g. the variable or the configuration key it came from).
   */
  public static JobNetworkPlan of(String bridge, String subnet, String setting) {
    String whole = setting + "=" + subnet;
    String[] parts = subnet.strip().split("/");
    if (parts.length != 2) {
      throw new IllegalArgumentException(whole + " is not ADDRESS/PREFIX");
    }
    int prefix;
    try {
      prefix = Integer.parseInt(parts[1]);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(whole + " has no numeric prefix length");
    }
    return new JobNetworkPlan(bridge.strip(), parseIp(parts[0], whole), prefix);
  }

  private static final java.util.regex.Pattern SLURM_KEY =
      java.util.regex.Pattern.compile("slurm-(\\d{1,18})(\\.[A-Za-z0-9_-]+)*");

  /** The Slurm job id of a job key (slurm-ID or slurm-ID.CLUSTER.USER), or 0 when it is no Slurm job's. */
  public static long slurmJobId(String job) {
    java.util.regex.Matcher m = SLURM_KEY.matcher(job);
    return m.matches() ? Long.parseLong(m.group(1)) : 0;
  }

  /** The slot number in a node tree's name (node0, node1, ...), or -1 for another name. */
  public static int slotOf(String node) {
    if (!node.matches("node(0|[1-9][0-9]?)")) {
      return -1;
    }
    return Integer.parseInt(node.substring(4));
  }

  /** The block of BLOCK addresses (ADDRESS/26) that the job of address (ADDRESS or ADDRESS/PREFIX) owns. */
  public static String blockOf(String address) {
    String ip = address.contains("/") ? address.substring(0, address.indexOf('/')) : address;
    return format(parseIp(ip, address) & -BLOCK) + "/" + (32 - Integer.numberOfTrailingZeros(BLOCK));
  }

  /** The subnet as ADDRESS/PREFIX. */
  public String subnet() {
    return format(base) + "/" + prefix;
  }

  /**
   * The slot's place on the job network. The address block and interface
   * names come from the job's owner and key together, so that two users'
   * jobs of the same name never share them.
   */
  public JobNetwork forSlot(int owner, String job, int slot) {
    if (slot < 0 || slot >= BLOCK - 2) {
      throw new IllegalArgumentException("a multi-node job has at most " + (BLOCK - 2) + " nodes");
    }
    byte[] h = hash(owner + "/" + job);
    int blocks = 1 << (32 - prefix - 6);
    long slurm = slurmJobId(job);
    int block = slurm > 0 ? (int) (slurm % blocks)
        : Math.floorMod(((h[0] & 0xff) << 24) | ((h[1] & 0xff) << 16) | ((h[2] & 0xff) << 8) | (h[3] & 0xff),
            blocks);
    int mask = prefix == 0 ? 0 : -1 << (32 - prefix);
    int ip = (base & mask) + block * BLOCK + slot + 1;
    String hostInterface = "cr" + HexFormat.of().formatHex(h, 0, 4) + slot;
    return new JobNetwork(hostInterface, bridge, format(ip) + "/" + prefix);
  }

  private static byte[] hash(String job) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(job.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static int parseIp(String s, String whole) {
    String[] o = s.split("\\.");
    if (o.length != 4) {
      throw new IllegalArgumentException(whole + " is not an IPv4 subnet");
    }
    int ip = 0;
    for (String part : o) {
      int v;
      try {
        v = Integer.parseInt(part);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(whole + " is not an IPv4 subnet");
      }
      if (v < 0 || v > 255) {
        throw new IllegalArgumentException(whole + " is not an IPv4 subnet");
      }
      ip = (ip << 8) | v;
    }
    return ip;
  }

  private static String format(int ip) {
    return ((ip >>> 24) & 0xff) + "." + ((ip >>> 16) & 0xff) + "." + ((ip >>> 8) & 0xff) + "." + (ip & 0xff);
  }
}
