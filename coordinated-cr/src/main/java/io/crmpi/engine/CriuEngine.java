package io.crmpi.engine;

import io.crmpi.nativeio.Criu;
import io.crmpi.nativeio.CriuDumpRequest;
import io.crmpi.nativeio.CriuException;
import io.crmpi.store.NodeImage;
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

  private final Criu criu;
  private final Path crmpiNs;
  private final NodeTreeRuntime runtime;

  public CriuEngine(Criu criu, Path crmpiNs) {
    this.runtime = new NodeTreeRuntime(crmpiNs);
    this.criu = criu;
    this.crmpiNs = crmpiNs;
  }

  @Override
  public String name() {
    return "criu";
  }

  @Override
  public NodeTree launch(LaunchSpec spec) throws IOException {
    return runtime.launch(spec, Map.of());
  }

  @Override
  public void exec(NodeTree tree, LaunchSpec spec, List<String> command) throws IOException {
    runtime.exec(tree, spec, command);
  }

  @Override
  public void freeze(NodeTree tree) throws IOException {
    LocalTree.of(tree).freezer().freeze();
  }

  @Override
  public void thaw(NodeTree tree) throws IOException {
    LocalTree.of(tree).freezer().thaw();
  }

  @Override
  public Map<String, String> dump(NodeTree anyTree, LaunchSpec spec, Path imageDir, java.time.Duration timeout)
      throws IOException {
    LocalTree tree = LocalTree.of(anyTree);
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
    TreeHealth.requireWhole(tree.freezer(), tree);
    if (!Files.isDirectory(imageDir)) {
      Files.createDirectory(imageDir);
    }
    CriuDump.run(criu.installation().binary(), new CriuDumpRequest(tree.initPid(), imageDir, "dump.log", true,
        tree.freezer().dir(), byMountPoint, GHOST_LIMIT), timeout);
    int processes = TreeHealth.requireWhole(tree.freezer(), tree);
    attributes.put(NodeImage.ATTR_PROCESSES, Integer.toString(processes));
    return attributes;
  }

  @Override
  public void fence(LaunchSpec spec) throws IOException {
    runtime.fence(spec);
  }

  @Override
  public NodeTree restore(LaunchSpec spec, Path imageDir, NodeImage image, long epoch) throws IOException {
    Map<String, String> attributes = image.attributes();
    NodeTreeRuntime.prepareRuntimeDir(spec);
    Path work = spec.runtimeDir().resolve("criu-work");
    Files.createDirectories(work);
    Path pidFile = spec.runtimeDir().resolve("restored.pid");
    Files.deleteIfExists(pidFile);
    Files.deleteIfExists(pidFile.resolveSibling(pidFile.getFileName() + ".ready"));
    // The tree goes into the cgroups of the job as it is now (after a requeue, another step's), not the image's.
    TreeCgroups cgroups = TreeCgroups.place(spec);
    Path root = spec.runtimeDir().resolve("restore-root");
    String log = "restore-" + epoch + ".log";
    List<String> cmd = new ArrayList<>(List.of(crmpiNs.toString(), "restore",
        "--root-dir", root.toString(), "--pid-file", pidFile.toString()));
    cmd.addAll(cgroups.arguments());
    cmd.addAll(List.of("--",
        criu.installation().binary().toString(), "restore",
        "--images-dir", imageDir.toString(),
        "--work-dir", work.toString(),
        "--log-file", log, "-v4",
        "--root", root.toString(),
        // The restored init becomes crmpi-ns's child and dies with it (its parent-death signal).
        "--restore-detached", "--restore-sibling", "--pidfile", pidFile.toString(),
        "--tcp-established", "--network-lock", "nftables",
        // The tree goes into crmpi-ns's --join and --cgroup cgroups (the job's now), not those the image recorded.
        "--manage-cgroups=ignore", // an optional argument: it must be attached
        "--ghost-limit", Integer.toString(GHOST_LIMIT),
        "--inherit-fd", "fd[1]:" + require(attributes, ATTR_STDOUT),
        "--inherit-fd", "fd[2]:" + require(attributes, ATTR_STDERR)));
    if (spec.network() != null) {
      spec.network().awaitHostInterfaceFree(java.time.Duration.ofSeconds(10));
      // The slot's veth comes back on this host, attached to its bridge; the address is in the image.
      cmd.add("--external");
      cmd.add("veth[" + JobNetwork.INNER_INTERFACE + "]:" + spec.network().hostInterface() + "@"
          + spec.network().bridge());
    }
    for (String line : require(attributes, ATTR_MOUNTS).split("\n")) {
      if (line.isEmpty()) {
        continue;
      }
      String[] kv = line.split("\t", 2);
      String target = kv[0].equals(MountTable.WORKDIR_KEY) ? spec.workdir().toString() : kv[1];
      cmd.add("--external");
      cmd.add("mnt[" + kv[0] + "]:" + target);
    }
    Process shim = NodeTreeRuntime.start(cmd, spec, Map.of());
    long pid;
    try {
      // F.ready appears once CRIU has exited: the tree is whole (credentials, freezer state) and waits for its thaw.
      pid = NodeTreeRuntime.awaitPid(shim, pidFile.resolveSibling(pidFile.getFileName() + ".ready"), "restore");
    } catch (IOException e) {
      NodeTreeRuntime.discard(shim, cgroups.freezer());
      throw new IOException(e.getMessage() + CriuDiagnosis.report(work.resolve(log)), e);
    }
    LocalTree tree = new LocalTree(shim, pid, cgroups);
    // The restored tree must stay as whole as its image: the next checkpoint compares with it.
    tree.healthyProcesses(NodeImage.processes(attributes).orElse(0));
    return tree;
  }

  private static String require(Map<String, String> attributes, String key) throws IOException {
    String v = attributes.get(key);
    if (v == null) {
      throw new IOException("the image has no '" + key + "' attribute: it was not made by the criu engine");
    }
    return v;
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

}
