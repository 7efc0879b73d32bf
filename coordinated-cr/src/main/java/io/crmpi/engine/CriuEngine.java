package io.crmpi.engine;

import io.crmpi.nativeio.Criu;
import io.crmpi.nativeio.CriuDumpRequest;
import io.crmpi.nativeio.CriuException;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The transparent engine: node trees run under crmpi-ns in their own PID,
 * mount, network, IPC and UTS namespaces and a freezer cgroup; CRIU (through
 * libcriu) dumps them with --leave-running, and crmpi-ns restores them with
 * the criu binary, reconnecting the tree's stdout and stderr to the new
 * agent's pipes (--inherit-fd) and binding the host's mounts back in.
 */
public final class CriuEngine implements Engine {
  static final String ATTR_STDOUT = "stdout";
  static final String ATTR_STDERR = "stderr";
  static final String ATTR_MOUNTS = "externalMounts";
  static final String ATTR_CGROUP = "cgroup";
  private static final int GHOST_LIMIT = 256 << 20;
  private static final long START_TIMEOUT_MS = 30_000;

  private final Criu criu;
  private final Path crmpiNs;

  public CriuEngine(Criu criu, Path crmpiNs) {
    if (!Files.isExecutable(crmpiNs)) {
      throw new IllegalArgumentException("crmpi-ns is not executable: " + crmpiNs
          + " (build crmpi with scripts/setup.sh)");
    }
    this.criu = criu;
    this.crmpiNs = crmpiNs;
  }

  @Override
  public String name() {
    return "criu";
  }

  @Override
  public NodeTree launch(LaunchSpec spec) throws IOException {
    prepareRuntimeDir(spec);
    Freezer freezer = Freezer.create(cgroupName(spec));
    Path pidFile = spec.runtimeDir().resolve("init.pid");
    Files.deleteIfExists(pidFile);
    List<String> cmd = new ArrayList<>(List.of(crmpiNs.toString(), "run",
        "--root-dir", spec.runtimeDir().resolve("rootfs").toString(),
        "--workdir", spec.workdir().toString(),
        "--tmpfs", spec.sessionDir().toString(),
        "--hostname", spec.node(),
        "--cgroup", freezer.dir().toString(),
        "--pid-file", pidFile.toString(),
        "--"));
    cmd.addAll(spec.command());
    Process shim = start(cmd, spec);
    long pid = awaitPid(shim, pidFile, "start");
    return new NodeTree(shim, pid, freezer);
  }

  @Override
  public void freeze(NodeTree tree) throws IOException {
    tree.freezer().freeze();
  }

  @Override
  public void thaw(NodeTree tree) throws IOException {
    tree.freezer().thaw();
  }

  @Override
  public Map<String, String> dump(NodeTree tree, LaunchSpec spec, Path imageDir) throws IOException {
    Map<String, String> mounts = MountTable.externalMounts(tree.initPid(), spec.workdir());
    Map<String, String> attributes = new LinkedHashMap<>();
    attributes.put(ATTR_STDOUT, fdTarget(tree.initPid(), 1));
    attributes.put(ATTR_STDERR, fdTarget(tree.initPid(), 2));
    attributes.put(ATTR_CGROUP, tree.freezer().dir().toString());
    StringBuilder encoded = new StringBuilder();
    Map<String, String> byMountPoint = new LinkedHashMap<>();
    mounts.forEach((key, mountPoint) -> {
      encoded.append(key).append('\t').append(mountPoint).append('\n');
      byMountPoint.put(mountPoint, key);
    });
    attributes.put(ATTR_MOUNTS, encoded.toString());
    TreeHealth.requireWhole(tree.freezer());
    try {
      criu.dump(new CriuDumpRequest(tree.initPid(), imageDir, "dump.log", true,
          tree.freezer().dir(), byMountPoint, GHOST_LIMIT));
    } catch (CriuException e) {
      throw new IOException(e.getMessage(), e);
    }
    TreeHealth.requireWhole(tree.freezer());
    return attributes;
  }

  @Override
  public NodeTree restore(LaunchSpec spec, Path imageDir, Map<String, String> attributes, long epoch)
      throws IOException {
    prepareRuntimeDir(spec);
    Path work = spec.runtimeDir().resolve("criu-work");
    Files.createDirectories(work);
    Path pidFile = spec.runtimeDir().resolve("restored.pid");
    Files.deleteIfExists(pidFile);
    String cgroup = require(attributes, ATTR_CGROUP);
    Files.createDirectories(Path.of(cgroup));
    Path root = spec.runtimeDir().resolve("restore-root");
    String log = "restore-" + epoch + ".log";
    List<String> cmd = new ArrayList<>(List.of(crmpiNs.toString(), "restore",
        "--root-dir", root.toString(), "--pid-file", pidFile.toString(), "--",
        criu.installation().binary().toString(), "restore",
        "--images-dir", imageDir.toString(),
        "--work-dir", work.toString(),
        "--log-file", log, "-v4",
        "--root", root.toString(),
        "--restore-detached", "--pidfile", pidFile.toString(),
        "--tcp-established", "--network-lock", "nftables",
        "--ghost-limit", Integer.toString(GHOST_LIMIT),
        "--inherit-fd", "fd[1]:" + require(attributes, ATTR_STDOUT),
        "--inherit-fd", "fd[2]:" + require(attributes, ATTR_STDERR)));
    for (String line : require(attributes, ATTR_MOUNTS).split("\n")) {
      if (line.isEmpty()) {
        continue;
      }
      String[] kv = line.split("\t", 2);
      String target = kv[0].equals(MountTable.WORKDIR_KEY) ? spec.workdir().toString() : kv[1];
      cmd.add("--external");
      cmd.add("mnt[" + kv[0] + "]:" + target);
    }
    Process shim = start(cmd, spec);
    long pid;
    try {
      pid = awaitPid(shim, pidFile, "restore");
    } catch (IOException e) {
      throw new IOException(e.getMessage() + Criu.errorLines(work.resolve(log)), e);
    }
    Freezer freezer = Freezer.create(Path.of(cgroup).getFileName().toString());
    return new NodeTree(shim, pid, freezer);
  }

  private static String require(Map<String, String> attributes, String key) throws IOException {
    String v = attributes.get(key);
    if (v == null) {
      throw new IOException("the image has no '" + key + "' attribute: it was not made by the criu engine");
    }
    return v;
  }

  /** Unique per job directory, so that equally named jobs of other users never share a freezer. */
  private static String cgroupName(LaunchSpec spec) {
    String tag = Integer.toHexString(spec.runtimeDir().toString().hashCode());
    return (spec.job() + "." + spec.node() + "." + tag).replaceAll("[^A-Za-z0-9._-]", "_");
  }

  private static void prepareRuntimeDir(LaunchSpec spec) throws IOException {
    Files.createDirectories(spec.runtimeDir());
    Files.createDirectories(spec.sessionDir());
  }

  private static String fdTarget(long pid, int fd) throws IOException {
    Path link = Path.of("/proc", Long.toString(pid), "fd", Integer.toString(fd));
    String target = Files.readSymbolicLink(link).toString();
    if (!target.startsWith("pipe:[")) {
      throw new IOException("fd " + fd + " of the node tree is " + target
          + ", not the agent's pipe: cannot be reconnected at restore");
    }
    return target;
  }

  private Process start(List<String> cmd, LaunchSpec spec) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(cmd)
        .directory(spec.workdir().toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    pb.environment().clear();
    pb.environment().putAll(spec.environment());
    return pb.start();
  }

  /** Waits until crmpi-ns has written the tree's pid, or has died trying. */
  private static long awaitPid(Process shim, Path pidFile, String what) throws IOException {
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
