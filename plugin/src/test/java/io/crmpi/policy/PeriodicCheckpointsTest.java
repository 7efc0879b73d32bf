package io.crmpi.policy;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crmpi.policy.CheckpointPolicy.Auto;
import io.crmpi.policy.CheckpointPolicy.Cron;
import io.crmpi.policy.CheckpointPolicy.Interval;
import io.crmpi.policy.CheckpointPolicy.None;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class PeriodicCheckpointsTest {
  private static final Logger LOG = Logger.getLogger(PeriodicCheckpoints.class.getName());

  /** Records what the scheduler logged, and counts down on each skip. */
  private final List<String> logged = new CopyOnWriteArrayList<>();
  private final CountDownLatch skipped = new CountDownLatch(1);
  private final Handler handler = new Handler() {
    @Override
    public void publish(LogRecord record) {
      logged.add(record.getMessage());
      if (record.getMessage().contains("skipped")) {
        skipped.countDown();
      }
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  };

  /** A checkpoint action that records its calls and returns a fixed cost. */
  private static final class FakeAction implements CheckpointAction {
    final CountDownLatch calls;
    final AtomicInteger count = new AtomicInteger();
    final AtomicInteger active = new AtomicInteger();
    final AtomicInteger maxActive = new AtomicInteger();
    final List<String> triggers = new CopyOnWriteArrayList<>();
    final long sleepMillis;
    final Optional<Duration> cost;
    volatile long firstCallNanos;

    FakeAction(int expectedCalls, long sleepMillis, Optional<Duration> cost) {
      this.calls = new CountDownLatch(expectedCalls);
      this.sleepMillis = sleepMillis;
      this.cost = cost;
    }

    @Override
    public Optional<Duration> checkpoint(String trigger) {
      if (count.getAndIncrement() == 0) {
        firstCallNanos = System.nanoTime();
      }
      triggers.add(trigger);
      maxActive.accumulateAndGet(active.incrementAndGet(), Math::max);
      try {
        Thread.sleep(sleepMillis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        active.decrementAndGet();
        calls.countDown();
      }
      return cost;
    }
  }

  @BeforeEach
  void captureLog() {
    LOG.addHandler(handler);
  }

  @AfterEach
  void releaseLog() {
    LOG.removeHandler(handler);
  }

  @Test
  void intervalCallsTheActionRepeatedlyStartingOneIntervalAfterStart() throws Exception {
    FakeAction action = new FakeAction(2, 0, Optional.of(Duration.ofMillis(10)));
    long started = System.nanoTime();
    try (PeriodicCheckpoints periodic = PeriodicCheckpoints.start("j1", new Interval(Duration.ofSeconds(1)), action)) {
      assertEquals("every 1s", periodic.describe());
      assertEquals(Optional.of(Duration.ofSeconds(1)), periodic.currentInterval());
      assertTrue(action.calls.await(10, SECONDS), "two checkpoints within 10s, got " + action.count.get());
    }
    assertTrue(action.firstCallNanos - started >= 900_000_000L, "the first checkpoint waits one interval");
    assertEquals("periodic", action.triggers.get(0));
  }

  @Test
  void slowCheckpointsNeverOverlapAndDueOnesAreSkippedAndLogged() throws Exception {
    FakeAction action = new FakeAction(1, 2500, Optional.empty());
    PeriodicCheckpoints periodic = PeriodicCheckpoints.start("slow", new Interval(Duration.ofSeconds(1)), action);
    try {
      assertTrue(action.calls.await(10, SECONDS), "the first checkpoint ends");
      assertTrue(skipped.await(10, SECONDS), "a checkpoint due during the first one is skipped: " + logged);
    } finally {
      periodic.close();
    }
    assertEquals(1, action.maxActive.get());
    assertEquals(0, action.active.get(), "close() waits for a running checkpoint");
    assertTrue(logged.contains("job slow: periodic checkpoint skipped: the previous one is still running"),
        logged.toString());
  }

  @Test
  void closeWaitsForTheRunningCheckpoint() throws Exception {
    CountDownLatch inside = new CountDownLatch(1);
    AtomicInteger finished = new AtomicInteger();
    CheckpointAction action = trigger -> {
      inside.countDown();
      try {
        Thread.sleep(500);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      finished.incrementAndGet();
      return Optional.empty();
    };
    PeriodicCheckpoints periodic = PeriodicCheckpoints.start("closing", new Interval(Duration.ofSeconds(1)), action);
    assertTrue(inside.await(10, SECONDS));
    periodic.close();
    assertEquals(1, finished.get());
    periodic.close();
  }

  @Test
  void closeFromWithinACheckpointDoesNotWaitForItself() throws Exception {
    AtomicReference<PeriodicCheckpoints> self = new AtomicReference<>();
    CountDownLatch returned = new CountDownLatch(1);
    CheckpointAction action = trigger -> {
      while (self.get() == null) {
        Thread.onSpinWait();
      }
      self.get().close();
      returned.countDown();
      return Optional.empty();
    };
    self.set(PeriodicCheckpoints.start("self-closing", new Interval(Duration.ofSeconds(1)), action));
    assertTrue(returned.await(10, SECONDS), "close() returned inside the checkpoint");
    self.get().close();
  }

  @Test
  void autoMovesToTheYoungDalyIntervalOfTheMeasuredCost() throws Exception {
    // MTBF 3s: Young/Daly for the assumed 1s of cost is 1.83s, so 2s; for the measured 10ms it is 0.24s,
    // raised to the minimum of 1s.
    Auto auto = new Auto(Duration.ofSeconds(3), Duration.ofSeconds(1), Duration.ofHours(1));
    FakeAction action = new FakeAction(2, 0, Optional.of(Duration.ofMillis(10)));
    try (PeriodicCheckpoints periodic = PeriodicCheckpoints.start("adaptive", auto, action)) {
      assertEquals(Optional.of(Duration.ofSeconds(2)), periodic.currentInterval());
      assertEquals("auto (Young/Daly, MTBF 3s): every 2s", periodic.describe());
      assertTrue(action.calls.await(10, SECONDS), "two checkpoints within 10s, got " + action.count.get());
      assertEquals(Optional.of(Duration.ofSeconds(1)), periodic.currentInterval());
      assertEquals(Optional.of(auto.intervalFor(Duration.ofMillis(10))), periodic.currentInterval());
      assertEquals("auto (Young/Daly, MTBF 3s): every 1s", periodic.describe());
    }
    assertTrue(logged.stream().anyMatch(m -> m.startsWith("job adaptive: checkpoint cost 10ms, MTBF 3s: periodic"
        + " checkpoints now every 1s")), logged.toString());
  }

  @Test
  void onlyChangesOfMoreThanTenPercentCount() {
    assertFalse(PeriodicCheckpoints.changedEnough(Duration.ofSeconds(100), Duration.ofSeconds(110)));
    assertFalse(PeriodicCheckpoints.changedEnough(Duration.ofSeconds(100), Duration.ofSeconds(90)));
    assertTrue(PeriodicCheckpoints.changedEnough(Duration.ofSeconds(100), Duration.ofSeconds(111)));
    assertTrue(PeriodicCheckpoints.changedEnough(Duration.ofSeconds(100), Duration.ofSeconds(89)));
  }

  @Test
  void noneNeverCallsTheAction() throws Exception {
    FakeAction action = new FakeAction(1, 0, Optional.empty());
    try (PeriodicCheckpoints periodic = PeriodicCheckpoints.start("idle", new None(), action)) {
      assertEquals("none", periodic.describe());
      assertEquals(Optional.empty(), periodic.currentInterval());
      assertFalse(action.calls.await(1200, MILLISECONDS));
    }
    assertEquals(0, action.count.get());
  }

  @Test
  void cronIsDescribedByItsExpressionAndHasNoInterval() {
    try (PeriodicCheckpoints periodic = PeriodicCheckpoints.start("nightly", new Cron("0 0 3 * * ?"),
        t -> Optional.empty())) {
      assertEquals("cron 0 0 3 * * ?", periodic.describe());
      assertEquals(Optional.empty(), periodic.currentInterval());
    }
  }
}
