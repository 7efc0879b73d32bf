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
import io.crmpi.protocol.AgentRequest.Resume;
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
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The seal after the commit (crmpid's images): the coordinator against two
 * fake agents that answer the persist without digests, as crmpid does, and
 * a real {@link FileCheckpointStore}.
 */
class CoordinatorSealTest {
  private static final String JOB = "ring";
  private static final Instant NOW = Instant.parse("2026-11-23T11:58:43Z");
  private static final Duration SHORT = Duration.ofMillis(200);

  @TempDir
  Path root;

  FileCheckpointStore store;
  final FakeAgent b = new FakeAgent("node-b");
  final FakeAgent a = new FakeAgent("node-a");
  CheckpointCoordinator coordinator;

  @BeforeEach
  void open() throws IOException {
    store = FileCheckpointStore.open(root, JOB);
    coordinator = coordinator(3);
  }

  CheckpointCoordinator coordinator(int keep) {
    return new CheckpointCoordinator(new CoordinatorConfig(JOB, "criu", keep, SHORT, SHORT, SHORT),
        store, List.of(b, a), Faults.none(), Clock.fixed(NOW, ZoneOffset.UTC), System::nanoTime, o -> { });
  }

  List<Long> committedEpochs() throws IOException {
    return store.committed().stream().map(Manifest::epoch).toList();
  }

  @Test
  void imagesSealedAfterTheCommitAreCommittedFirstThenRecordedSealed() throws IOException {
    a.sealsLater = true;
    b.sealsLater = true;
    Manifest m = committed(coordinator.checkpoint("periodic"));
    assertTrue(m.sealed(), "the outcome's manifest is the sealed one");
    assertTrue(m.timings().sealMillis() != null && m.timings().sealMillis() >= 0, m.timings()::toString);
    assertEquals(List.of("Prepare", "Dump", "Resume", "Persist", "Seal"), at(a, 1).stream()
        .map(r -> r.getClass().getSimpleName()).toList());
    assertEquals(List.of(true), a.manifestPresentAtSeal(), "the seal must come after the commit");
    Manifest stored = store.latest().orElseThrow();
    assertTrue(stored.sealed(), "the store's manifest was not replaced by the sealed one");
    assertEquals("ab".repeat(32), stored.nodes().get(0).attributes().get("crmpidSeal"));
    assertEquals(m.timings(), stored.timings(), "the stored manifest records the seal's time");
    a.sealsLater = false;
    b.sealsLater = false;
    Manifest sealedAtPersist = committed(coordinator.checkpoint("periodic"));
    assertEquals(null, sealedAtPersist.timings().sealMillis(), "no seal round for images sealed at the persist");
    assertEquals(List.of(), at(a, 2).stream().filter(r -> r instanceof AgentRequest.Seal).toList());
    assertEquals(List.of(), store.verify(stored), "the sealed epoch verifies");
  }

  @ParameterizedTest
  @ValueSource(strings = {"FAIL", "THROW", "HANG"})
  void anEpochWhoseSealFailsIsWithdrawnAndThePreviousStaysTheNewest(String answer) throws IOException {
    a.sealsLater = true;
    b.sealsLater = true;
    committed(coordinator.checkpoint("periodic"));
    a.answer(AgentRequest.Seal.class, Answer.valueOf(answer));
    aborted(coordinator.checkpoint("periodic"), 2,
        answer.equals("HANG") ? AbortReason.SEAL_TIMEOUT : AbortReason.SEAL_FAILED);
    assertEquals(List.of(1L), committedEpochs(), "the unsealed epoch 2 must be withdrawn, epoch 1 kept");
    assertFalse(Files.exists(store.epochDir(2)), "the withdrawn epoch's files must go");
    assertTrue(at(a, 2).stream().anyMatch(r -> r instanceof Resume res && !res.vacate()),
        "the abort after a failed seal must let the ranks go on");
    a.answer(AgentRequest.Seal.class, Answer.SUCCEED);
    assertEquals(3, committed(coordinator.checkpoint("periodic")).epoch());
    assertEquals(List.of(1L, 3L), committedEpochs());
  }

  @Test
  void aVacateWhoseSealFailsDoesNotEndTheJob() throws IOException {
    a.sealsLater = true;
    b.sealsLater = true;
    a.answer(AgentRequest.Seal.class, Answer.FAIL);
    aborted(coordinator.checkpointAndVacate("vacate"), 1, AbortReason.SEAL_FAILED);
    assertTrue(a.requestsOf(Resume.class).stream().noneMatch(Resume::vacate),
        "a vacate without a sealed checkpoint must not end the tree");
    assertEquals(List.of(), committedEpochs());
  }

  @Test
  void retentionCountsOnlySealedEpochsAndTakesAnUnsealedOneAsDebris() throws IOException {
    a.sealsLater = true;
    b.sealsLater = true;
    coordinator = coordinator(1);
    committed(coordinator.checkpoint("periodic"));
    // As if crmpi had died between the commit of epoch 2 and its seal: committed, never sealed.
    Manifest one = store.latest().orElseThrow();
    long two = store.beginEpoch();
    store.commit(new Manifest(Manifest.FORMAT_VERSION, JOB, two, NOW, "criu", "periodic", one.timings(),
        one.nodes().stream().map(n -> n.sealedAs(n.files().stream()
            .map(f -> io.crmpi.store.FileDigest.unsealed(f.path(), f.size())).toList(), n.attributes())).toList()));
    assertFalse(store.latest().orElseThrow().sealed());
    assertEquals(3, committed(coordinator.checkpoint("periodic")).epoch());
    assertEquals(List.of(3L), committedEpochs(), "keep 1: the unsealed epoch 2 is debris, epoch 1 the one before");
  }
}
