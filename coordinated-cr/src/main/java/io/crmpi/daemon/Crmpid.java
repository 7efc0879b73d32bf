package io.crmpi.daemon;

import io.crmpi.engine.Engine;
import io.crmpi.engine.JobNetwork;
import io.crmpi.engine.LaunchSpec;
import io.crmpi.engine.LocalTree;
import io.crmpi.engine.TreeExit;
import io.crmpi.nativeio.Posix;
import io.crmpi.store.FileDigest;
import io.crmpi.store.NodeImage;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
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
import java.util.stream.Stream;

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
  private static final int OUTPUT_CHUNK = 32 * 1024;
  private static final long DRAIN_LIMIT = 8L << 20;

  /**
   * @param socket where crmpid listens (its directory must be root's)
   * @param stateDir root's directory for the trees' runtime files and staged images
   * @param jobBridge the bridge that carries job networks, or null when this
   *     node runs no multi-node jobs through crmpid
   * @param slurmOnly whether crmpid serves only Slurm jobs (on compute nodes:
   *     no user runs work on a node outside an allocation)
   */
  public record Config(Path socket, Path stateDir, String jobBridge, boolean slurmOnly) {}

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
  private final SlurmMembership slurm = new SlurmMembership(Path.of("/proc"));
  private volatile boolean closed;

  private Crmpid(Config config, Engine engine, NodeKey key, ServerSocketChannel server) {
    this.config = config;
    this.engine = engine;
    this.seal = new ImageSeal(key);
    this.server = server;
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
    LOG.info("crmpid: listening on " + config.socket() + " (state in " + config.stateDir() + ")");
    return new Crmpid(config, engine, key, s);
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
    workers.shutdownNow();
    timer.shutdownNow();
  }

  private void session(SocketChannel ch) {
    try (ch) {
      Caller caller;
      try {
        caller = Caller.of(ch);
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
      } catch (IOException | DaemonWire.BadMessage e) {
        LOG.warning("crmpid: " + caller + ": bad request: " + e.getMessage());
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
        handle(caller, r, in, out);
      } catch (IOException | RuntimeException e) {
        LOG.warning("crmpid: " + caller + ": " + r.getClass().getSimpleName() + ": " + e.getMessage());
        refuse(out, String.valueOf(e.getMessage()));
      }
    } catch (IOException e) {
      LOG.fine("crmpid: connection: " + e);
    }
  }

  private void handle(Caller caller, DaemonRequest request, InputStream in, OutputStream out) throws IOException {
    admit(caller, request.tree());
    if (request instanceof DaemonRequest.Launch l) {
      launch(caller, l, in, out);
    } else if (request instanceof DaemonRequest.Restore r) {
      restore(caller, r, in, out);
    } else if (request instanceof DaemonRequest.Freeze f) {
      engine.freeze(hosted(caller, f.tree()).tree);
      DaemonWire.write(out, new DaemonReply.Done());
    } else if (request instanceof DaemonRequest.Thaw t) {
      engine.thaw(hosted(caller, t.tree()).tree);
      DaemonWire.write(out, new DaemonReply.Done());
    } else if (request instanceof DaemonRequest.Dump d) {
      DaemonWire.write(out, new DaemonReply.Dumped(dump(caller, d)));
    } else if (request instanceof DaemonRequest.Persist p) {
      DaemonWire.write(out, persist(caller, p));
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
      engine.fence(place(caller, f.spec()));
      DaemonWire.write(out, new DaemonReply.Done());
    } else {
      throw new IllegalArgumentException("unknown request " + request.getClass().getSimpleName());
    }
  }

  /**
   * A Slurm job's trees ("slurm-ID") are served only to processes inside
   * that job (so only to its owner, and only on its nodes); with slurmOnly,
   * nothing else is served to ordinary users.
   */
  private void admit(Caller caller, TreeId tree) throws IOException {
    if (caller.isRoot()) {
      return;
    }
    java.util.OptionalLong slurmJob = SlurmMembership.slurmJobOf(tree);
    if (slurmJob.isPresent()) {
      Optional<Long> in = caller.pid() > 0 ? slurm.jobOf(caller.pid()) : Optional.empty();
      if (in.isEmpty() || in.get() != slurmJob.getAsLong()) {
        throw new IOException(tree.job() + " is a Slurm job: crmpid serves it only to processes inside that job,"
            + " and your process " + caller.pid() + in.map(j -> " runs in Slurm job " + j).orElse(" runs in no"
            + " Slurm job") + " (run crmpi in the job's batch script or its steps)");
      }
    } else if (config.slurmOnly()) {
      throw new IOException("this node's crmpid serves only Slurm jobs (slurm_only in /etc/crmpi/crmpi.conf), and "
          + tree.job() + " is not one: run it inside a Slurm job");
    }
  }

  private void launch(Caller caller, DaemonRequest.Launch l, InputStream in, OutputStream out) throws IOException {
    TreeId id = l.tree();
    requireFree(caller, id);
    requireSessionDirectory(caller, l.spec());
    LaunchSpec placed = place(caller, l.spec());
    LocalTree tree = (LocalTree) engine.launch(placed);
    host(caller, id, placed, tree, in, out);
  }

  private void restore(Caller caller, DaemonRequest.Restore r, InputStream in, OutputStream out) throws IOException {
    TreeId id = r.tree();
    requireFree(caller, id);
    String why = seal.refusal(caller.uid(), id, r.epoch(), r.files(), r.attributes());
    if (why != null) {
      throw new IOException("refusing to restore epoch " + r.epoch() + " of " + id + ": " + why);
    }
    requireSessionDirectory(caller, r.spec());
    LaunchSpec placed = place(caller, r.spec());
    Path staged;
    try {
      staged = ImageStaging.stage(r.imageDir(), r.files(), config.stateDir().resolve("staging"), caller.uid(),
          placed.runtimeDir().getFileName().toString());
    } catch (IOException e) {
      throw new IOException("refusing to restore epoch " + r.epoch() + " of " + id + ": " + e.getMessage(), e);
    }
    LocalTree tree;
    try {
      NodeImage image = new NodeImage(id.node(), "image", r.files(), null, null, List.of(), r.attributes());
      tree = (LocalTree) engine.restore(placed, staged, image, r.epoch());
    } finally {
      ImageStaging.release(staged, caller.uid(), gid(caller));
    }
    if (caller.owner() != null) {
      try {
        TreeCredentials.requireOwner(tree.freezer().tasks(), caller.owner());
      } catch (IOException e) {
        tree.kill();
        throw new IOException("refusing the restored tree of epoch " + r.epoch() + " of " + id + ": "
            + e.getMessage() + "; it was killed before it could run");
      }
    }
    host(caller, id, placed, tree, in, out);
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
    try {
      DaemonWire.write(out, new DaemonReply.Started(tree.initPid()));
      Thread stdout = pump(tree.stdout(), 1, out, id);
      Thread stderr = pump(tree.stderr(), 2, out, id);
      Thread watcher = new Thread(() -> {
        try {
          while (in.read() >= 0) {
            // The client sends nothing on a lease; its end of stream is what counts.
          }
        } catch (IOException e) {
          // the same as an end of stream
        }
        if (tree.isAlive()) {
          LOG.info("crmpid: " + caller + ": the client of " + id + " is gone; killing its tree");
          tree.kill();
        }
      }, "crmpid-lease");
      watcher.setDaemon(true);
      watcher.start();
      TreeExit exit = tree.exit().join();
      join(stdout);
      join(stderr);
      try {
        DaemonWire.write(out, new DaemonReply.Exited(exit));
      } catch (IOException e) {
        LOG.fine("crmpid: " + caller + ": " + id + ": its client left before the tree's exit: " + e);
      }
      LOG.info("crmpid: " + caller + ": " + id + ": tree ended (" + exit.describe() + ")");
    } finally {
      trees.remove(key, hosted);
      HostedTree.PendingDump p = hosted.takePending();
      if (p != null) {
        p.discard();
      }
    }
  }

  private static Thread pump(InputStream from, int stream, OutputStream out, TreeId id) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[OUTPUT_CHUNK];
      boolean clientGone = false;
      try {
        for (int n; (n = from.read(buf)) > 0; ) {
          if (!clientGone) {
            try {
              DaemonWire.write(out, new DaemonReply.Output(stream, java.util.Arrays.copyOf(buf, n)));
            } catch (IOException e) {
              clientGone = true; // keep draining, so the tree never blocks on a full pipe
            }
          }
        }
      } catch (IOException e) {
        LOG.fine("crmpid: output of " + id + ": " + e);
      }
    }, "crmpid-output-" + stream);
    t.setDaemon(true);
    t.start();
    return t;
  }

  private Map<String, String> dump(Caller caller, DaemonRequest.Dump d) throws IOException {
    HostedTree h = hosted(caller, d.tree());
    int nodeFd = openOwnedDirectory(d.nodeDir(), caller);
    int imageFd;
    try {
      // Root's until CRIU is done: nobody can plant a symlink under a name CRIU writes.
      Path image = fdPath(nodeFd).resolve("image");
      Files.createDirectory(image, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      imageFd = Posix.openDirectoryNoFollow(image);
    } finally {
      Posix.close(nodeFd);
    }
    Map<String, String> attributes;
    try {
      if ((Integer) Files.getAttribute(fdPath(imageFd), "unix:uid") != 0) {
        throw new IOException("the image directory under " + d.nodeDir() + " was replaced during the dump");
      }
      if (caller.owner() != null) {
        TreeCredentials.requireOwner(h.tree.freezer().tasks(), caller.owner());
      }
      attributes = engine.dump(h.tree, h.placed, fdPath(imageFd));
    } catch (IOException | RuntimeException e) {
      handOver(imageFd, caller);
      throw e;
    }
    // The ranks are frozen until every node has answered: opening the files and handing the directory
    // over happen after this reply (the directory stays root's until then; persist waits for it).
    java.util.concurrent.CompletableFuture<PendingImage> capture = java.util.concurrent.CompletableFuture.supplyAsync(
        () -> {
          try {
            return PendingImage.capture(imageFd, caller.uid(), gid(caller));
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        }, workers);
    HostedTree.PendingDump old = h.replacePending(
        new HostedTree.PendingDump(capture, d.nodeDir().resolve("image"), attributes));
    if (old != null) {
      old.discard();
    }
    return attributes;
  }

  /** A failed dump's directory goes to the owner as it is (unsealed, so never restored), for their store to delete. */
  private static void handOver(int dirFd, Caller caller) {
    try (Stream<Path> s = Files.list(fdPath(dirFd).resolve("."))) {
      for (Path p : s.toList()) {
        chown(p, caller);
      }
      chown(fdPath(dirFd).resolve("."), caller);
    } catch (IOException | RuntimeException e) {
      LOG.warning("crmpid: " + caller + ": cannot hand a failed dump over: " + e.getMessage());
    } finally {
      Posix.close(dirFd);
    }
  }

  private DaemonReply.Persisted persist(Caller caller, DaemonRequest.Persist p) throws IOException {
    HostedTree h = hosted(caller, p.tree());
    HostedTree.PendingDump pending = h.takePending();
    if (pending == null) {
      throw new IOException(p.tree() + " has no dump to persist (epoch " + p.epoch() + ")");
    }
    PendingImage captured;
    try {
      captured = pending.image().join();
    } catch (java.util.concurrent.CompletionException e) {
      throw new IOException("the dump of " + p.tree() + " could not be opened for its seal: "
          + e.getCause().getMessage(), e.getCause());
    }
    try (PendingImage image = captured) {
      List<FileDigest> files = image.digestAndSync();
      Map<String, String> attributes = new LinkedHashMap<>(pending.attributes());
      attributes.put(ImageSeal.ATTRIBUTE, seal.seal(caller.uid(), p.tree(), p.epoch(), files, pending.attributes()));
      // Sealed: from now on the owner's to keep, read and delete (a change breaks the seal).
      image.handFilesTo(caller.uid(), gid(caller));
      return new DaemonReply.Persisted(files, attributes);
    }
  }

  private static int gid(Caller caller) {
    return caller.owner() == null ? 0 : caller.owner().gid();
  }

  private static void chown(Path p, Caller caller) throws IOException {
    Files.setAttribute(p, "unix:gid", gid(caller), LinkOption.NOFOLLOW_LINKS);
    Files.setAttribute(p, "unix:uid", caller.uid(), LinkOption.NOFOLLOW_LINKS);
  }

  /**
   * The spec as crmpid runs it: runtime files in root's state directory,
   * the network interface named by crmpid from the caller and the tree (so
   * no user can name, and so delete, another's), the bridge the admin
   * configured, and the caller as the owner.
   */
  LaunchSpec place(Caller caller, LaunchSpec spec) throws IOException {
    String tag = hex(sha256(spec.runtimeDir().toString())).substring(0, 8);
    Path runtime = config.stateDir().resolve("trees").resolve(Integer.toString(caller.uid()))
        .resolve(spec.job() + "." + spec.node() + "." + tag);
    JobNetwork network = null;
    if (spec.network() != null) {
      if (config.jobBridge() == null) {
        throw new IOException("this node's crmpid has no job bridge configured, so it runs no multi-node jobs:"
            + " set job_bridge in /etc/crmpi/crmpi.conf (docs/install.md, \"Job network\")");
      }
      if (!spec.network().bridge().equals(config.jobBridge())) {
        throw new IOException("the job asks for bridge " + spec.network().bridge() + ", but this cluster's job"
            + " bridge is " + config.jobBridge() + " (job_bridge in /etc/crmpi/crmpi.conf)");
      }
      String ifname = "cr" + hex(sha256(caller.uid() + "/" + spec.job() + "/" + spec.node())).substring(0, 11);
      network = new JobNetwork(ifname, config.jobBridge(), spec.network().address());
    }
    return spec.placed(runtime, network, caller.owner());
  }

  private static void requireSessionDirectory(Caller caller, LaunchSpec spec) throws IOException {
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

  private static int openOwnedDirectory(Path dir, Caller caller) throws IOException {
    int fd;
    try {
      fd = Posix.openDirectoryNoFollow(dir);
    } catch (RuntimeException e) {
      throw new IOException("cannot open " + dir + ": " + e.getMessage());
    }
    int owner = (Integer) Files.getAttribute(fdPath(fd), "unix:uid");
    if (owner != caller.uid()) {
      Posix.close(fd);
      throw new IOException(dir + " belongs to uid " + owner + ", not to " + caller);
    }
    return fd;
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

  private static void join(Thread t) {
    try {
      t.join(30_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
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
