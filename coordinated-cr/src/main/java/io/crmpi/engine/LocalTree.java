package io.crmpi.engine;

import io.crmpi.nativeio.Posix;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * A node tree this process started: the crmpi-ns process that parents it,
 * the host pid of the tree's init (what the engine dumps), the freezer
 * that can stop it, and the pipes of its stdout and stderr.
 */
public final class LocalTree implements NodeTree {
  private static final Logger LOG = Logger.getLogger(LocalTree.class.getName());
  private final Process shim;
  private final long initPid;
  private final TreeCgroups cgroups;
  private final CompletableFuture<TreeExit> exit = new CompletableFuture<>();
  private volatile boolean killedByCrmpi;
  private volatile int healthyProcesses;

  LocalTree(Process shim, long initPid, TreeCgroups cgroups) {
    this.shim = shim;
    this.initPid = initPid;
    this.cgroups = cgroups;
    shim.onExit().thenAccept(p -> {
      cgroups.freezer().destroyQuietly();
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

  /** The local tree behind tree; engines that start trees themselves get only their own back. */
  public static LocalTree of(NodeTree tree) {
    if (tree instanceof LocalTree t) {
      return t;
    }
    throw new IllegalArgumentException("not a node tree of this process: " + tree);
  }

  @Override
  public int processes() {
    if (!isAlive()) {
      return 0;
    }
    try {
      return freezer().tasks().size();
    } catch (IOException e) {
      return 0;
    }
  }

  @Override
  public long initPid() {
    return initPid;
  }

  public Freezer freezer() {
    return cgroups.freezer();
  }

  /** The tree's cgroups (what a process exec'd into it joins). */
  TreeCgroups cgroups() {
    return cgroups;
  }

  @Override
  public InputStream stdout() {
    return shim.getInputStream();
  }

  @Override
  public InputStream stderr() {
    return shim.getErrorStream();
  }

  @Override
  public CompletableFuture<TreeExit> exit() {
    return exit;
  }

  @Override
  public boolean isAlive() {
    return shim.isAlive();
  }

  /** crmpi-ns kills PID 1 of the tree's namespace, which takes every process of it along. */
  @Override
  public void kill() {
    killedByCrmpi = true;
    if (!shim.isAlive()) {
      return;
    }
    Posix.kill(initPid, Posix.SIGKILL);
    freezer().thawQuietly();
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
      freezer().killTasks(NodeTreeRuntime.FENCE_WAIT);
    } catch (IOException e) {
      LOG.warning("node tree of init " + initPid + ": " + e.getMessage());
    }
    exit.join();
  }
}
