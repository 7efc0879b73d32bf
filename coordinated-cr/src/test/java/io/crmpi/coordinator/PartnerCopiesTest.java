package io.crmpi.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crmpi.coordinator.FakeAgent.Answer;
import io.crmpi.fault.Faults;
import io.crmpi.protocol.AgentRequest.Replicate;
import io.crmpi.store.EpochLevels;
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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Partner copies (storage level PARTNER) from the coordinator's side:
 * every node is asked to copy its part to the next node by name, at that
 * node's partner port, and the manifest says PARTNER once all did.
 */
class PartnerCopiesTest {
  private static final Duration SHORT = Duration.ofMillis(500);

  @TempDir
  Path root;

  FileCheckpointStore store;
  NodeLocalLevel local;
  final FakeAgent b = new FakeAgent("node-b");
  final FakeAgent a = new FakeAgent("node-a");
  final FakeAgent c = new FakeAgent("node-c");
  CheckpointCoordinator coordinator;

  @BeforeEach
  void open() throws IOException {
    store = FileCheckpointStore.open(root.resolve("state"), "ring");
    Files.createDirectories(root.resolve("shm"));
    local = NodeLocalLevel.of(root.resolve("shm"), 1000, "ring");
    a.partnerEndpoint = "10.0.0.1:4001";
    b.partnerEndpoint = "10.0.0.2:4002";
    c.partnerEndpoint = "10.0.0.3:4003";
  }

  @AfterEach
  void close() {
    if (coordinator != null) {
      coordinator.close();
    }
  }

  CheckpointCoordinator coordinator(boolean partnerCopy, List<FakeAgent> agents) {
    StoragePlan plan = new StoragePlan(local.jobDir(), StorageLevel.LOCAL, 1000, 2, SHORT, true, 1, partnerCopy);
    coordinator = new CheckpointCoordinator(new CoordinatorConfig("ring", "criu", 3, SHORT, SHORT, SHORT, plan),
        store, List.copyOf(agents), Faults.none(), Clock.fixed(Instant.parse("2026-12-01T00:00:00Z"),
        ZoneOffset.UTC), System::nanoTime, o -> { });
    return coordinator;
  }

  Manifest awaitPartnerLevel(long epoch) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (System.nanoTime() < deadline) {
      Manifest m = store.get(epoch).orElseThrow();
      if (m.levels().holds(StorageLevel.PARTNER)) {
        return m;
      }
      Thread.sleep(10);
    }
    throw new AssertionError("epoch " + epoch + " never held at the partner level: " + store.get(epoch));
  }

  static Manifest committed(CheckpointOutcome outcome) {
    return assertInstanceOf(CheckpointOutcome.Committed.class, outcome, outcome::toString).manifest();
  }

  @Test
  void everyNodeCopiesItsPartToTheNextNodeByNameAndTheManifestSaysPartner() throws Exception {
    coordinator(true, List.of(b, c, a));
    Manifest m = committed(coordinator.checkpoint("periodic"));
    assertFalse(m.levels().holds(StorageLevel.SHARED));
    Manifest after = awaitPartnerLevel(1);
    assertEquals("node-local+partner", after.levels().describe());
    Replicate ra = a.requestsOf(Replicate.class).get(0);
    assertEquals("node-b", ra.partner());
    assertEquals("10.0.0.2:4002", ra.partnerEndpoint());
    assertEquals(local.jobDir(), ra.localJobDir());
    assertEquals("node-a", c.requestsOf(Replicate.class).get(0).partner(), "the last node's partner is the first");
    assertEquals("10.0.0.3:4003", b.requestsOf(Replicate.class).get(0).partnerEndpoint());
  }

  @Test
  void aFailedCopyLeavesTheEpochCommittedAtItsOtherLevels() throws Exception {
    b.answer(Replicate.class, Answer.FAIL);
    coordinator(true, List.of(a, b));
    committed(coordinator.checkpoint("periodic"));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
    while (b.requestsOf(Replicate.class).isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    Thread.sleep(100);
    assertEquals(List.of(StorageLevel.LOCAL), store.get(1).orElseThrow().levels().held());
    assertEquals(0, coordinator.consecutiveFailures(), "a failed partner copy is not a failed checkpoint");
    b.answer(Replicate.class, Answer.SUCCEED);
    committed(coordinator.checkpoint("periodic"));
    awaitPartnerLevel(2);
  }

  @Test
  void aVacateAndAJobWithoutPartnerCopiesMakeNone() throws Exception {
    coordinator(false, List.of(a, b));
    committed(coordinator.checkpoint("periodic"));
    coordinator.close();
    coordinator(true, List.of(a, b));
    committed(coordinator.checkpointAndVacate("vacate"));
    Thread.sleep(200);
    assertTrue(a.requestsOf(Replicate.class).isEmpty(), "a copy was asked for: " + a.kinds());
  }

  @Test
  void aNodeWhosePortIsUnknownMeansNoCopiesRatherThanAWrongOne() throws Exception {
    b.partnerEndpoint = null;
    coordinator(true, List.of(a, b));
    committed(coordinator.checkpoint("periodic"));
    Thread.sleep(200);
    assertTrue(a.requestsOf(Replicate.class).isEmpty(), "a copy was asked for: " + a.kinds());
    assertFalse(store.get(1).orElseThrow().levels().holds(StorageLevel.PARTNER));
  }

  @Test
  void partnersFormARingByName() {
    assertEquals("n2", EpochLevels.partnerOf("n1", List.of("n3", "n1", "n2")));
    assertEquals("n1", EpochLevels.partnerOf("n3", List.of("n3", "n1", "n2")));
    assertEquals(null, EpochLevels.partnerOf("n1", List.of("n1")));
  }
}
