package io.crmpi.engine;

import io.crmpi.nativeio.Posix;
import java.io.InputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A running node tree: the crmpi-ns process that parents it, the host pid
 * of the tree's init (what the engine dumps), the freezer that can stop it,
 * and the pipes of its stdout and stderr. {@link #exit()} completes when
 * the tree is gone.
 */
public final class NodeTree {
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
    exit.join();
  }
}
