package io.crmpi.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crmpi.coordinator.FakeAgent.Answer;
import io.crmpi.fault.Faults;
import io.crmpi.protocol.AgentRequest;
import io.crmpi.protocol.AgentRequest.Dump;
import io.crmpi.protocol.AgentRequest.Persist;
import io.crmpi.protocol.AgentRequest.Prepare;
import io.crmpi.protocol.AgentRequest.Resume;
import io.crmpi.store.FileCheckpointStore;
import io.crmpi.store.Manifest;
import io.crmpi.store.NodeImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The coordinator against two fake node agents and a real
 * {@link FileCheckpointStore}. The agents are given as (node-b, node-a), so
 * node-b takes the working-directory snapshot and the manifest must sort
 * them.
 */
class CheckpointCoordinatorTest {
  private static final String JOB = "ring";
  private static final Instant NOW = Instant.parse("2026-11-23T11:58:43Z");
  private static final Duration SHORT = Duration.ofMillis(200);
  private static final long TIMEOUT_MS = SHORT.toMillis();

  @TempDir
  Path root;

  FileCheckpointStore store;
  final FakeAgent b = new FakeAgent("node-b");
  final FakeAgent a = new FakeAgent("node-a");
  final List<CheckpointOutcome> heard = new CopyOnWriteArrayList<>();
  CheckpointCoordinator coordinator;

  @BeforeEach
  void open() throws IOException {
    store = FileCheckpointStore.open(root, JOB);
    coordinator = coordinator(Faults.none(), 3, SHORT);
  }

  CheckpointCoordinator coordinator(Faults faults, int keep, Duration timeouts) {
    return new CheckpointCoordinator(new CoordinatorConfig(JOB, "criu", keep, timeouts, timeouts, timeouts),
        store, List.of(b, a), faults, Clock.fixed(NOW, ZoneOffset.UTC), System::nanoTime, heard::add);
  }

  static Manifest committed(CheckpointOutcome outcome) {
    return assertInstanceOf(CheckpointOutcome.Committed.class, outcome, () -> outcome.toString()).manifest();
  }

  static CheckpointOutcome.Aborted aborted(CheckpointOutcome outcome, long epoch, AbortReason reason) {
    CheckpointOutcome.Aborted aborted =
        assertInstanceOf(CheckpointOutcome.Aborted.class, outcome, () -> outcome.toString());
    assertEquals(epoch, aborted.epoch(), aborted::describe);
    assertEquals(reason, aborted.reason(), aborted::describe);
    return aborted;
  }

  /** What the agent was asked for at one epoch, in order. */
  static List<AgentRequest> at(FakeAgent agent, long epoch) {
    return agent.requests().stream().filter(r -> r.epoch() == epoch).toList();
  }

  static void assertContains(String text, String part) {
    assertTrue(text.contains(part), () -> "'" + part + "' not in: " + text);
  }

  long latestEpoch() throws IOException {
    return store.latest().orElseThrow().epoch();
  }

  List<Long> committedEpochs() throws IOException {
    return store.committed().stream().map(Manifest::epoch).toList();
  }

  // ---- a successful epoch ----

  @Test
  void aCheckpointThatWouldFillTheDiskIsSkippedBeforeAnythingFreezesAndTheNextOneRunsWhenThereIsRoom()
      throws IOException {
    Manifest first = committed(coordinator.checkpoint("periodic"));
    long images = first.nodes().stream().flatMap(n -> n.files().stream()).mapToLong(f -> f.size()).sum();
    long[] free = {images}; // less than the images plus a tenth
    store = store.withSpaceProbe(p -> free[0]);
    coordinator = coordinator(Faults.none(), 3, SHORT);
    CheckpointOutcome.Skipped skipped = assertInstanceOf(CheckpointOutcome.Skipped.class,
        coordinator.checkpoint("periodic"));
    assertContains(skipped.why(), "checkpoint skipped: the state directory has");
    assertContains(skipped.why(), "the job runs on");
    assertEquals(List.of(), at(a, 2), "an agent was asked to freeze for a checkpoint that cannot fit");
    assertEquals(List.of(1L), committedEpochs());
    assertEquals(0, coordinator.consecutiveFailures(), "a skipped checkpoint is not a failure of the job");
    assertEquals(2, committed(coordinator.checkpointAndVacate("vacate")).epoch(),
        "a vacate must never be skipped on the estimate: the job would lose its work");
    free[0] = 2 * images;
    assertEquals(3, committed(coordinator.checkpoint("periodic")).epoch());
  }

  @Test
  void successfulEpochCommitsAVerifiableManifestOfEveryNodeSortedByName() throws IOException {
    Manifest m = committed(coordinator.checkpoint("periodic"));

    assertEquals(1, m.epoch());
    assertEquals(JOB, m.job());
    assertEquals("criu", m.engine());
    assertEquals("periodic", m.trigger());
    assertEquals(NOW, m.createdAt());
    assertEquals(List.of("node-a", "node-b"), m.nodes().stream().map(NodeImage::node).toList());
    assertEquals(m, store.latest().orElseThrow());
    assertEquals(List.of(), store.verify(m));
    assertEquals(0, coordinator.consecutiveFailures());
  }

  @Test
  void eachAgentIsAskedToPrepareDumpResumeThenPersist() {
    committed(coordinator.checkpoint("periodic"));

    Path dir = store.epochDir(1);
    assertEquals(List.of(new Prepare(1), new Dump(1, dir, null, TIMEOUT_MS), Resume.proceed(1), new Persist(1)),
        b.requests());
    assertEquals(List.of(new Prepare(1), new Dump(1, dir, null, TIMEOUT_MS), Resume.proceed(1), new Persist(1)),
        a.requests());
  }

  @Test
  void dumpNamesTheNewestCommittedEpochSoUnchangedFilesAreLinked() {
    committed(coordinator.checkpoint("periodic"));
    committed(coordinator.checkpoint("periodic"));

    assertEquals(new Dump(2, store.epochDir(2), store.epochDir(1), TIMEOUT_MS), b.requestsOf(Dump.class).get(1));
  }

  // ---- vacate ----

  @Test
  void vacateKeepsTheTreesFrozenUntilTheCommitAndThenEndsThem() throws IOException {
    Manifest m = committed(coordinator.checkpointAndVacate("preemption"));

    assertEquals("preemption", m.trigger());
    for (FakeAgent agent : List.of(a, b)) {
      assertEquals(List.of("Prepare", "Dump", "Persist", "Resume"), agent.kinds());
      assertEquals(new Resume(1, true, true), agent.requestsOf(Resume.class).get(0));
      assertEquals(List.of(true), agent.manifestPresentAtVacate(), "vacated before the commit");
    }
    assertEquals(List.of(), store.verify(m));
  }

  @ParameterizedTest
  @ValueSource(classes = {Prepare.class, Dump.class, Persist.class})
  void vacateThatAbortsLetsTheJobRunOn(Class<? extends AgentRequest> failing) {
    a.answer(failing, Answer.FAIL);

    assertInstanceOf(CheckpointOutcome.Aborted.class, coordinator.checkpointAndVacate("walltime"));

    for (FakeAgent agent : List.of(a, b)) {
      List<Resume> resumes = agent.requestsOf(Resume.class);
      assertEquals(List.of(Resume.proceed(1)), resumes, "node " + agent.node());
      assertEquals("Resume", agent.kinds().get(agent.kinds().size() - 1));
    }
  }

  @Test
  void vacateWhoseDumpFailsNeverEndsTheJob() throws IOException {
    a.answer(Dump.class, Answer.FAIL);

    aborted(coordinator.checkpointAndVacate("walltime"), 1, AbortReason.DUMP_FAILED);

    for (FakeAgent agent : List.of(a, b)) {
      assertEquals(List.of(new Prepare(1), new Dump(1, store.epochDir(1), null, TIMEOUT_MS), Resume.proceed(1)),
          agent.requests());
      assertTrue(agent.requestsOf(Resume.class).stream().noneMatch(Resume::vacate));
    }
    assertFalse(Files.exists(store.epochDir(1)));
    assertEquals(List.of(), committedEpochs());
  }

  @Test
  void vacateWhoseCommitFailsThawsInsteadOfEnding() {
    coordinator = coordinator(Faults.parse("commit@1"), 3, SHORT);

    aborted(coordinator.checkpointAndVacate("preemption"), 1, AbortReason.COMMIT_FAILED);

    for (FakeAgent agent : List.of(a, b)) {
      assertEquals(List.of("Prepare", "Dump", "Persist", "Resume"), agent.kinds());
      assertEquals(List.of(Resume.proceed(1)), agent.requestsOf(Resume.class));
    }
  }

  // ---- aborts ----

  @Test
  void failedPrepareAbortsAndEveryNodeRunsOnFromThePreviousEpoch() throws IOException {
    committed(coordinator.checkpoint("periodic"));
    a.answer(Prepare.class, Answer.FAIL);

    CheckpointOutcome.Aborted aborted =
        aborted(coordinator.checkpoint("periodic"), 2, AbortReason.PREPARE_FAILED);

    assertContains(aborted.detail(), "node-a: injected failure of Prepare");
    assertEquals(List.of(new Prepare(2), Resume.proceed(2)), at(a, 2));
    assertEquals(List.of(new Prepare(2), Resume.proceed(2)), at(b, 2));
    assertFalse(Files.exists(store.epochDir(2)));
    assertEquals(1, latestEpoch());
    assertEquals(List.of(), store.verify(store.latest().orElseThrow()));
  }

  @Test
  void prepareThatNeverAnswersTimesOut() {
    a.answer(Prepare.class, Answer.HANG);

    CheckpointOutcome.Aborted aborted =
        aborted(coordinator.checkpoint("periodic"), 1, AbortReason.PREPARE_TIMEOUT);

    assertContains(aborted.detail(), "node-a: no reply within 200 ms");
    assertEquals(List.of(new Prepare(1), Resume.proceed(1)), a.requests());
    assertEquals(List.of(new Prepare(1), Resume.proceed(1)), b.requests());
    assertFalse(Files.exists(store.epochDir(1)));
  }

  @Test
  void lostConnectionDuringPrepareIsAFailedPrepare() {
    b.answer(Prepare.class, Answer.THROW);

    CheckpointOutcome.Aborted aborted =
        aborted(coordinator.checkpoint("periodic"), 1, AbortReason.PREPARE_FAILED);

    assertContains(aborted.detail(), "connection to node-b lost");
    assertTrue(a.requestsOf(Dump.class).isEmpty());
    assertEquals(List.of(Resume.proceed(1)), a.requestsOf(Resume.class));
  }

  @Test
  void failedDumpAbortsBeforeAnythingIsPersisted() throws IOException {
    committed(coordinator.checkpoint("periodic"));
    b.answer(Dump.class, Answer.FAIL);

    CheckpointOutcome.Aborted aborted = aborted(coordinator.checkpoint("periodic"), 2, AbortReason.DUMP_FAILED);

    assertContains(aborted.detail(), "node-b: injected failure of Dump");
    for (FakeAgent agent : List.of(a, b)) {
      assertEquals(List.of("Prepare", "Dump", "Resume"),
          at(agent, 2).stream().map(r -> r.getClass().getSimpleName()).toList());
      assertEquals(List.of(Resume.proceed(2)), at(agent, 2).stream()
          .filter(Resume.class::isInstance).toList());
    }
    assertFalse(Files.exists(store.epochDir(2)));
    assertEquals(1, latestEpoch());
  }

  @Test
  void dumpThatNeverAnswersTimesOut() {
    b.answer(Dump.class, Answer.HANG);

    aborted(coordinator.checkpoint("periodic"), 1, AbortReason.DUMP_TIMEOUT);

    assertTrue(a.requestsOf(Persist.class).isEmpty());
    assertEquals(List.of(Resume.proceed(1)), a.requestsOf(Resume.class));
    assertFalse(Files.exists(store.epochDir(1)));
  }

  @Test
  void failedPersistAbortsAfterTheRanksWereResumed() throws IOException {
    a.answer(Persist.class, Answer.THROW);

    CheckpointOutcome.Aborted aborted =
        aborted(coordinator.checkpoint("periodic"), 1, AbortReason.PERSIST_FAILED);

    assertContains(aborted.detail(), "connection to node-a lost");
    assertEquals(List.of(new Prepare(1), new Dump(1, store.epochDir(1), null, TIMEOUT_MS), Resume.proceed(1),
        new Persist(1), Resume.proceed(1)), a.requests());
    assertFalse(Files.exists(store.epochDir(1)));
    assertEquals(List.of(), committedEpochs());
  }

  @Test
  void persistThatNeverAnswersTimesOut() {
    a.answer(Persist.class, Answer.HANG);

    aborted(coordinator.checkpoint("periodic"), 1, AbortReason.PERSIST_TIMEOUT);

    assertFalse(Files.exists(store.epochDir(1)));
  }

  @Test
  void commitFaultAbortsThatEpochAndLeavesThePreviousOneIntact() throws IOException {
    coordinator = coordinator(Faults.parse("commit@2"), 3, SHORT);
    Manifest first = committed(coordinator.checkpoint("periodic"));

    CheckpointOutcome.Aborted aborted =
        aborted(coordinator.checkpoint("periodic"), 2, AbortReason.COMMIT_FAILED);

    assertContains(aborted.detail(), "injected fault 'commit' at epoch 2");
    assertEquals(Resume.proceed(2), at(a, 2).get(at(a, 2).size() - 1));
    assertFalse(Files.exists(store.epochDir(2)));
    assertEquals(first, store.latest().orElseThrow());
    assertEquals(List.of(), store.verify(first));
    assertEquals(3, committed(coordinator.checkpoint("periodic")).epoch());
  }

  @Test
  void storeThatCannotBeginAnEpochAbortsWithoutAskingAnyNode() throws IOException {
    Files.writeString(root.resolve("last-epoch"), "garbage\n");

    CheckpointOutcome.Aborted aborted =
        aborted(coordinator.checkpoint("periodic"), 0, AbortReason.STORE_UNAVAILABLE);

    assertContains(aborted.detail(), "'garbage'");
    assertEquals(List.of(), a.requests());
    assertEquals(List.of(), b.requests());
    assertEquals(1, coordinator.consecutiveFailures());
  }

  // ---- epochs, retention ----

  @Test
  void epochIdsStrictlyIncreaseAcrossAbortedEpochs() throws IOException {
    assertEquals(1, committed(coordinator.checkpoint("periodic")).epoch());
    a.answer(Prepare.class, Answer.FAIL);
    aborted(coordinator.checkpoint("periodic"), 2, AbortReason.PREPARE_FAILED);
    a.answer(Prepare.class, Answer.SUCCEED).answer(Dump.class, Answer.FAIL);
    aborted(coordinator.checkpoint("periodic"), 3, AbortReason.DUMP_FAILED);
    a.answer(Dump.class, Answer.SUCCEED);
    assertEquals(4, committed(coordinator.checkpoint("periodic")).epoch());

    assertEquals(List.of(1L, 4L), committedEpochs());
  }

  @Test
  void retentionKeepsTheNewestKeepEpochs() throws IOException {
    coordinator = coordinator(Faults.none(), 2, SHORT);
    for (int i = 0; i < 4; i++) {
      committed(coordinator.checkpoint("periodic"));
    }

    assertEquals(List.of(3L, 4L), committedEpochs());
    assertFalse(Files.exists(store.epochDir(1)));
    assertFalse(Files.exists(store.epochDir(2)));
    for (Manifest m : store.committed()) {
      assertEquals(List.of(), store.verify(m));
    }
  }

  @Test
  void aPinnedEpochOutlivesTheNextCommitOnlyAndIsThenReleased() throws IOException {
    EpochPins pins = new EpochPins();
    coordinator = new CheckpointCoordinator(new CoordinatorConfig(JOB, "criu", 1, SHORT, SHORT, SHORT),
        store, List.of(b, a), Faults.none(), Clock.fixed(NOW, ZoneOffset.UTC), System::nanoTime, heard::add, pins);
    committed(coordinator.checkpoint("periodic"));
    committed(coordinator.checkpoint("periodic"));
    pins.pin("restored from", 2);
    pins.pinIfAbsent("before the failures", 1); // already deleted by retention: pinning cannot bring it back
    committed(coordinator.checkpoint("periodic"));

    assertEquals(List.of(2L, 3L), committedEpochs());
    assertEquals(java.util.Set.of(), pins.epochs());
    committed(coordinator.checkpoint("periodic"));
    assertEquals(List.of(4L), committedEpochs());
  }

  @Test
  void theStartOfAFailureStreakStaysPinnedUnderLaterPins() {
    EpochPins pins = new EpochPins();
    pins.pinIfAbsent("streak", 7);
    pins.pinIfAbsent("streak", 5);
    pins.pin("restored from", 6);
    pins.pin("restored from", 4);
    assertEquals(java.util.Set.of(4L, 7L), pins.epochs());
    pins.pin("never committed", 0);
    assertEquals(java.util.Set.of(4L, 7L), pins.epochs());
  }

  // ---- one epoch at a time, shutdown, listener, failure count ----

  @Test
  void checkpointRequestedWhileOneRunsIsSkipped() throws Exception {
    coordinator = coordinator(Faults.none(), 3, Duration.ofSeconds(10));
    a.answer(Prepare.class, Answer.HOLD);
    ExecutorService executor = Executors.newSingleThreadExecutor();
    try {
      Future<CheckpointOutcome> running = executor.submit(() -> coordinator.checkpoint("periodic"));
      assertEquals(new Prepare(1), a.awaitHeld());

      CheckpointOutcome second = coordinator.checkpoint("manual");

      CheckpointOutcome.Skipped skipped = assertInstanceOf(CheckpointOutcome.Skipped.class, second);
      assertContains(skipped.why(), "already running");
      a.releaseHeld();
      assertEquals(1, committed(running.get(5, TimeUnit.SECONDS)).epoch());
    } finally {
      executor.shutdownNow();
    }
    assertEquals(List.of(new Prepare(1)), a.requestsOf(Prepare.class));
    assertEquals(List.of(1L), committedEpochs());
    assertEquals(2, heard.size());
    assertInstanceOf(CheckpointOutcome.Skipped.class, heard.get(0));
    assertInstanceOf(CheckpointOutcome.Committed.class, heard.get(1));
  }

  @Test
  void listenerHearsEveryOutcome() {
    CheckpointOutcome first = coordinator.checkpoint("periodic");
    a.answer(Dump.class, Answer.FAIL);
    CheckpointOutcome second = coordinator.checkpoint("periodic");
    coordinator.close();
    CheckpointOutcome third = coordinator.checkpoint("manual");

    assertEquals(List.of(first, second, third), heard);
    assertInstanceOf(CheckpointOutcome.Committed.class, first);
    assertInstanceOf(CheckpointOutcome.Aborted.class, second);
    assertInstanceOf(CheckpointOutcome.Skipped.class, third);
  }

  @Test
  void aListenerThatThrowsDoesNotChangeTheOutcome() {
    coordinator = new CheckpointCoordinator(new CoordinatorConfig(JOB, "criu", 3, SHORT, SHORT, SHORT),
        store, List.of(b, a), Faults.none(), Clock.fixed(NOW, ZoneOffset.UTC), System::nanoTime,
        outcome -> {
          throw new IllegalStateException("listener is broken");
        });

    assertEquals(1, committed(coordinator.checkpoint("periodic")).epoch());
  }

  @Test
  void afterCloseEveryRequestIsSkippedWithoutAskingAnyNode() throws IOException {
    coordinator.close();

    CheckpointOutcome.Skipped skipped =
        assertInstanceOf(CheckpointOutcome.Skipped.class, coordinator.checkpoint("periodic"));
    assertInstanceOf(CheckpointOutcome.Skipped.class, coordinator.checkpointAndVacate("preemption"));

    assertContains(skipped.why(), "shutting down");
    assertEquals(List.of(), a.requests());
    assertEquals(List.of(), b.requests());
    assertEquals(List.of(), committedEpochs());
    assertEquals(0, coordinator.consecutiveFailures());
  }

  @Test
  void threeAbortsInARowCountAndOneCommitResetsTheCount() {
    a.answer(Prepare.class, Answer.FAIL);
    for (int i = 1; i <= 3; i++) {
      aborted(coordinator.checkpoint("periodic"), i, AbortReason.PREPARE_FAILED);
      assertEquals(i, coordinator.consecutiveFailures());
    }

    a.answer(Prepare.class, Answer.SUCCEED);
    assertEquals(4, committed(coordinator.checkpoint("periodic")).epoch());

    assertEquals(0, coordinator.consecutiveFailures());
  }

  @Test
  void aJobNeedsAtLeastOneAgent() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new CheckpointCoordinator(new CoordinatorConfig(JOB, "criu", 1, SHORT, SHORT, SHORT), store,
            List.of(), Faults.none(), Clock.systemUTC(), System::nanoTime, outcome -> { }));
    assertContains(e.getMessage(), "at least one node agent");
  }
}
