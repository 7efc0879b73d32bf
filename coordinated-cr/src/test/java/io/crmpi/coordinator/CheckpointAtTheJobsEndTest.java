package io.crmpi.coordinator;

import static io.crmpi.coordinator.CheckpointCoordinatorTest.aborted;
import static io.crmpi.coordinator.CheckpointCoordinatorTest.at;
import static io.crmpi.coordinator.CheckpointCoordinatorTest.committed;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crmpi.coordinator.FakeAgent.Answer;
import io.crmpi.fault.Faults;
import io.crmpi.protocol.AgentRequest;
import io.crmpi.protocol.AgentRequest.Prepare;
import io.crmpi.store.FileCheckpointStore;
import io.crmpi.store.Manifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A periodic checkpoint that races the job's own end: a node answers that
 * its tree has ended. The epoch is called off, and that is not a failure.
 */
class CheckpointAtTheJobsEndTest {
  private static final Duration SHORT = Duration.ofMillis(200);

  @TempDir
  Path root;

  FileCheckpointStore store;
  final FakeAgent b = new FakeAgent("node-b");
  final FakeAgent a = new FakeAgent("node-a");
  final List<CheckpointOutcome> heard = new CopyOnWriteArrayList<>();
  CheckpointCoordinator coordinator;

  @BeforeEach
  void open() throws IOException {
    store = FileCheckpointStore.open(root, "ring");
    coordinator = new CheckpointCoordinator(new CoordinatorConfig("ring", "criu", 3, SHORT, SHORT, SHORT),
        store, List.of(b, a), Faults.none(), Clock.fixed(Instant.parse("2026-12-01T23:00:00Z"), ZoneOffset.UTC),
        System::nanoTime, heard::add);
  }

  @Test
  void anEndedTreeCallsTheEpochOffWithoutCountingAFailure() throws IOException {
    Manifest first = committed(coordinator.checkpoint("periodic"));
    a.answer(Prepare.class, Answer.ENDED);
    CheckpointOutcome.Aborted off = aborted(coordinator.checkpoint("periodic"), 2, AbortReason.TREE_ENDED);
    assertFalse(off.reason().isFailure(), off::describe);
    assertTrue(off.detail().contains("node-a: its tree has ended"), off::describe);
    assertEquals(0, coordinator.consecutiveFailures(), "the job's own end counted as a failed checkpoint");
    assertEquals(List.of("Prepare", "Resume"), at(b, 2).stream().map(r -> r.getClass().getSimpleName()).toList(),
        "the node that did freeze must run on, and nothing may be dumped");
    assertEquals(first.epoch(), store.latest().orElseThrow().epoch());
    assertFalse(Files.exists(store.epochDir(2)), "the called-off epoch left its directory");
    assertEquals(2, heard.size(), "the listener must hear of the called-off epoch too");
  }

  @Test
  void anEndedTreeBesideAFailedNodeIsStillAFailure() {
    a.answer(Prepare.class, Answer.ENDED);
    b.answer(Prepare.class, Answer.FAIL);
    aborted(coordinator.checkpoint("periodic"), 1, AbortReason.PREPARE_FAILED);
    assertEquals(1, coordinator.consecutiveFailures());
  }

  @Test
  void aLostConnectionBesideAnEndedTreeIsStillAFailure() {
    a.answer(Prepare.class, Answer.ENDED);
    b.answer(Prepare.class, Answer.THROW);
    aborted(coordinator.checkpoint("periodic"), 1, AbortReason.PREPARE_FAILED);
    assertTrue(at(b, 1).stream().anyMatch(AgentRequest.Resume.class::isInstance), "no resume after the abort");
  }
}
