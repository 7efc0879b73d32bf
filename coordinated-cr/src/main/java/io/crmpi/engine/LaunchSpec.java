package io.crmpi.engine;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a node agent starts: the command of its node tree (e.g. mpirun and
 * its arguments), where it runs, and the agent's private runtime directory
 * for this node (pid files, staging roots, the MPI session tmpfs).
 *
 * @param job the job key, for logs and cgroup names
 * @param node this node's name
 * @param command the command line; the first word is looked up on PATH
 * @param workdir the job's working directory (absolute)
 * @param environment the complete environment of the command
 * @param runtimeDir the agent's directory for this node tree (absolute)
 * @param network the tree's place on the job network of a multi-node job,
 *     or null for a single-node job (the tree then has only loopback)
 * @param sessionDir the directory that a tmpfs of the tree's own covers
 *     (the MPI session files); null for runtimeDir/session
 * @param owner whom the tree runs as, or null for the user that starts it
 *     (crmpid sets the owner to the user that asked for the tree)
 * @param hostname the host name the tree sees (launchers compare it with
 *     the scheduler's allocation), or null for this host's name
 * @param cgroupOf the process whose cgroups the tree belongs in (see
 *     {@link CgroupHome}); 0 or null (absent) for the process that starts
 *     the tree. crmpid sets it to the process that asked for the tree,
 *     whatever a client sent
 */
public record LaunchSpec(
    String job,
    String node,
    List<String> command,
    Path workdir,
    Map<String, String> environment,
    Path runtimeDir,
    JobNetwork network,
    Path sessionDir,
    TreeOwner owner,
    String hostname,
    Long cgroupOf) {
  private static final java.util.regex.Pattern HOSTNAME =
      java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9.-]{0,63}");

  public LaunchSpec {
    Objects.requireNonNull(job, "job");
    Objects.requireNonNull(node, "node");
    command = List.copyOf(command);
    if (command.isEmpty()) {
      throw new IllegalArgumentException("empty command");
    }
    if (!workdir.isAbsolute()) {
      throw new IllegalArgumentException("workdir is not absolute: " + workdir);
    }
    workdir = Path.of(workdir.toString()).normalize();
    environment = Map.copyOf(environment);
    if (!runtimeDir.isAbsolute()) {
      throw new IllegalArgumentException("runtimeDir is not absolute: " + runtimeDir);
    }
    sessionDir = sessionDir == null ? runtimeDir.resolve("session") : sessionDir;
    if (hostname != null && !HOSTNAME.matcher(hostname).matches()) {
      throw new IllegalArgumentException("bad host name '" + hostname + "': 1-64 of [A-Za-z0-9.-]");
    }
    cgroupOf = cgroupOf == null ? 0L : cgroupOf;
    if (cgroupOf < 0) {
      throw new IllegalArgumentException("cgroupOf is not a pid: " + cgroupOf);
    }
    if (!sessionDir.isAbsolute()) {
      throw new IllegalArgumentException("sessionDir is not absolute: " + sessionDir);
    }
  }

  /** A tree of the user that starts it. */
  public LaunchSpec(String job, String node, List<String> command, Path workdir, Map<String, String> environment,
      Path runtimeDir, JobNetwork network) {
    this(job, node, command, workdir, environment, runtimeDir, network, null, null, null, 0L);
  }

  /** A single-node tree: loopback only. */
  public LaunchSpec(String job, String node, List<String> command, Path workdir, Map<String, String> environment,
      Path runtimeDir) {
    this(job, node, command, workdir, environment, runtimeDir, null);
  }

  /**
   * The same tree placed by crmpid: its runtime files (pid files, staging
   * roots, CRIU's work directory) in a directory of root's, its network
   * interface named by crmpid, run as owner, in the cgroups of the process
   * that asked for it. The session directory stays where the job's
   * environment expects it.
   */
  public LaunchSpec placed(Path daemonRuntimeDir, JobNetwork placedNetwork, TreeOwner treeOwner, long caller) {
    return new LaunchSpec(job, node, command, workdir, environment, daemonRuntimeDir, placedNetwork, sessionDir,
        treeOwner, hostname, caller);
  }

  /** The same tree with extra variables in its environment (they win over the spec's). */
  public LaunchSpec withEnvironment(Map<String, String> extra) {
    Map<String, String> env = new java.util.HashMap<>(environment);
    env.putAll(extra);
    return new LaunchSpec(job, node, command, workdir, env, runtimeDir, network, sessionDir, owner, hostname,
        cgroupOf);
  }

  /** The same tree with the host name the tree sees set to this host's (what a client tells crmpid). */
  public LaunchSpec onThisHost() throws java.io.IOException {
    return new LaunchSpec(job, node, command, workdir, environment, runtimeDir, network, sessionDir, owner,
        java.nio.file.Files.readString(java.nio.file.Path.of("/proc/sys/kernel/hostname")).strip(), cgroupOf);
  }
}
