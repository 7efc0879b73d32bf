package io.crmpi.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crmpi.coordinator.FakeAgent.Answer;
import io.crmpi.fault.Faults;
import io.crmpi.protocol.AgentRequest.Dump;
import io.crmpi.protocol.AgentRequest.Persist;
import io.crmpi.protocol.AgentRequest.Resume;
import io.crmpi.store.FileCheckpointStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The coordinator's timeouts are scheduled cancellers: a test fires them, no sleep decides. */
class CoordinatorDeadlinesTest {
  private static final Duration PREPARE = Duration.ofSeconds(30);
  private static final Duration DUMP = Duration.ofMinutes(10);

  @TempDir
  Path root;

  /** Deadlines that run only when the test fires them. */
  private static final class ManualDeadlines implements Deadlines {
    record Scheduled(Duration delay, Runnable action, boolean[] cancelled) {}

    final List<Scheduled> scheduled = new CopyOnWriteArrayList<>();

    @Override
    public Cancellable after(Duration delay, Runnable action) {
      Scheduled s = new Scheduled(delay, action, new boolean[1]);
      scheduled.add(s);
      return () -> s.cancelled()[0] = true;
    }

    /** Runs every canceller of this delay that is still pending. */
    void fire(Duration delay) {
      scheduled.stream().filter(s -> s.delay().equals(delay) && !s.cancelled()[0]).forEach(s -> s.action().run());
    }

    boolean pending(Duration delay) {
      return scheduled.stream().anyMatch(s -> s.delay().equals(delay) && !s.cancelled()[0]);
    }
  }

  @Test
  void aDumpThatNeverAnswersAbortsWhenItsDeadlineFiresAndNotBefore() throws Exception {
    FakeAgent a = new FakeAgent("node-a");
    FakeAgent b = new FakeAgent("node-b").answer(Dump.class, Answer.HANG);
    ManualDeadlines deadlines = new ManualDeadlines();
    FileCheckpointStore store = FileCheckpointStore.open(root, "ring");
    CheckpointCoordinator coordinator = new CheckpointCoordinator(
        new CoordinatorConfig("ring", "criu", 3, PREPARE, DUMP, DUMP), store, List.of(a, b), Faults.none(),
        Clock.fixed(Instant.parse("2026-11-30T12:00:00Z"), ZoneOffset.UTC), System::nanoTime, o -> { },
        new EpochPins(), deadlines);

    CompletableFuture<CheckpointOutcome> outcome = CompletableFuture.supplyAsync(() -> coordinator.checkpoint("manual"));
    for (long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10); !deadlines.pending(DUMP); ) {
      assertTrue(System.nanoTime() < until, "the dump's deadline was never scheduled");
      Thread.onSpinWait();
    }
    assertFalse(deadlines.pending(PREPARE), "the prepare's canceller outlived its phase");
    assertFalse(outcome.isDone(), "the checkpoint ended before its deadline: " + outcome.getNow(null));

    deadlines.fire(DUMP);
    CheckpointOutcome.Aborted aborted = assertInstanceOf(CheckpointOutcome.Aborted.class,
        outcome.get(10, TimeUnit.SECONDS));
    assertEquals(AbortReason.DUMP_TIMEOUT, aborted.reason(), aborted::describe);
    assertTrue(aborted.detail().contains("node-b: no reply within 600000 ms"), aborted.detail());
    assertTrue(a.requestsOf(Persist.class).isEmpty());
    assertEquals(List.of(Resume.proceed(1)), a.requestsOf(Resume.class), "the ranks were not let go");
    assertFalse(Files.exists(store.epochDir(1)));
  }

  @Test
  void closingAndAwaitingIdleWaitsForTheEpochThatRuns() throws Exception {
    FakeAgent a = new FakeAgent("node-a").answer(Persist.class, Answer.HOLD);
    FileCheckpointStore store = FileCheckpointStore.open(root, "ring");
    CheckpointCoordinator coordinator = new CheckpointCoordinator(
        new CoordinatorConfig("ring", "criu", 3, PREPARE, DUMP, DUMP), store, List.of(a), Faults.none(),
        Clock.fixed(Instant.parse("2026-11-30T12:00:00Z"), ZoneOffset.UTC), System::nanoTime, o -> { });
    CompletableFuture<CheckpointOutcome> epoch = CompletableFuture.supplyAsync(() -> coordinator.checkpoint("periodic"));
    a.awaitHeld();
    CompletableFuture<Void> idle = CompletableFuture.runAsync(coordinator::closeAndAwaitIdle);
    Thread.sleep(200);
    assertFalse(idle.isDone(), "closeAndAwaitIdle returned while the epoch was still persisting");
    a.releaseHeld();
    idle.get(10, TimeUnit.SECONDS);
    assertEquals(1, store.latest().orElseThrow().epoch(), "idle before the running epoch committed");
    assertInstanceOf(CheckpointOutcome.Committed.class, epoch.get(10, TimeUnit.SECONDS));
    assertInstanceOf(CheckpointOutcome.Skipped.class, coordinator.checkpoint("periodic"), "an epoch began after close");
  }
}
