package io.crmpi.daemon;

import io.crmpi.engine.LocalTree;
import io.crmpi.engine.TreeExit;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.logging.Logger;

/**
 * A tree's lease: the connection of the client that started it. The
 * tree's stdout and stderr go to the client as Output messages, its exit
 * as the last message; the client's end of stream kills the tree, so no
 * tree outlives the agent that asked for it.
 */
final class TreeLease {
  private static final Logger LOG = Logger.getLogger(TreeLease.class.getName());
  private static final int OUTPUT_CHUNK = 32 * 1024;

  private TreeLease() {}

  /** Serves the lease until the tree is gone; returns how it ended. */
  static TreeExit serve(Caller caller, TreeId id, LocalTree tree, InputStream in, OutputStream out)
      throws IOException {
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
    return exit;
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

  private static void join(Thread t) {
    try {
      t.join(30_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
