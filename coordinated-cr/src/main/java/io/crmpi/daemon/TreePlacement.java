package io.crmpi.daemon;

import io.crmpi.engine.JobNetwork;
import io.crmpi.engine.JobNetworkPlan;
import io.crmpi.engine.LaunchSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Where and how crmpid runs a caller's tree: its runtime directory in
 * root's state directory, its network interface named by crmpid, the
 * admin's bridge, and the caller as its owner.
 */
final class TreePlacement {
  private final Path stateDir;
  private final JobNetworkPlan jobNetwork;

  /** jobNetwork: the admin's bridge and subnet, or null when this node runs no multi-node trees. */
  TreePlacement(Path stateDir, JobNetworkPlan jobNetwork) {
    this.stateDir = stateDir;
    this.jobNetwork = jobNetwork;
  }

  /**
   * The spec as crmpid runs it: runtime files in root's state directory,
   * the network interface named by crmpid from the caller and the tree (so
   * no user can name, and so delete, another's), the bridge the admin
   * configured, the caller as the owner, and the calling process's cgroups
   * as the tree's (the job's step, or the user's session).
   */
  LaunchSpec place(Caller caller, LaunchSpec spec) throws IOException {
    JobNetwork network = spec.network() == null ? null : network(caller, spec);
    return spec.placed(runtimeDir(caller, spec), network, caller.owner(), caller.pid());
  }

  /** The tree's runtime directory in root's state directory: {@code trees/UID/JOB.NODE.TAG}. */
  Path runtimeDir(Caller caller, LaunchSpec spec) {
    String tag = hex(sha256(spec.runtimeDir().toString())).substring(0, 8);
    return stateDir.resolve("trees").resolve(Integer.toString(caller.uid()))
        .resolve(spec.job() + "." + spec.node() + "." + tag);
  }

  /**
   * The tree's place on the job network: the admin's bridge, an interface
   * named by crmpid from the caller and the tree (so no user can name, and
   * so delete, another's), and only the address the admin's plan gives the
   * caller's job for this slot, so that no tree takes another job's address.
   */
  private JobNetwork network(Caller caller, LaunchSpec spec) throws IOException {
    if (jobNetwork == null) {
      throw new IOException("this node's crmpid has no job bridge configured, so it runs no multi-node jobs:"
          + " set job_bridge in /etc/crmpi/crmpi.conf (docs/install.md, \"Job network\")");
    }
    if (!spec.network().bridge().equals(jobNetwork.bridge())) {
      throw new IOException("the job asks for bridge " + spec.network().bridge() + ", but this cluster's job"
          + " bridge is " + jobNetwork.bridge() + " (job_bridge in /etc/crmpi/crmpi.conf)");
    }
    int slot = JobNetworkPlan.slotOf(spec.node());
    if (slot < 0 || slot >= JobNetworkPlan.MAX_SLOTS) {
      throw new IOException("node tree '" + spec.node() + "' is not a slot of a multi-node job (node0 to node"
          + (JobNetworkPlan.MAX_SLOTS - 1) + "): it gets no place on the job network");
    }
    String address = jobNetwork.forSlot(caller.uid(), spec.job(), slot).address();
    if (!address.equals(spec.network().address())) {
      throw new IOException("node tree " + spec.node() + " of job " + spec.job() + " asks for address "
          + spec.network().address() + ", but on this cluster's job network (job_subnet "
          + jobNetwork.subnet() + " in /etc/crmpi/crmpi.conf) " + caller + "'s slot " + slot + " has "
          + address + ": a tree may use only its own job's addresses. Unset CRMPI_JOB_SUBNET in the job's"
          + " environment, or set it to " + jobNetwork.subnet());
    }
    // The bridge too: two job networks on one host (two test clusters) never share an interface name.
    String ifname = "cr" + hex(sha256(caller.uid() + "/" + spec.job() + "/" + spec.node() + "@"
        + jobNetwork.bridge())).substring(0, 11);
    return new JobNetwork(ifname, jobNetwork.bridge(), address);
  }

  static void requireSessionDirectory(Caller caller, LaunchSpec spec) throws IOException {
    if (caller.owner() == null) {
      return;
    }
    PosixFileAttributes a;
    try {
      a = Files.readAttributes(spec.sessionDir(), PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (java.nio.file.NoSuchFileException e) {
      throw new IOException("the session directory " + spec.sessionDir() + " does not exist: the client creates it");
    }
    if (!a.isDirectory() || (Integer) Files.getAttribute(spec.sessionDir(), "unix:uid",
        LinkOption.NOFOLLOW_LINKS) != caller.uid()) {
      throw new IOException("the session directory " + spec.sessionDir() + " is not a directory of " + caller);
    }
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String hex(byte[] b) {
    return HexFormat.of().formatHex(b);
  }
}
