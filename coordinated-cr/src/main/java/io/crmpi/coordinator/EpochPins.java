package io.crmpi.coordinator;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Committed epochs that retention must keep whatever its count says: the
 * epoch a run was restored from, and the newest epoch from before a streak
 * of failures. The job's supervisor pins them; the coordinator hands them to
 * retention at the next commit and then releases them, because a commit is
 * only ever taken from a tree that passed its health checks (the probation
 * after a restore, and the process count of every checkpoint), so the job
 * has a newer good epoch. Thread-safe.
 */
public final class EpochPins {
  private final Map<String, Long> pins = new ConcurrentHashMap<>();

  /** Pins epoch under reason, replacing what reason pinned before. */
  public void pin(String reason, long epoch) {
    if (epoch <= 0) {
      return; // nothing committed yet: nothing to keep
    }
    pins.put(reason, epoch);
  }

  /** Pins epoch under reason unless reason already pins an epoch (the start of a streak stays). */
  public void pinIfAbsent(String reason, long epoch) {
    if (epoch > 0) {
      pins.putIfAbsent(reason, epoch);
    }
  }

  /** The pinned epochs, ascending. */
  public Set<Long> epochs() {
    return new TreeSet<>(pins.values());
  }

  /** What is pinned and why, for the log. */
  public Map<String, Long> describe() {
    return Map.copyOf(pins);
  }

  /** A newer epoch from a healthy tree is committed: nothing needs pinning any more. */
  void releaseAll() {
    pins.clear();
  }
}
