package io.crmpi.engine;

import java.io.InputStream;
import java.util.concurrent.CompletableFuture;

/**
 * A running node tree as its node agent sees it: the pipes of its stdout
 * and stderr, how many processes it has, and {@link #exit()}, which
 * completes when the tree is gone. The tree may run in this process's care
 * ({@link LocalTree}) or in crmpid's, for a job of an ordinary user.
 */
public interface NodeTree {
  InputStream stdout();

  InputStream stderr();

  /** Completes when the tree is gone. */
  CompletableFuture<TreeExit> exit();

  boolean isAlive();

  /** The host pid of the tree's init, whose descendants are the tree's processes. */
  long initPid();

  /** How many processes the tree has now (0 once it is gone). */
  int processes();

  /**
   * Kills the whole tree and waits for it to be gone. A frozen tree is
   * thawed first so that it can die.
   */
  void kill();
}
