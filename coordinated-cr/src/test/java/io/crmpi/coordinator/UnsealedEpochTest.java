package io.crmpi.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crmpi.coordinator.FakeAgent.Answer;
import io.crmpi.fault.Faults;
import io.crmpi.protocol.AgentRequest;
import io.crmpi.store.FileCheckpointStore;
import io.crmpi.store.FileDigest;
import io.crmpi.store.Manifest;
import io.crmpi.store.ManifestCodec;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** After a restart: the newest epoch committed and never sealed is sealed from what crmpid kept, or left alone. */
class UnsealedEpochTest {
  private static final Instant NOW = Instant.parse("2026-12-02T10:00:00Z");
  private static final Duration SHORT = Duration.ofMillis(300);
  @TempDir Path root;
  FileCheckpointStore store;
  final FakeAgent a = new FakeAgent("node-a");
  final FakeAgent b = new FakeAgent("node-b");

  @BeforeEach
  void oneSealedEpochThenOneCommittedWithoutItsSeal() throws IOException {
    store = FileCheckpointStore.open(root, "ring");
    CheckpointCoordinator c = new CheckpointCoordinator(new CoordinatorConfig("ring", "criu", 3, SHORT, SHORT, SHORT),
        store, List.of(a, b), Faults.none(), Clock.fixed(NOW, ZoneOffset.UTC), System::nanoTime, o -> { });
    assertTrue(c.checkpoint("periodic") instanceof CheckpointOutcome.Committed);
    assertTrue(c.checkpoint("periodic") instanceof CheckpointOutcome.Committed);
    // As crmpi leaves an epoch it committed and died before sealing: its images without digests.
    Manifest two = store.latest().orElseThrow();
    Manifest unsealed = two.withNodes(two.nodes().stream().map(n -> n.sealedAs(n.files().stream()
        .map(f -> FileDigest.unsealed(f.path(), f.size())).toList(), java.util.Map.of("stdout", "pipe:[1]")))
        .toList());
    java.nio.file.Files.write(store.epochDir(2).resolve("manifest.json"), ManifestCodec.toJson(unsealed));
    assertFalse(store.latest().orElseThrow().sealed());
  }

  @Test
  void theNewestUnsealedEpochIsSealedWhenEveryNodeStillHoldsIt() throws IOException {
    Manifest sealed = UnsealedEpoch.sealNewest("ring", store, List.of(a, b), SHORT, Deadlines.system()).orElseThrow();
    assertEquals(2, sealed.epoch());
    Manifest stored = store.latest().orElseThrow();
    assertTrue(stored.sealed(), "the store must hold the sealed manifest");
    assertEquals("cd".repeat(32), stored.nodes().get(0).attributes().get("crmpidSeal"));
    assertEquals(List.of(), store.verify(stored));
    assertEquals(1, a.requestsOf(AgentRequest.Reseal.class).size());
    assertEquals("node-a", a.requestsOf(AgentRequest.Reseal.class).get(0).image().node(),
        "each node is sent its own image");
    assertTrue(UnsealedEpoch.sealNewest("ring", store, List.of(a, b), SHORT, Deadlines.system()).isEmpty(),
        "nothing left to seal");
  }

  @Test
  void anEpochANodeCannotSealStaysUnsealedAndIsNeverRestored() throws IOException {
    b.answer(AgentRequest.Reseal.class, Answer.FAIL);
    assertTrue(UnsealedEpoch.sealNewest("ring", store, List.of(a, b), SHORT, Deadlines.system()).isEmpty());
    assertFalse(store.latest().orElseThrow().sealed());
    a.answer(AgentRequest.Reseal.class, Answer.SUCCEED);
    b.answer(AgentRequest.Reseal.class, Answer.HANG);
    assertTrue(UnsealedEpoch.sealNewest("ring", store, List.of(a, b), SHORT, Deadlines.system()).isEmpty());
    assertFalse(store.latest().orElseThrow().sealed());
  }

  @Test
  void nodesOtherThanTheEpochsAreNotAsked() throws IOException {
    FakeAgent c = new FakeAgent("node-c");
    assertTrue(UnsealedEpoch.sealNewest("ring", store, List.of(a, c), SHORT, Deadlines.system()).isEmpty());
    assertEquals(List.of(), c.requestsOf(AgentRequest.Reseal.class));
    assertFalse(store.latest().orElseThrow().sealed());
  }
}
