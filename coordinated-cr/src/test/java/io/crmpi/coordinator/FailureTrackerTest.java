package io.crmpi.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class FailureTrackerTest {
  @Test
  void startsWithNoFailures() {
    assertEquals(0, new FailureTracker(3).consecutive());
  }

  @Test
  void countsConsecutiveFailures() {
    FailureTracker tracker = new FailureTracker(5);
    tracker.failure();
    tracker.failure();
    assertEquals(2, tracker.consecutive());
  }

  @Test
  void reportsOnlyTheFailureThatReachesTheLimit() {
    FailureTracker tracker = new FailureTracker(3);
    assertFalse(tracker.failure());
    assertFalse(tracker.failure());
    assertTrue(tracker.failure());
    assertFalse(tracker.failure(), "the fourth failure is not reported again");
    assertEquals(4, tracker.consecutive());
  }

  @Test
  void successResetsTheCountAndTheLimitIsReportedAgain() {
    FailureTracker tracker = new FailureTracker(2);
    tracker.failure();
    assertTrue(tracker.failure());
    tracker.success();
    assertEquals(0, tracker.consecutive());
    assertFalse(tracker.failure());
    assertTrue(tracker.failure());
  }

  @Test
  void successBreaksARun() {
    FailureTracker tracker = new FailureTracker(3);
    tracker.failure();
    tracker.failure();
    tracker.success();
    tracker.failure();
    assertEquals(1, tracker.consecutive());
  }

  @Test
  void aLimitOfOneReportsTheFirstFailure() {
    assertTrue(new FailureTracker(1).failure());
  }

  @Test
  void aLimitBelowOneIsRejectedWithTheValue() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new FailureTracker(0));
    assertEquals("tolerable < 1: 0", e.getMessage());
  }
}
