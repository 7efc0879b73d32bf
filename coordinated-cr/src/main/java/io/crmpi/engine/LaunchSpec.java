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
 */
public record LaunchSpec(
    String job,
    String node,
    List<String> command,
    Path workdir,
    Map<String, String> environment,
    Path runtimeDir,
    JobNetwork network) {
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
    environment = Map.copyOf(environment);
    if (!runtimeDir.isAbsolute()) {
      throw new IllegalArgumentException("runtimeDir is not absolute: " + runtimeDir);
    }
  }

  /** A single-node tree: loopback only. */
  public LaunchSpec(String job, String node, List<String> command, Path workdir, Map<String, String> environment,
      Path runtimeDir) {
    this(job, node, command, workdir, environment, runtimeDir, null);
  }

  /** The tmpfs directory that holds the MPI session files inside the tree. */
  public Path sessionDir() {
    return runtimeDir.resolve("session");
  }
}
