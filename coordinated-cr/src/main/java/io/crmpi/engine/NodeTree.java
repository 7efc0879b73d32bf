package io.crmpi.engine;

import io.crmpi.nativeio.Posix;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * A running node tree: the crmpi-ns process that parents it, the host pid
 * of the tree's init (what the engine dumps), the freezer that can stop it,
 * and the pipes of its stdout and stderr. {@link #exit()} completes when
 * the tree is gone.
 */
public final class NodeTree {
  private static final Logger LOG = Logger.getLogger(NodeTree.class.getName());
  private final Process shim;
  private final long initPid;
  private final Freezer freezer;
  private final CompletableFuture<TreeExit> exit = new CompletableFuture<>();
  private volatile boolean killedByCrmpi;
  private volatile int healthyProcesses;

  NodeTree(Process shim, long initPid, Freezer freezer) {
    this.shim = shim;
    this.initPid = initPid;
    this.freezer = freezer;
    shim.onExit().thenAccept(p -> {
      freezer.destroyQuietly();
      exit.complete(new TreeExit(p.exitValue(), killedByCrmpi));
    });
  }

  /** How many processes the tree had at its last checked checkpoint (0 before the first). */
  int healthyProcesses() {
    return healthyProcesses;
  }

  void healthyProcesses(int n) {
    healthyProcesses = n;
  }

  /** How many processes the tree has now (0 once it is gone). */
  public int processes() {
    if (!isAlive()) {
      return 0;
    }
    try {
      return freezer.tasks().size();
    } catch (IOException e) {
      return 0;
    }
  }

  public long initPid() {
    return initPid;
  }

  public Freezer freezer() {
    return freezer;
  }

  public InputStream stdout() {
    return shim.getInputStream();
  }

  public InputStream stderr() {
    return shim.getErrorStream();
  }

  public CompletableFuture<TreeExit> exit() {
    return exit;
  }

  public boolean isAlive() {
    return shim.isAlive();
  }

  /**
   * Kills the whole tree (crmpi-ns kills PID 1 of the tree's namespace,
   * which takes every process of it along) and waits for it to be gone.
   * A frozen tree is thawed first so that it can die.
   */
  public void kill() {
    killedByCrmpi = true;
    if (!shim.isAlive()) {
      return;
    }
    Posix.kill(initPid, Posix.SIGKILL);
    freezer.thawQuietly();
    shim.destroy();
    try {
      if (!shim.waitFor(10, TimeUnit.SECONDS)) {
        shim.destroyForcibly();
        shim.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      // Whatever the runtime could not take along (a restore killed half-way) goes too.
      freezer.killTasks(NodeTreeRuntime.FENCE_WAIT);
    } catch (IOException e) {
      LOG.warning("node tree of init " + initPid + ": " + e.getMessage());
    }
    exit.join();
  }
}
