package io.crmpi.daemon;

import io.crmpi.engine.JobNetwork;
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
  private final String jobBridge;

  TreePlacement(Path stateDir, String jobBridge) {
    this.stateDir = stateDir;
    this.jobBridge = jobBridge;
  }

  /**
   * The spec as crmpid runs it: runtime files in root's state directory,
   * the network interface named by crmpid from the caller and the tree (so
   * no user can name, and so delete, another's), the bridge the admin
   * configured, and the caller as the owner.
   */
  LaunchSpec place(Caller caller, LaunchSpec spec) throws IOException {
    String tag = hex(sha256(spec.runtimeDir().toString())).substring(0, 8);
    Path runtime = stateDir.resolve("trees").resolve(Integer.toString(caller.uid()))
        .resolve(spec.job() + "." + spec.node() + "." + tag);
    JobNetwork network = null;
    if (spec.network() != null) {
      if (jobBridge == null) {
        throw new IOException("this node's crmpid has no job bridge configured, so it runs no multi-node jobs:"
            + " set job_bridge in /etc/crmpi/crmpi.conf (docs/install.md, \"Job network\")");
      }
      if (!spec.network().bridge().equals(jobBridge)) {
        throw new IOException("the job asks for bridge " + spec.network().bridge() + ", but this cluster's job"
            + " bridge is " + jobBridge + " (job_bridge in /etc/crmpi/crmpi.conf)");
      }
      String ifname = "cr" + hex(sha256(caller.uid() + "/" + spec.job() + "/" + spec.node())).substring(0, 11);
      network = new JobNetwork(ifname, jobBridge, spec.network().address());
    }
    return spec.placed(runtime, network, caller.owner());
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
