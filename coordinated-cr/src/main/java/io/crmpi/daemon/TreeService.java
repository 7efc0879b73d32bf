package io.crmpi.daemon;

import io.crmpi.engine.Engine;
import io.crmpi.engine.LaunchSpec;
import io.crmpi.engine.LocalTree;
import io.crmpi.engine.ProgressListener;
import io.crmpi.engine.TreeExit;
import io.crmpi.store.FileDigest;
import io.crmpi.store.NodeImage;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.logging.Logger;

/**
 * What crmpid does for a caller once it knows who they are: each request on
 * the caller's own trees (launch, restore, freeze, dump, persist, thaw,
 * exec, count, kill, fence, job events), admitted first, and counted in the
 * node's metrics. It holds the trees crmpid runs, keyed by the caller's uid,
 * job and node, so a request never reaches another user's tree.
 */
final class TreeService {
  private static final Logger LOG = Logger.getLogger(TreeService.class.getName());

  private final Engine engine;
  private final ImageSeal seal;
  private final Path stateDir;
  private final Admission admission;
  private final TreePlacement placement;
  private final DumpSealer sealer;
  private final JobNetworkFilter filter;
  private final NodeMetrics metrics;
  private final MetricsPublisher published;
  private final Map<String, HostedTree> trees = new ConcurrentHashMap<>();
  private final RuntimeDirs runtimeDirs = new RuntimeDirs();
  /** When each frozen tree was frozen (System.nanoTime), by key. */
  private final Map<String, Long> frozenSince = new ConcurrentHashMap<>();

  /**
   * @param filter the job network's bridge filter (installed by the
   *     caller), or null when crmpid serves no job network
   */
  TreeService(Crmpid.Config config, Engine engine, ImageSeal seal, JobNetworkFilter filter, NodeMetrics metrics,
      MetricsPublisher published, ExecutorService workers) {
    this.engine = engine;
    this.seal = seal;
    this.stateDir = config.stateDir();
    this.admission = new Admission(new SlurmMembership(Path.of("/proc")), config.slurmOnly());
    this.placement = new TreePlacement(config.stateDir(), config.jobNetwork());
    this.sealer = new DumpSealer(engine, seal, workers, new UnsealedImages(System::nanoTime));
    this.filter = filter;
    this.metrics = metrics;
    this.published = published;
  }

  /** Kills every tree crmpid runs, and closes the images that wait for their seal (crmpid is stopping). */
  void killAll() {
    for (HostedTree h : trees.values()) {
      h.tree.kill();
    }
    sealer.close();
  }

  /** Serves one request of the caller; a refusal is an IOException whose message says why. */
  void handle(Caller caller, DaemonRequest request, InputStream in, OutputStream out) throws IOException {
    try {
      admission.admit(caller, request.tree());
    } catch (IOException e) {
      metrics.refused.inc();
      throw e;
    }
    if (request instanceof DaemonRequest.Launch l) {
      try (RuntimeDirs.Use use = runtimeDirs.use(placement.runtimeDir(caller, l.spec()))) {
        launch(caller, l, in, out);
      }
    } else if (request instanceof DaemonRequest.Restore r) {
      try (RuntimeDirs.Use use = runtimeDirs.use(placement.runtimeDir(caller, r.spec()))) {
        restoreAndHost(caller, r, in, out);
      }
    } else if (request instanceof DaemonRequest.Freeze f) {
      engine.freeze(hosted(caller, f.tree()).tree);
      frozenSince.putIfAbsent(key(caller, f.tree()), System.nanoTime());
      DaemonWire.write(out, new DaemonReply.Done());
    } else if (request instanceof DaemonRequest.Thaw t) {
      engine.thaw(hosted(caller, t.tree()).tree);
      Long since = frozenSince.remove(key(caller, t.tree()));
      if (since != null) {
        metrics.frozenSeconds.observe(NodeMetrics.since(since));
      }
      DaemonWire.write(out, new DaemonReply.Done());
    } else if (request instanceof DaemonRequest.Dump d) {
      long start = System.nanoTime();
      Map<String, String> attributes;
      try {
        attributes = sealer.dump(caller, hosted(caller, d.tree()), d.nodeDir(),
            Duration.ofMillis(d.timeoutMillis()), new ProgressReports(out, System::nanoTime));
      } catch (IOException | RuntimeException e) {
        metrics.dumps.labelValues("failed").inc();
        throw e;
      }
      metrics.dumps.labelValues("ok").inc();
      metrics.dumpSeconds.observe(NodeMetrics.since(start));
      published.changed();
      DaemonWire.write(out, new DaemonReply.Dumped(attributes));
    } else if (request instanceof DaemonRequest.Persist p) {
      DaemonWire.write(out, sealer.persist(hosted(caller, p.tree()), p.epoch(), key(caller, p.tree())));
    } else if (request instanceof DaemonRequest.Seal p) {
      // Not hosted(): the tree may have ended since its persist; the key is the caller's own.
      DaemonReply.Sealed sealed = sealer.seal(caller, p.tree(), p.epoch(), key(caller, p.tree()));
      metrics.sealedBytes.inc(sealed.files().stream().mapToLong(FileDigest::size).sum());
      DaemonWire.write(out, sealed);
    } else if (request instanceof DaemonRequest.JobEvent e) {
      hosted(caller, e.tree()); // only the job of a tree this caller runs here is counted
      metrics.record(e);
      published.changed();
      DaemonWire.write(out, new DaemonReply.Done());
    } else if (request instanceof DaemonRequest.Exec e) {
      HostedTree h = hosted(caller, e.tree());
      engine.exec(h.tree, h.placed, e.command());
      DaemonWire.write(out, new DaemonReply.Done());
    } else if (request instanceof DaemonRequest.Processes p) {
      HostedTree h = trees.get(key(caller, p.tree()));
      DaemonWire.write(out, new DaemonReply.Count(h == null ? 0 : h.tree.processes()));
    } else if (request instanceof DaemonRequest.Kill k) {
      HostedTree h = trees.get(key(caller, k.tree()));
      if (h != null) {
        h.tree.kill();
      }
      DaemonWire.write(out, new DaemonReply.Done());
    } else if (request instanceof DaemonRequest.Fence f) {
      HostedTree h = trees.get(key(caller, f.tree()));
      if (h != null) {
        h.tree.kill();
      }
      try (RuntimeDirs.Use use = runtimeDirs.use(placement.runtimeDir(caller, f.spec()))) {
        engine.fence(placement.place(caller, f.spec()));
      }
      DaemonWire.write(out, new DaemonReply.Done());
    } else {
      throw new IllegalArgumentException("unknown request " + request.getClass().getSimpleName());
    }
  }

  /**
   * Removes the runtime directories of trees that ended a while ago
   * ({@link TreeDirSweep}); none that a tree uses or a request is placing.
   */
  int sweepRuntimeDirs(TreeDirSweep sweep) {
    return runtimeDirs.sweep(sweep);
  }

  private void restoreAndHost(Caller caller, DaemonRequest.Restore r, InputStream in, OutputStream out)
      throws IOException {
    long start = System.nanoTime();
    Restored restored;
    try {
      restored = restore(caller, r, new ProgressReports(out, System::nanoTime));
    } catch (IOException | RuntimeException e) {
      metrics.restores.labelValues(String.valueOf(e.getMessage()).startsWith("refusing") ? "refused" : "failed")
          .inc();
      throw e;
    }
    metrics.restores.labelValues("ok").inc();
    metrics.restoreSeconds.observe(NodeMetrics.since(start));
    published.changed();
    host(caller, r.tree(), restored.placed(), restored.tree(), in, out);
  }

  private void launch(Caller caller, DaemonRequest.Launch l, InputStream in, OutputStream out) throws IOException {
    TreeId id = l.tree();
    requireFree(caller, id);
    TreePlacement.requireSessionDirectory(caller, l.spec());
    LaunchSpec placed = placement.place(caller, l.spec());
    openPort(placed);
    LocalTree tree;
    try {
      tree = (LocalTree) engine.launch(placed);
    } catch (IOException | RuntimeException e) {
      closePort(placed);
      throw e;
    }
    host(caller, id, placed, tree, in, out);
  }

  /** A tree restored and checked, not yet hosted. */
  private record Restored(LaunchSpec placed, LocalTree tree) {}

  /** Restores a tree from a sealed image and checks it; every refusal's message starts with "refusing". */
  private Restored restore(Caller caller, DaemonRequest.Restore r, ProgressListener progress) throws IOException {
    TreeId id = r.tree();
    requireFree(caller, id);
    String why = seal.refusal(caller.uid(), id, r.epoch(), r.files(), r.attributes());
    if (why != null) {
      throw new IOException("refusing to restore epoch " + r.epoch() + " of " + id + ": " + why);
    }
    TreePlacement.requireSessionDirectory(caller, r.spec());
    LaunchSpec placed = placement.place(caller, r.spec());
    Path staged;
    long total = r.files().stream().mapToLong(FileDigest::size).sum();
    long start = System.nanoTime();
    try {
      long[] read = {0};
      staged = ImageStaging.stage(r.imageDir(), r.files(), stateDir.resolve("staging"), caller.uid(),
          placed.runtimeDir().getFileName().toString(), n -> progress.at(read[0] += n, total));
    } catch (IOException e) {
      throw new IOException("refusing to restore epoch " + r.epoch() + " of " + id + ": " + e.getMessage(), e);
    }
    long stagedAt = System.nanoTime();
    LocalTree tree;
    openPort(placed);
    try {
      NodeImage image = new NodeImage(id.node(), "image", r.files(), null, null, List.of(), r.attributes());
      tree = (LocalTree) engine.restore(placed, staged, image, r.epoch());
      LOG.info(String.format("crmpid: %s: %s epoch %d: image of %d MiB staged and checked in %d ms, restored by"
          + " CRIU in %d ms", caller, id, r.epoch(), total >> 20, (stagedAt - start) / 1_000_000,
          (System.nanoTime() - stagedAt) / 1_000_000));
    } catch (IOException | RuntimeException e) {
      closePort(placed);
      throw e;
    } finally {
      ImageStaging.release(staged, caller.uid(), DumpSealer.gid(caller));
    }
    if (caller.owner() != null) {
      try {
        TreeCredentials.requireOwner(tree.freezer().tasks(), caller.owner());
      } catch (IOException e) {
        tree.kill();
        closePort(placed);
        throw new IOException("refusing the restored tree of epoch " + r.epoch() + " of " + id + ": "
            + e.getMessage() + "; it was killed before it could run");
      }
    }
    return new Restored(placed, tree);
  }

  /** Serves a tree's lease: its output and exit go to the client; the client's end of stream kills it. */
  private void host(Caller caller, TreeId id, LaunchSpec placed, LocalTree tree, InputStream in, OutputStream out)
      throws IOException {
    HostedTree hosted = new HostedTree(caller, id, placed, tree);
    String key = key(caller, id);
    // A killed tree's lease may still be ending: it gives way to the new copy.
    if (trees.compute(key, (k, old) -> old == null || !old.tree.isAlive() ? hosted : old) != hosted) {
      tree.kill();
      throw new IOException(id + " already has a node tree on this node");
    }
    metrics.trees.set(trees.size());
    try {
      TreeExit exit = TreeLease.serve(caller, id, tree, in, out);
      LOG.info("crmpid: " + caller + ": " + id + ": tree ended (" + exit.describe() + ")");
    } finally {
      trees.remove(key, hosted);
      frozenSince.remove(key);
      metrics.trees.set(trees.size());
      closePort(placed);
      HostedTree.PendingDump p = hosted.takePending();
      if (p != null) {
        p.discard();
      }
    }
  }

  /** The tree's port on the job bridge passes only its job's traffic (before the tree exists). */
  private void openPort(LaunchSpec placed) throws IOException {
    if (filter != null && placed.network() != null) {
      filter.open(placed.network());
    }
  }

  private void closePort(LaunchSpec placed) {
    if (filter != null && placed.network() != null) {
      filter.close(placed.network().hostInterface());
    }
  }

  private void requireFree(Caller caller, TreeId id) throws IOException {
    HostedTree h = trees.get(key(caller, id));
    if (h != null && h.tree.isAlive()) {
      throw new IOException(id + " already has a running node tree on this node (kill or fence it first)");
    }
  }

  private HostedTree hosted(Caller caller, TreeId id) throws IOException {
    HostedTree h = trees.get(key(caller, id));
    if (h == null) {
      throw new IOException("you (" + caller + ") have no node tree for " + id + " on this node");
    }
    return h;
  }

  private static String key(Caller caller, TreeId id) {
    return caller.uid() + "/" + id.job() + "/" + id.node();
  }

}
