package io.crmpi.daemon;

import io.crmpi.engine.NodeTree;
import io.crmpi.engine.TreeExit;
import java.io.IOException;
import java.io.InputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Logger;

/**
 * A node tree that crmpid runs for this user, seen through its lease: the
 * connection on which crmpid sends the tree's output and, last, its exit.
 * Closing the lease kills the tree, so the tree never outlives the agent
 * that asked for it. When crmpid itself goes away the tree went with it
 * (crmpi-ns dies with crmpid), which this side reports as a SIGKILL.
 */
final class DaemonTree implements NodeTree {
  private static final Logger LOG = Logger.getLogger(DaemonTree.class.getName());
  private static final int PIPE = 1 << 20;
  private final DaemonClient client;
  private final TreeId id;
  private final SocketChannel lease;
  private final PipedInputStream stdout = new PipedInputStream(PIPE);
  private final PipedInputStream stderr = new PipedInputStream(PIPE);
  private final CompletableFuture<TreeExit> exit = new CompletableFuture<>();
  private volatile boolean killedByCrmpi;
  private final long initPid;

  @Override
  public long initPid() {
    return initPid;
  }

  DaemonTree(DaemonClient client, TreeId id, SocketChannel lease, InputStream in, long initPid) throws IOException {
    this.initPid = initPid;
    this.client = client;
    this.id = id;
    this.lease = lease;
    PipedOutputStream out = new PipedOutputStream(stdout);
    PipedOutputStream err = new PipedOutputStream(stderr);
    Thread reader = new Thread(() -> read(in, out, err), "crmpi-lease-" + id.node());
    reader.setDaemon(true);
    reader.start();
  }

  private void read(InputStream in, PipedOutputStream out, PipedOutputStream err) {
    TreeExit result = null;
    try {
      for (;;) {
        DaemonReply r = DaemonWire.readReply(in).orElse(null);
        if (r == null) {
          break;
        }
        if (r instanceof DaemonReply.Output o) {
          (o.stream() == 1 ? out : err).write(o.data());
          (o.stream() == 1 ? out : err).flush();
        } else if (r instanceof DaemonReply.Exited e) {
          result = e.exit();
          break;
        } else {
          LOG.warning(id + ": unexpected message on the lease: " + r.getClass().getSimpleName());
        }
      }
    } catch (IOException | RuntimeException e) {
      LOG.warning(id + ": the lease to crmpid broke: " + e.getMessage());
    } finally {
      closeQuietly(out);
      closeQuietly(err);
      try {
        lease.close();
      } catch (IOException e) {
        LOG.fine(id + ": " + e);
      }
      if (result == null) {
        // crmpid is gone, and the tree with it (crmpi-ns dies with crmpid).
        result = new TreeExit(128 + 9, killedByCrmpi);
      }
      exit.complete(new TreeExit(result.code(), result.killedByCrmpi() || killedByCrmpi));
    }
  }

  TreeId id() {
    return id;
  }

  @Override
  public InputStream stdout() {
    return stdout;
  }

  @Override
  public InputStream stderr() {
    return stderr;
  }

  @Override
  public CompletableFuture<TreeExit> exit() {
    return exit;
  }

  @Override
  public boolean isAlive() {
    return !exit.isDone();
  }

  @Override
  public int processes() {
    if (!isAlive()) {
      return 0;
    }
    try {
      return client.call(new DaemonRequest.Processes(id), DaemonReply.Count.class).processes();
    } catch (IOException e) {
      return 0;
    }
  }

  @Override
  public void kill() {
    killedByCrmpi = true;
    if (!isAlive()) {
      return;
    }
    try {
      client.call(new DaemonRequest.Kill(id));
    } catch (IOException e) {
      LOG.warning(id + ": " + e.getMessage() + "; closing the lease instead");
    }
    try {
      exit.get(30, TimeUnit.SECONDS);
    } catch (TimeoutException | java.util.concurrent.ExecutionException e) {
      LOG.warning(id + ": the tree did not end within 30 s of the kill; closing its lease");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      lease.close(); // crmpid kills a tree whose lease closes
    } catch (IOException e) {
      LOG.fine(id + ": " + e);
    }
    exit.join();
  }

  private static void closeQuietly(PipedOutputStream s) {
    try {
      s.close();
    } catch (IOException e) {
      // nobody reads any more
    }
  }
}
