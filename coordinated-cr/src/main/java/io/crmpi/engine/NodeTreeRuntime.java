package io.crmpi.engine;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * Starts node trees under crmpi-ns (fresh namespaces, a tiny init, a freezer
 * cgroup under the job's own) and waits until the tree's init has reported its pid. Shared by
 * the engines: the criu engine dumps what it starts, the app engine starts
 * a fresh tree for every restart.
 */
final class NodeTreeRuntime implements TreeStarter {
  private static final Logger LOG = Logger.getLogger(NodeTreeRuntime.class.getName());
  private static final long START_TIMEOUT_MS = 30_000;
  static final java.time.Duration FENCE_WAIT = java.time.Duration.ofSeconds(10);
  private final Path crmpiNs;

  NodeTreeRuntime(Path crmpiNs) {
    if (!Files.isExecutable(crmpiNs)) {
      throw new IllegalArgumentException("crmpi-ns is not executable: " + crmpiNs
          + " (build crmpi with scripts/setup.sh)");
    }
    this.crmpiNs = crmpiNs;
  }

  @Override
  public NodeTree launch(LaunchSpec spec) throws IOException {
    return launch(spec, Map.of());
  }

  /** Starts spec's command in a new node tree, with extra environment variables. */
  NodeTree launch(LaunchSpec spec, Map<String, String> extraEnv) throws IOException {
    prepareRuntimeDir(spec);
    TreeCgroups cgroups = TreeCgroups.place(spec);
    Path pidFile = spec.runtimeDir().resolve("init.pid");
    Files.deleteIfExists(pidFile);
    List<String> cmd = new ArrayList<>(List.of(crmpiNs.toString(), "run",
        "--root-dir", spec.runtimeDir().resolve("rootfs").toString(),
        "--workdir", spec.workdir().toString(),
        "--tmpfs", spec.sessionDir().toString(),
        "--hostname", spec.hostname() != null ? spec.hostname() : hostName(),
        "--pid-file", pidFile.toString()));
    cmd.addAll(cgroups.arguments());
    if (spec.owner() != null) {
      cmd.addAll(List.of("--user", spec.owner().argument(), "--env-file", envFile(spec, "launch", extraEnv).toString()));
    }
    if (spec.network() != null) {
      spec.network().awaitHostInterfaceFree(java.time.Duration.ofSeconds(10));
      cmd.addAll(List.of("--veth", spec.network().hostInterface(), "--bridge", spec.network().bridge(),
          "--address", spec.network().address()));
    }
    cmd.add("--");
    cmd.addAll(spec.command());
    Process shim = start(cmd, spec, extraEnv);
    long pid;
    try {
      pid = awaitPid(shim, pidFile, "start");
    } catch (IOException e) {
      discard(shim, cgroups.freezer());
      throw e;
    }
    return new LocalTree(shim, pid, cgroups);
  }

  /**
   * Starts command inside the running tree (its namespaces, cgroup, stdout
   * and stderr) as a process the tree's init adopts, and returns once it
   * runs. Launchers use it to start their daemon on this node.
   */
  @Override
  public void exec(NodeTree anyTree, LaunchSpec spec, List<String> command) throws IOException {
    LocalTree tree = LocalTree.of(anyTree);
    if (!tree.isAlive()) {
      throw new IOException("node " + spec.node() + " has no running node tree");
    }
    List<String> cmd = new ArrayList<>(List.of(crmpiNs.toString(), "exec",
        "--pid", Long.toString(tree.initPid()),
        "--workdir", spec.workdir().toString()));
    cmd.addAll(tree.cgroups().arguments());
    if (spec.owner() != null) {
      cmd.addAll(List.of("--user", spec.owner().argument(), "--env-file", envFile(spec, "exec", Map.of()).toString()));
    }
    cmd.add("--");
    cmd.addAll(command);
    Process p = start(cmd, spec, Map.of());
    try {
      if (!p.waitFor(START_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new IOException("crmpi-ns exec did not start " + command.get(0) + " within "
            + START_TIMEOUT_MS / 1000 + " s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
      throw new IOException("interrupted while starting " + command.get(0) + " in the node tree");
    }
    if (p.exitValue() != 0) {
      String err = new String(p.getErrorStream().readAllBytes()).strip();
      throw new IOException("cannot start " + command.get(0) + " in the node tree of " + spec.node()
          + " (exit " + p.exitValue() + ")" + (err.isEmpty() ? "" : ": " + err));
    }
  }

  /**
   * Empties freezer of whatever an earlier copy of spec's tree left in it
   * (its runtime was killed, a restore was killed half-way), so that it
   * never runs beside the new copy.
   */
  static Freezer fence(Freezer freezer, LaunchSpec spec) throws IOException {
    int killed = freezer.killTasks(FENCE_WAIT);
    if (killed > 0) {
      LOG.warning("job " + spec.job() + ": killed " + killed + " leftover process(es) of an earlier node tree of "
          + spec.node() + " in " + freezer.dir());
    }
    return freezer;
  }

  /** See {@link Engine#fence}. */
  @Override
  public void fence(LaunchSpec spec) throws IOException {
    // Emptied, then removed: the tree that comes next creates it again (a lost job leaves no cgroup behind).
    TreeCgroups.fence(spec);
    if (spec.network() != null) {
      spec.network().awaitHostInterfaceFree(java.time.Duration.ofSeconds(10));
    }
  }

  /**
   * The node tree keeps the host's name in its own UTS namespace: launchers
   * compare it with the scheduler's allocation (Open MPI inside Slurm).
   */
  static String hostName() throws IOException {
    return Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
  }

  /** The runtime directory; the session directory too, unless the tree has an owner (who made it). */
  static void prepareRuntimeDir(LaunchSpec spec) throws IOException {
    Files.createDirectories(spec.runtimeDir());
    if (spec.owner() == null) {
      Files.createDirectories(spec.sessionDir());
    }
  }

  /** Unique per job directory, so that equally named jobs of other users never share a freezer. */
  static String cgroupName(LaunchSpec spec) {
    String tag = Integer.toHexString(spec.runtimeDir().toString().hashCode());
    return (spec.job() + "." + spec.node() + "." + tag).replaceAll("[^A-Za-z0-9._-]", "_");
  }

  /** What crmpi-ns and CRIU run with while they are root for a tree that has an owner. */
  static final Map<String, String> SCRUBBED_ENVIRONMENT = Map.of("PATH", "/usr/sbin:/usr/bin:/sbin:/bin",
      "LC_ALL", "C");

  /**
   * The job's environment for crmpi-ns --env-file (NUL-separated), in the
   * runtime directory (root's, when the tree has an owner): crmpi-ns gives
   * it to the job only once it runs as the owner.
   */
  static Path envFile(LaunchSpec spec, String what, Map<String, String> extraEnv) throws IOException {
    Map<String, String> env = new java.util.TreeMap<>(spec.environment());
    env.putAll(extraEnv);
    StringBuilder b = new StringBuilder();
    env.forEach((k, v) -> {
      if (k.indexOf('=') < 0 && k.indexOf('\0') < 0 && v.indexOf('\0') < 0) {
        b.append(k).append('=').append(v).append('\0');
      }
    });
    Path f = spec.runtimeDir().resolve(what + ".env");
    Files.deleteIfExists(f);
    Files.writeString(Files.createFile(f, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
        java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"))), b);
    return f;
  }

  /**
   * Starts cmd from the one spawner thread of this JVM. crmpi-ns kills its
   * tree when its parent dies (PR_SET_PDEATHSIG), and the kernel ties that
   * to the thread that forked it: a pool thread that ends would take the
   * tree along. The spawner thread lives as long as the JVM.
   */
  static Process start(List<String> cmd, LaunchSpec spec, Map<String, String> extraEnv) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(cmd)
        .directory((spec.owner() != null ? spec.runtimeDir() : spec.workdir()).toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    pb.environment().clear();
    if (spec.owner() != null) {
      // Root never runs with the owner's environment (LD_PRELOAD, PATH): the job gets it from --env-file.
      pb.environment().putAll(SCRUBBED_ENVIRONMENT);
    } else {
      pb.environment().putAll(spec.environment());
      pb.environment().putAll(extraEnv);
    }
    try {
      return SPAWNER.submit(pb::start).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while starting " + cmd.get(0));
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      throw new IOException("cannot start " + cmd.get(0) + ": " + e.getCause(), e.getCause());
    }
  }

  private static final java.util.concurrent.ExecutorService SPAWNER =
      java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "crmpi-spawner");
        t.setDaemon(true);
        return t;
      });

  /** A tree that never came up: its runtime, anything it started, and its cgroup go. */
  static void discard(Process shim, Freezer freezer) {
    shim.destroyForcibly();
    try {
      shim.waitFor(10, TimeUnit.SECONDS);
      freezer.killTasks(FENCE_WAIT);
    } catch (IOException e) {
      LOG.warning("cleaning up after a node tree that did not start: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    freezer.destroyQuietly();
  }

  /** Waits until crmpi-ns (or CRIU) has written the tree's pid, or has died trying. */
  static long awaitPid(Process shim, Path pidFile, String what) throws IOException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_TIMEOUT_MS);
    while (System.nanoTime() < deadline) {
      if (Files.exists(pidFile)) {
        String s = Files.readString(pidFile).strip();
        if (!s.isEmpty()) {
          return Long.parseLong(s);
        }
      }
      if (!shim.isAlive()) {
        String err = new String(shim.getErrorStream().readAllBytes()).strip();
        throw new IOException("crmpi-ns " + what + " failed (exit " + shim.exitValue() + ")"
            + (err.isEmpty() ? "" : ": " + err));
      }
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        shim.destroyForcibly();
        throw new IOException("interrupted while waiting for the node tree to " + what);
      }
    }
    shim.destroyForcibly();
    throw new IOException("crmpi-ns did not " + what + " the node tree within "
        + START_TIMEOUT_MS / 1000 + " s");
  }
}
