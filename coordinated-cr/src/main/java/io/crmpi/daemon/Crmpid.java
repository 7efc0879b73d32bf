package io.crmpi.daemon;

import io.crmpi.wire.BadMessage;
import io.crmpi.engine.Engine;
import io.crmpi.engine.JobNetworkPlan;
import io.crmpi.engine.LaunchSpec;
import io.crmpi.engine.LocalTree;
import io.crmpi.engine.TreeExit;
import io.crmpi.store.NodeImage;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * crmpid, the one privileged process of crmpi on a node. It creates,
 * freezes, dumps, restores and kills node trees for the users whose jobs
 * they are, and nothing else: everything else of a job (the coordinator,
 * the agents, the checkpoint store, every CLI command) runs as the job's
 * owner and asks crmpid over its Unix socket.
 *
 * <p>Every connection is identified by SO_PEERCRED. A request names a tree
 * by job and node; crmpid looks it up among the caller's own trees only.
 * A caller's tree runs as the caller (crmpi-ns drops to their uid, gid and
 * groups with no capabilities and no_new_privs); root writes only into
 * directories of its own ({@link #config}'s state directory, and a
 * root-owned image directory it creates and hands to the owner once it is
 * sealed); and it restores only images that carry its {@link ImageSeal},
 * from a verified copy of its own ({@link ImageStaging}), and lets the
 * restored tree run only when every process of it is the caller's
 * ({@link TreeCredentials}).
 */
public final class Crmpid implements Closeable {
  private static final Logger LOG = Logger.getLogger(Crmpid.class.getName());
  static final int MAX_CONNECTIONS = 512;
  static final long FIRST_REQUEST_MS = 10_000;
  private static final long DRAIN_LIMIT = 8L << 20;

  /**
   * @param socket where crmpid listens (its directory must be root's)
   * @param stateDir root's directory for the trees' runtime files and staged images
   * @param jobNetwork the admin's job network (bridge and subnet), or null
   *     when this node runs no multi-node jobs through crmpid
   * @param slurmOnly whether crmpid serves only Slurm jobs (on compute nodes:
   *     no user runs work on a node outside an allocation)
   * @param metricsDir node_exporter's textfile-collector directory that
   *     crmpid writes its metrics into every 15 s, or null for none
   */
  public record Config(Path socket, Path stateDir, JobNetworkPlan jobNetwork, boolean slurmOnly, Path metricsDir) {}

  private final Config config;
  private final Engine engine;
  private final ImageSeal seal;
  private final Map<String, HostedTree> trees = new ConcurrentHashMap<>();
  private final Semaphore connections = new Semaphore(MAX_CONNECTIONS);
  private final ExecutorService workers = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "crmpid-connection");
    t.setDaemon(true);
    return t;
  });
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "crmpid-timer");
    t.setDaemon(true);
    return t;
  });
  private final ServerSocketChannel server;
  private final Admission admission;
  private final TreePlacement placement;
  private final DumpSealer sealer;
  private final JobNetworkFilter filter;
  private final NodeMetrics metrics = new NodeMetrics();
  /** When each frozen tree was frozen (System.nanoTime), by key. */
  private final Map<String, Long> frozenSince = new ConcurrentHashMap<>();
  private volatile boolean closed;
  private final Accounts accounts = Accounts.system();

  private Crmpid(Config config, Engine engine, NodeKey key, ServerSocketChannel server) {
    this.config = config;
    this.engine = engine;
    this.seal = new ImageSeal(key);
    this.server = server;
    this.admission = new Admission(new SlurmMembership(Path.of("/proc")), config.slurmOnly());
    this.placement = new TreePlacement(config.stateDir(), config.jobNetwork());
    this.sealer = new DumpSealer(engine, seal, workers);
    this.filter = config.jobNetwork() == null ? null : new JobNetworkFilter("crmpi_"
        + Integer.toHexString(config.socket().toString().hashCode()));
  }

  /** Binds the socket (mode 0666: SO_PEERCRED decides who may do what) in a directory of root's. */
  public static Crmpid bind(Config config, Engine engine, NodeKey key) throws IOException {
    Path dir = config.socket().getParent();
    Files.createDirectories(dir);
    requireRootOnly(dir, "socket directory");
    Files.createDirectories(config.stateDir());
    Files.setPosixFilePermissions(config.stateDir(), PosixFilePermissions.fromString("rwx------"));
    requireRootOnly(config.stateDir(), "state directory");
    Files.deleteIfExists(config.socket());
    ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    s.bind(UnixDomainSocketAddress.of(config.socket()), 64);
    Files.setPosixFilePermissions(config.socket(), PosixFilePermissions.fromString("rw-rw-rw-"));
    Crmpid daemon = new Crmpid(config, engine, key, s);
    if (daemon.filter != null) {
      try {
        daemon.filter.install();
      } catch (IOException e) {
        s.close();
        throw new IOException("cannot set up the job network's filter on bridge " + config.jobNetwork().bridge()
            + ": " + e.getMessage(), e);
      }
    }
    LOG.info("crmpid: listening on " + config.socket() + " (state in " + config.stateDir() + ")");
    // A checkpoint's requests run while the job's ranks stand frozen: compile their codec before the first one.
    daemon.workers.execute(DaemonWire::warmUp);
    if (config.metricsDir() != null) {
      daemon.timer.scheduleAtFixedRate(daemon::writeMetrics, 0, 15, TimeUnit.SECONDS);
      LOG.info("crmpid: metrics every 15 s in " + config.metricsDir().resolve(NodeMetrics.FILE));
    }
    return daemon;
  }

  /** A dump or a restore happened: the file shows it now, not only at the next 15 s tick. */
  private void metricsChanged() {
    if (config.metricsDir() != null) {
      timer.execute(this::writeMetrics);
    }
  }

  private void writeMetrics() {
    try {
      metrics.writeTo(config.metricsDir());
    } catch (IOException | RuntimeException e) {
      LOG.warning("crmpid: cannot write metrics into " + config.metricsDir() + ": " + e.getMessage());
    }
  }

  /** Accepts connections until {@link #close}. */
  public void serve() {
    while (!closed) {
      SocketChannel ch;
      try {
        ch = server.accept();
      } catch (IOException e) {
        if (!closed) {
          LOG.warning("crmpid: accept failed: " + e.getMessage());
        }
        continue;
      }
      if (!connections.tryAcquire()) {
        LOG.warning("crmpid: more than " + MAX_CONNECTIONS + " connections; refusing one");
        reject(ch, "crmpid is busy (" + MAX_CONNECTIONS + " connections): try again");
        continue;
      }
      workers.execute(() -> {
        try {
          session(ch);
        } finally {
          connections.release();
        }
      });
    }
  }

  /** Stops listening and kills every tree crmpid runs. */
  @Override
  public void close() {
    closed = true;
    try {
      server.close();
      Files.deleteIfExists(config.socket());
    } catch (IOException e) {
      LOG.fine("closing crmpid's socket: " + e);
    }
    for (HostedTree h : trees.values()) {
      h.tree.kill();
    }
    if (filter != null) {
      filter.uninstall();
    }
    workers.shutdownNow();
    timer.shutdownNow();
  }

  private void session(SocketChannel ch) {
    try (ch) {
      Caller caller;
      try {
        caller = Caller.of(ch, accounts);
      } catch (IOException | RuntimeException e) {
        reject(ch, "cannot tell who you are: " + e.getMessage());
        return;
      }
      InputStream in = ChannelStreams.in(ch);
      OutputStream out = ChannelStreams.out(ch);
      ScheduledFuture<?> idle = timer.schedule(() -> closeQuietly(ch), FIRST_REQUEST_MS, TimeUnit.MILLISECONDS);
      Optional<DaemonRequest> request;
      try {
        request = DaemonWire.readRequest(in);
      } catch (IOException | BadMessage e) {
        LOG.warning("crmpid: " + caller + ": bad request: " + e.getMessage());
        metrics.refused.inc();
        refuse(out, "bad request: " + e.getMessage());
        drain(ch, in);
        return;
      } finally {
        idle.cancel(false);
      }
      if (request.isEmpty()) {
        return;
      }
      DaemonRequest r = request.get();
      try {
        LOG.info("crmpid: " + caller + ": " + r.getClass().getSimpleName() + " " + r.tree());
        long start = System.nanoTime();
        handle(caller, r, in, out);
        boolean lease = r instanceof DaemonRequest.Launch || r instanceof DaemonRequest.Restore;
        LOG.info(() -> lease ? "crmpid: " + caller + ": " + r.tree() + ": lease closed" : "crmpid: " + caller + ": " + r.getClass().getSimpleName() + " " + r.tree() + " done in "
            + (System.nanoTime() - start) / 1_000_000 + " ms");
      } catch (IOException | RuntimeException e) {
        LOG.warning("crmpid: " + caller + ": " + r.getClass().getSimpleName() + ": " + e.getMessage());
        refuse(out, String.valueOf(e.getMessage()));
      }
    } catch (IOException e) {
      LOG.fine("crmpid: connection: " + e);
    }
  }

  private void handle(Caller caller, DaemonRequest request, InputStream in, OutputStream out) throws IOException {
    try {
      admission.admit(caller, request.tree());
    } catch (IOException e) {
      metrics.refused.inc();
      throw e;
    }
    if (request instanceof DaemonRequest.Launch l) {
      launch(caller, l, in, out);
    } else if (request instanceof DaemonRequest.Restore r) {
      long start = System.nanoTime();
      Restored restored;
      try {
        restored = restore(caller, r);
      } catch (IOException | RuntimeException e) {
        metrics.restores.labelValues(String.valueOf(e.getMessage()).startsWith("refusing") ? "refused" : "failed")
            .inc();
        throw e;
      }
      metrics.restores.labelValues("ok").inc();
      metrics.restoreSeconds.observe(NodeMetrics.since(start));
      metricsChanged();
      host(caller, r.tree(), restored.placed(), restored.tree(), in, out);
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
      java.util.Map<String, String> attributes;
      try {
        attributes = sealer.dump(caller, hosted(caller, d.tree()), d.nodeDir(),
            java.time.Duration.ofMillis(d.timeoutMillis()));
      } catch (IOException | RuntimeException e) {
        metrics.dumps.labelValues("failed").inc();
        throw e;
      }
      metrics.dumps.labelValues("ok").inc();
      metrics.dumpSeconds.observe(NodeMetrics.since(start));
      metricsChanged();
      DaemonWire.write(out, new DaemonReply.Dumped(attributes));
    } else if (request instanceof DaemonRequest.Persist p) {
      DaemonReply.Persisted persisted = sealer.persist(caller, hosted(caller, p.tree()), p.epoch());
      metrics.sealedBytes.inc(persisted.files().stream().mapToLong(io.crmpi.store.FileDigest::size).sum());
      DaemonWire.write(out, persisted);
    } else if (request instanceof DaemonRequest.JobEvent e) {
      hosted(caller, e.tree()); // only the job of a tree this caller runs here is counted
      metrics.record(e);
      metricsChanged();
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
      engine.fence(placement.place(caller, f.spec()));
      DaemonWire.write(out, new DaemonReply.Done());
    } else {
      throw new IllegalArgumentException("unknown request " + request.getClass().getSimpleName());
    }
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
  private Restored restore(Caller caller, DaemonRequest.Restore r) throws IOException {
    TreeId id = r.tree();
    requireFree(caller, id);
    String why = seal.refusal(caller.uid(), id, r.epoch(), r.files(), r.attributes());
    if (why != null) {
      throw new IOException("refusing to restore epoch " + r.epoch() + " of " + id + ": " + why);
    }
    TreePlacement.requireSessionDirectory(caller, r.spec());
    LaunchSpec placed = placement.place(caller, r.spec());
    Path staged;
    try {
      staged = ImageStaging.stage(r.imageDir(), r.files(), config.stateDir().resolve("staging"), caller.uid(),
          placed.runtimeDir().getFileName().toString());
    } catch (IOException e) {
      throw new IOException("refusing to restore epoch " + r.epoch() + " of " + id + ": " + e.getMessage(), e);
    }
    LocalTree tree;
    openPort(placed);
    try {
      NodeImage image = new NodeImage(id.node(), "image", r.files(), null, null, List.of(), r.attributes());
      tree = (LocalTree) engine.restore(placed, staged, image, r.epoch());
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

  static Path fdPath(int fd) {
    return Path.of("/proc/self/fd", Integer.toString(fd));
  }

  private static void requireRootOnly(Path dir, String what) throws IOException {
    PosixFileAttributes a = Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    if (!a.isDirectory() || !a.owner().getName().equals("root")
        || a.permissions().contains(PosixFilePermission.GROUP_WRITE)
        || a.permissions().contains(PosixFilePermission.OTHERS_WRITE)) {
      throw new IOException("crmpid's " + what + " " + dir + " must be a directory of root's that nobody else"
          + " can write (it is " + PosixFilePermissions.toString(a.permissions()) + ", owner "
          + a.owner().getName() + ")");
    }
  }

  private static void refuse(OutputStream out, String message) {
    try {
      DaemonWire.write(out, new DaemonReply.Refused(message));
    } catch (IOException e) {
      LOG.fine("crmpid: the client left before its refusal: " + e);
    }
  }

  private static void reject(SocketChannel ch, String message) {
    try (ch) {
      refuse(ChannelStreams.out(ch), message);
    } catch (IOException e) {
      LOG.fine("crmpid: " + e);
    }
  }

  /**
   * After a refusal, reads (and drops) what the client still sends, for a
   * moment and a bounded amount, so that it reads the refusal instead of a
   * reset connection; then the connection closes.
   */
  private void drain(SocketChannel ch, InputStream in) {
    ScheduledFuture<?> cut = timer.schedule(() -> closeQuietly(ch), 2, TimeUnit.SECONDS);
    try {
      ch.shutdownOutput();
      byte[] buf = new byte[65536];
      long total = 0;
      for (int n; total < DRAIN_LIMIT && (n = in.read(buf)) > 0; ) {
        total += n;
      }
    } catch (IOException e) {
      LOG.fine("crmpid: draining a refused connection: " + e);
    } finally {
      cut.cancel(false);
    }
  }

  private static void closeQuietly(SocketChannel ch) {
    try {
      ch.close();
    } catch (IOException e) {
      LOG.fine("crmpid: " + e);
    }
  }


}
