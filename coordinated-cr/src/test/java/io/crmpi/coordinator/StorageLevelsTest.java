package io.crmpi.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crmpi.coordinator.FakeAgent.Answer;
import io.crmpi.fault.Faults;
import io.crmpi.protocol.AgentRequest;
import io.crmpi.protocol.AgentRequest.Dump;
import io.crmpi.protocol.AgentRequest.Flush;
import io.crmpi.protocol.AgentRequest.Prune;
import io.crmpi.store.FileCheckpointStore;
import io.crmpi.store.Manifest;
import io.crmpi.store.NodeLocalLevel;
import io.crmpi.store.StorageLevel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The coordinator with a node-local level, against two fake agents and a
 * real store: where dumps go, what the manifest says, the flush to the
 * state directory (in the background, and before a vacate), retention of
 * the newest flushed epoch, and the pruning of node-local copies.
 */
class StorageLevelsTest {
  private static final String JOB = "ring";
  private static final Duration SHORT = Duration.ofMillis(500);

  @TempDir
  Path root;

  FileCheckpointStore store;
  NodeLocalLevel local;
  final FakeAgent b = new FakeAgent("node-b");
  final FakeAgent a = new FakeAgent("node-a");
  final List<FlushOutcome> flushes = new CopyOnWriteArrayList<>();
  CheckpointCoordinator coordinator;

  @BeforeEach
  void open() throws IOException {
    store = FileCheckpointStore.open(root.resolve("state"), JOB);
    Files.createDirectories(root.resolve("shm"));
    local = NodeLocalLevel.of(root.resolve("shm"), 1000, JOB);
  }

  @AfterEach
  void close() {
    if (coordinator != null) {
      coordinator.close();
    }
  }

  CheckpointCoordinator coordinator(StorageLevel commitAt, int keep, int flushEvery, int localKeep) {
    StoragePlan plan = new StoragePlan(local.jobDir(), commitAt, flushEvery, localKeep, SHORT, true, 1);
    coordinator = new CheckpointCoordinator(new CoordinatorConfig(JOB, "criu", keep, SHORT, SHORT, SHORT, plan),
        store, List.of(b, a), Faults.none(), Clock.fixed(Instant.parse("2026-12-01T00:00:00Z"), ZoneOffset.UTC),
        System::nanoTime, new CheckpointListener() {
          @Override
          public void epochEnded(CheckpointOutcome outcome) {}

          @Override
          public void flushEnded(FlushOutcome outcome) {
            flushes.add(outcome);
          }
        });
    return coordinator;
  }

  static Manifest committed(CheckpointOutcome outcome) {
    return assertInstanceOf(CheckpointOutcome.Committed.class, outcome, outcome::toString).manifest();
  }

  /** Waits until the epoch's manifest says it is held at level. */
  Manifest awaitLevel(long epoch, StorageLevel level) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (System.nanoTime() < deadline) {
      Manifest m = store.get(epoch).orElseThrow();
      if (m.levels().holds(level)) {
        return m;
      }
      Thread.sleep(10);
    }
    throw new AssertionError("epoch " + epoch + " never held at " + level + ": " + store.get(epoch));
  }

  @Test
  void theDumpGoesToTheNodeLocalLevelTheEpochCommitsThereAndIsFlushedInTheBackground() throws Exception {
    coordinator(StorageLevel.LOCAL, 3, 1, 2);
    Manifest m = committed(coordinator.checkpoint("periodic"));

    Dump dump = a.requestsOf(Dump.class).get(0);
    assertEquals(local.epochDir(1), dump.epochDir());
    assertEquals(local.jobDir(), dump.localJobDir());
    assertEquals(local.epochDir(1).toString(), m.levels().localDir());
    assertTrue(m.levels().holds(StorageLevel.LOCAL));

    Manifest flushed = awaitLevel(1, StorageLevel.SHARED);
    assertEquals(List.of(StorageLevel.LOCAL, StorageLevel.SHARED), flushed.levels().held());
    assertEquals(List.of(), store.verify(flushed), "the flushed copy verifies");
    // Both copies are whole: each verifies on its own.
    Files.delete(local.epochDir(1).resolve("nodes/node-a/image/pages-1.img"));
    assertEquals(List.of(), store.verify(flushed), "the state directory's copy stands in for the node-local one");
    Files.delete(store.epochDir(1).resolve("nodes/node-a/image/pages-1.img"));
    assertFalse(store.verify(flushed).isEmpty(), "neither copy of node-a is whole any more");
    assertTrue(flushes.get(0).ok(), flushes.toString());
  }

  @Test
  void aRestartedJobsFirstFlushBuildsOnTheNewestEpochTheStateDirectoryHolds() throws Exception {
    coordinator(StorageLevel.LOCAL, 3, 1, 2);
    committed(coordinator.checkpoint("periodic"));
    awaitLevel(1, StorageLevel.SHARED);
    coordinator.close();
    FakeAgent again = new FakeAgent("node-a");
    FakeAgent bAgain = new FakeAgent("node-b");
    coordinator = new CheckpointCoordinator(new CoordinatorConfig(JOB, "criu", 3, SHORT, SHORT, SHORT,
        new StoragePlan(local.jobDir(), StorageLevel.LOCAL, 1, 2, SHORT, true, 1)), store, List.of(bAgain, again),
        Faults.none(), Clock.systemUTC(), System::nanoTime, new CheckpointListener() {
          @Override
          public void epochEnded(CheckpointOutcome outcome) {}
        });
    committed(coordinator.checkpoint("periodic"));
    awaitLevel(2, StorageLevel.SHARED);
    Flush f = again.requestsOf(Flush.class).get(0);
    assertEquals(2, f.epoch());
    assertEquals(store.epochDir(1), f.previousShared(), "its chunks are reused, not written again");
    assertEquals(local.epochDir(1), f.previousLocal());
    assertTrue(f.chunks());
    assertEquals(1, f.zstdLevel());
  }

  @Test
  void anEpochCommittedAtTheNodeLocalLevelIsRestoredFromItFirst() throws Exception {
    coordinator(StorageLevel.LOCAL, 3, 1, 2);
    Manifest m = committed(coordinator.checkpoint("periodic"));
    awaitLevel(1, StorageLevel.SHARED);
    assertEquals(List.of(local.epochDir(1), store.epochDir(1)), store.levelDirs(store.get(1).orElseThrow()));
    assertEquals(List.of(local.epochDir(1)), store.levelDirs(m), "before its flush, only the node-local copy");
  }

  @Test
  void aFailedFlushLeavesTheEpochCommittedAtTheNodeLocalLevelAndTheJobCheckpointsOn() throws Exception {
    coordinator(StorageLevel.LOCAL, 3, 1, 2);
    b.answer(Flush.class, Answer.FAIL);
    committed(coordinator.checkpoint("periodic"));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (flushes.isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertFalse(flushes.get(0).ok());
    assertTrue(flushes.get(0).problem().contains("injected failure of Flush"), flushes.get(0).problem());
    assertEquals(List.of(StorageLevel.LOCAL), store.get(1).orElseThrow().levels().held());

    b.answer(Flush.class, Answer.SUCCEED);
    committed(coordinator.checkpoint("periodic"));
    awaitLevel(2, StorageLevel.SHARED);
  }

  @Test
  void retentionKeepsTheNewestFlushedEpochWhileNewerOnesAreOnlyNodeLocal() throws Exception {
    coordinator(StorageLevel.LOCAL, 1, 1, 5);
    committed(coordinator.checkpoint("periodic"));
    awaitLevel(1, StorageLevel.SHARED);
    a.answer(Flush.class, Answer.FAIL);
    committed(coordinator.checkpoint("periodic"));
    committed(coordinator.checkpoint("periodic"));

    List<Long> kept = store.committed().stream().map(Manifest::epoch).toList();
    assertEquals(List.of(1L, 3L), kept, "keep 1, plus epoch 1: the only one a lost node can resume from");
  }

  @Test
  void aVacateWaitsForItsEpochsFlushBeforeItReturns() throws Exception {
    coordinator(StorageLevel.LOCAL, 3, 5, 2);
    Manifest m = committed(coordinator.checkpointAndVacate("vacate"));
    assertEquals(List.of(StorageLevel.LOCAL, StorageLevel.SHARED), m.levels().held());
    assertEquals(List.of(StorageLevel.LOCAL, StorageLevel.SHARED), store.get(1).orElseThrow().levels().held());
    assertEquals(1, a.requestsOf(Flush.class).size());
  }

  @Test
  void aSuspendEndsTheTreesAfterTheCommitAndKeepsTheEpochNodeLocal() throws Exception {
    coordinator(StorageLevel.LOCAL, 3, 1, 2);
    Manifest m = committed(coordinator.checkpointAndSuspend("suspend"));
    assertEquals(List.of(StorageLevel.LOCAL), m.levels().held());
    assertEquals(List.of(), a.requestsOf(Flush.class));
    assertTrue(a.requestsOf(AgentRequest.Resume.class).stream().anyMatch(AgentRequest.Resume::vacate),
        "the trees were not ended");
    assertTrue(Files.exists(local.epochDir(1)), "the node-local copy is kept for the resume");
  }

  @Test
  void flushEveryKthEpochFlushesOnlyThose() throws Exception {
    coordinator(StorageLevel.LOCAL, 5, 2, 5);
    for (int i = 0; i < 4; i++) {
      committed(coordinator.checkpoint("periodic"));
    }
    awaitLevel(4, StorageLevel.SHARED);
    assertEquals(List.of(2L, 4L), a.requestsOf(Flush.class).stream().map(AgentRequest::epoch).toList());
    assertFalse(store.get(3).orElseThrow().levels().holds(StorageLevel.SHARED));
  }

  @Test
  void committingAtTheSharedLevelFlushesBeforeTheCommitAndAFailedFlushAbortsTheEpoch() throws Exception {
    coordinator(StorageLevel.SHARED, 3, 1, 2);
    Manifest m = committed(coordinator.checkpoint("periodic"));
    assertEquals(List.of(StorageLevel.LOCAL, StorageLevel.SHARED), m.levels().held());
    assertEquals(List.of(), store.verify(m));

    a.answer(Flush.class, Answer.FAIL);
    CheckpointOutcome.Aborted aborted = assertInstanceOf(CheckpointOutcome.Aborted.class,
        coordinator.checkpoint("periodic"));
    assertEquals(AbortReason.FLUSH_FAILED, aborted.reason());
    assertEquals(List.of(1L), store.committed().stream().map(Manifest::epoch).toList());
    assertFalse(Files.exists(local.epochDir(2)), "the aborted epoch's node-local copy is pruned");
    assertTrue(Files.exists(local.epochDir(1)));
  }

  @Test
  void nodeLocalCopiesBeyondLocalKeepArePrunedAndDropLocalCopiesRemovesTheRest() throws Exception {
    coordinator(StorageLevel.LOCAL, 5, 1, 2);
    for (int i = 0; i < 4; i++) {
      committed(coordinator.checkpoint("periodic"));
    }
    Prune last = a.requestsOf(Prune.class).get(3);
    assertEquals(java.util.Set.of(3L, 4L), last.keep());
    assertFalse(Files.exists(local.epochDir(1)));
    assertFalse(Files.exists(local.epochDir(2)));
    assertTrue(Files.exists(local.epochDir(4)));

    coordinator.dropLocalCopies();
    assertFalse(Files.exists(local.epochDir(4)));
  }
}
