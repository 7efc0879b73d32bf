package io.crmpi.daemon;

import io.crmpi.wire.BadMessage;
import io.crmpi.engine.Engine;
import io.crmpi.engine.JobNetworkPlan;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
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
import java.util.Optional;
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
  /** When the runtime directories of trees that ended are swept ({@link TreeDirSweep}), in minutes. */
  private static final long SWEEP_FIRST_MINUTES = 1;
  private static final long SWEEP_EVERY_MINUTES = 60;

  /**
   * @param socket where crmpid listens (its directory must be root's)
   * @param stateDir root's directory for the trees' runtime files and staged images
   * @param jobNetwork the admin's job network (bridge and subnet), or null
   *     when this node runs no multi-node jobs through crmpid
   * @param slurmOnly whether crmpid serves only Slurm jobs (on compute nodes:
   *     no user runs work on a node outside an allocation)
   * @param metricsDir node_exporter's textfile-collector directory that
   *     crmpid writes its metrics into every 15 s, or null for none
   * @param metricsListen the address crmpid serves its metrics on over HTTP
   *     (GET /metrics), or null for none
   */
  public record Config(Path socket, Path stateDir, JobNetworkPlan jobNetwork, boolean slurmOnly, Path metricsDir,
      InetSocketAddress metricsListen) {
    /** No HTTP exporter. */
    public Config(Path socket, Path stateDir, JobNetworkPlan jobNetwork, boolean slurmOnly, Path metricsDir) {
      this(socket, stateDir, jobNetwork, slurmOnly, metricsDir, null);
    }
  }

  private final Config config;
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
  private final JobNetworkFilter filter;
  private final NodeMetrics metrics = new NodeMetrics();
  private final MetricsPublisher published;
  private final TreeService service;
  private volatile boolean closed;
  private final Accounts accounts = Accounts.system();

  private Crmpid(Config config, Engine engine, NodeKey key, ServerSocketChannel server) {
    this.config = config;
    this.server = server;
    this.filter = config.jobNetwork() == null ? null : new JobNetworkFilter("crmpi_"
        + Integer.toHexString(config.socket().toString().hashCode()));
    this.published = new MetricsPublisher(metrics, config.metricsDir(), config.metricsListen(), timer);
    this.service = new TreeService(config, engine, new ImageSeal(key), filter, metrics, published, workers);
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
    try {
      if (daemon.filter != null) {
        try {
          daemon.filter.install();
        } catch (IOException e) {
          throw new IOException("cannot set up the job network's filter on bridge " + config.jobNetwork().bridge()
              + ": " + e.getMessage(), e);
        }
      }
      daemon.published.start();
    } catch (IOException e) {
      daemon.close();
      throw e;
    }
    LOG.info("crmpid: listening on " + config.socket() + " (state in " + config.stateDir() + ")");
    // A checkpoint's requests run while the job's ranks stand frozen: compile their codec before the first one.
    daemon.workers.execute(DaemonWire::warmUp);
    TreeDirSweep sweep = TreeDirSweep.of(config.stateDir(), java.time.Clock.systemUTC());
    daemon.timer.scheduleWithFixedDelay(() -> daemon.workers.execute(() -> daemon.service.sweepRuntimeDirs(sweep)),
        SWEEP_FIRST_MINUTES, SWEEP_EVERY_MINUTES, TimeUnit.MINUTES);
    return daemon;
  }

  /** The port crmpid serves its metrics on over HTTP, or -1 when it does not. */
  public int metricsPort() {
    return published.httpPort();
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
    service.killAll();
    if (filter != null) {
      filter.uninstall();
    }
    published.close();
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
      String what = caller + ": " + r.getClass().getSimpleName() + " " + r.tree();
      boolean lease = r instanceof DaemonRequest.Launch || r instanceof DaemonRequest.Restore;
      long start = System.nanoTime();
      try {
        if (lease) {
          LOG.info("crmpid: " + what); // the lease lasts as long as the tree
        }
        service.handle(caller, r, in, out);
        long ms = (System.nanoTime() - start) / 1_000_000;
        LOG.info("crmpid: " + what + (lease ? ": lease closed after " + ms / 1000 + " s" : " done in " + ms + " ms"));
      } catch (IOException | RuntimeException e) {
        LOG.warning("crmpid: " + what + ": " + e.getMessage());
        refuse(out, String.valueOf(e.getMessage()));
      }
    } catch (IOException e) {
      LOG.fine("crmpid: connection: " + e);
    }
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
