package io.crmpi.local;

import io.crmpi.agent.NodeHandle;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Decides whether a restored job is healthy before crmpi counts the restore
 * as done and checkpoints the job again. For a probation window after every
 * node tree was restored and thawed, it watches every slot: the tree must
 * still run and keep at least as many processes as its image had (a rank
 * that died, or a launcher left without its ranks after its connections
 * were reset, has fewer). The job's command ending during the window is
 * no failure: the supervisor then reads its exit status.
 */
final class RestoreProbation {
  /** The result of one probation. */
  sealed interface Verdict {
    /** Every tree stayed whole for the whole window. */
    record Healthy() implements Verdict {}

    /** The job's command (slot 0) ended during the window: its exit decides. */
    record Ended() implements Verdict {}

    /** A tree lost processes or ended: the restore failed. */
    record Broken(String problem) implements Verdict {}
  }

  /** Waits between two looks at the trees. */
  interface Sleeper {
    void sleep(Duration d) throws InterruptedException;
  }

  private final Duration window;
  private final Duration grace;
  private final Duration tick;
  private final LongSupplier nanoTime;
  private final Sleeper sleeper;

  /**
   * @param window how long every tree must stay whole
   * @param grace how long the job's command may take to end after a tree lost processes
   * @param tick how often the trees are looked at
   */
  RestoreProbation(Duration window, Duration grace, Duration tick, LongSupplier nanoTime, Sleeper sleeper) {
    if (window.isNegative() || grace.isNegative() || tick.isNegative() || tick.isZero()) {
      throw new IllegalArgumentException("probation window " + window + ", grace " + grace + " and tick "
          + tick + " must be >= 0, >= 0 and > 0");
    }
    this.window = window;
    this.grace = grace;
    this.tick = tick;
    this.nanoTime = nanoTime;
    this.sleeper = sleeper;
  }

  Duration window() {
    return window;
  }

  /**
   * Watches the slots for the window.
   *
   * @param slots every node slot, slot 0 first (where the job's command runs)
   * @param expected the process count of each slot's image, by node name; a
   *     slot missing here (an engine that records none) is only checked for
   *     running
   */
  Verdict watch(List<NodeHandle> slots, Map<String, Integer> expected) throws InterruptedException {
    long end = nanoTime.getAsLong() + window.toNanos();
    while (true) {
      if (!slots.get(0).isRunning()) {
        return new Verdict.Ended();
      }
      for (NodeHandle slot : slots) {
        String problem = problem(slot, expected.get(slot.node()));
        if (problem != null) {
          return endsWithinGrace(slots.get(0)) ? new Verdict.Ended() : new Verdict.Broken(problem);
        }
      }
      if (nanoTime.getAsLong() >= end) {
        return new Verdict.Healthy();
      }
      sleeper.sleep(tick);
    }
  }

  /**
   * A job that is finishing loses its ranks a moment before its launcher
   * ends: a tree that lost processes is a broken restore only when the job's
   * command is still running after the grace period.
   */
  private boolean endsWithinGrace(NodeHandle slot0) throws InterruptedException {
    long end = nanoTime.getAsLong() + grace.toNanos();
    while (slot0.isRunning()) {
      if (nanoTime.getAsLong() >= end) {
        return false;
      }
      sleeper.sleep(tick);
    }
    return true;
  }

  private static String problem(NodeHandle slot, Integer expected) {
    if (!slot.isRunning()) {
      return "the node tree of " + slot.node() + " ended";
    }
    if (expected == null) {
      return null;
    }
    int now;
    try {
      now = slot.processes();
    } catch (IOException e) {
      return "cannot count the processes of " + slot.node() + ": " + e.getMessage();
    }
    if (now < expected) {
      return "the node tree of " + slot.node() + " has " + now + " processes, its image had " + expected
          + " (a rank or launcher ended right after the restore)";
    }
    return null;
  }
}
