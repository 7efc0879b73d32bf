package io.crmpi.daemon;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Which trees' runtime directories are in use: one use per request that
 * places a tree there (a launch or a restore, whose request lasts as long
 * as the tree), so that {@link TreeDirSweep} never removes a directory a
 * tree uses or is about to use. A sweep and the start of a use exclude
 * each other.
 */
final class RuntimeDirs {
  private final Map<Path, Integer> users = new HashMap<>();

  /** One use of a runtime directory, ended by {@link #close}. */
  interface Use extends AutoCloseable {
    @Override
    void close();
  }

  /** Marks dir as used until the use is closed (after a sweep under way has finished). */
  synchronized Use use(Path dir) {
    Path d = dir.toAbsolutePath().normalize();
    users.merge(d, 1, Integer::sum);
    return () -> release(d);
  }

  private synchronized void release(Path dir) {
    users.computeIfPresent(dir, (k, n) -> n == 1 ? null : n - 1);
  }

  /** Runs the sweep; no use starts meanwhile. */
  synchronized int sweep(TreeDirSweep sweep) {
    return sweep.sweep(Set.copyOf(users.keySet()));
  }
}
