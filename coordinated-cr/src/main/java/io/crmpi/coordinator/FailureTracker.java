package io.crmpi.coordinator;

/**
 * Counts consecutive aborted epochs. A job is never killed by its own
 * checkpoints failing; the tracker only tells when the failures have become
 * a condition someone must look at (the newest committed checkpoint grows
 * old while the job runs on).
 */
public final class FailureTracker {
  private final int tolerable;
  private int consecutive;

  public FailureTracker(int tolerable) {
    if (tolerable < 1) {
      throw new IllegalArgumentException("tolerable < 1: " + tolerable);
    }
    this.tolerable = tolerable;
  }

  public synchronized void success() {
    consecutive = 0;
  }

  /** Records a failure; true when the count has just reached the limit. */
  public synchronized boolean failure() {
    consecutive++;
    return consecutive == tolerable;
  }

  public synchronized int consecutive() {
    return consecutive;
  }
}
