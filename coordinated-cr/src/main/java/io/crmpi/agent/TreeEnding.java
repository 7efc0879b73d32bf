package io.crmpi.agent;

import io.crmpi.engine.NodeTree;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Whether a node tree whose prepare or resume failed was in fact ending on
 * its own: a periodic checkpoint can race the job's end, when the ranks
 * exit and the tree's cgroup goes away under the freeze. Such a failure is
 * the job finishing, not a fault.
 */
final class TreeEnding {
  /** The longest wait for the tree's exit after a failure. */
  static final long GRACE_MILLIS = 2000;

  private TreeEnding() {}

  /**
   * How long a prepare that failed after spentMillis may wait: at most
   * {@link #GRACE_MILLIS}, and never past the coordinator's prepare timeout
   * (the quiesce timeout is three quarters of it; a sixth of the quiesce
   * timeout is kept for the answer), so that a real failure is still
   * answered as one.
   */
  static long prepareGrace(Duration quiesceTimeout, long spentMillis) {
    long quiesce = quiesceTimeout.toMillis();
    return Math.max(0, Math.min(GRACE_MILLIS, quiesce * 4 / 3 - quiesce / 6 - spentMillis));
  }

  /** True when the tree ends within millis (or had ended). */
  static boolean endedWithin(NodeTree t, long millis) {
    try {
      t.exit().get(millis, TimeUnit.MILLISECONDS);
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return !t.isAlive();
    } catch (ExecutionException | TimeoutException e) {
      return !t.isAlive();
    }
  }
}
