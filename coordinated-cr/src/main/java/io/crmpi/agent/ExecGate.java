package io.crmpi.agent;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;

/**
 * Holds back the processes a node tree's launcher asks to start inside the
 * tree (mpirun's daemons, through crmpi-rsh) while a checkpoint has the
 * tree frozen: a process started into a frozen cgroup is frozen before it
 * runs, so its launcher would wait for it until it gave up. Such a start
 * waits for the checkpoint's thaw (or its end). Used on the agent's thread
 * only, where the freeze and the thaw run too.
 */
final class ExecGate {
  private boolean frozen;
  private final List<Runnable> waiting = new ArrayList<>();

  /** Starting a process; may fail. */
  interface Start {
    void run() throws IOException;
  }

  /**
   * Runs start on the agent's thread, at once or after the thaw when the
   * tree is frozen, and waits for it; its failure is thrown here.
   */
  void start(Executor agentThread, String what, Start start) throws IOException {
    CompletableFuture<Void> started = new CompletableFuture<>();
    agentThread.execute(() -> run(() -> {
      try {
        start.run();
        started.complete(null);
      } catch (IOException | RuntimeException e) {
        started.completeExceptionally(e);
      }
    }));
    try {
      started.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while starting " + what);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      throw new IOException(String.valueOf(e.getCause().getMessage()), e.getCause());
    }
  }

  /** Runs start now, or after the thaw when the tree is frozen (on the agent's thread). */
  private void run(Runnable start) {
    if (frozen) {
      waiting.add(start);
    } else {
      start.run();
    }
  }

  /** A checkpoint froze the tree. */
  void frozen() {
    frozen = true;
  }

  /** The tree runs again (or is gone): the starts that waited run now, in order. */
  void thawed() {
    frozen = false;
    List<Runnable> now = List.copyOf(waiting);
    waiting.clear();
    now.forEach(Runnable::run);
  }
}
