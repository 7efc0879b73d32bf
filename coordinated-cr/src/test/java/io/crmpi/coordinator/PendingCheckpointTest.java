package io.crmpi.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.crmpi.store.Manifest;
import io.crmpi.store.NodeImage;
import io.crmpi.store.Timings;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PendingCheckpointTest {
  private static final long MS = 1_000_000;
  private static final Instant NOW = Instant.parse("2026-11-23T11:58:43Z");

  private static NodeImage image(String node) {
    return new NodeImage(node, "nodes/" + node + "/image", List.of(), null, null, List.of(), Map.of());
  }

  @Test
  void timingsCountFromTheStartOfTheEpoch() {
    PendingCheckpoint p = new PendingCheckpoint("ring", 4, "periodic", 1_000 * MS);
    p.prepared(1_002 * MS);
    p.dumped(1_180 * MS, 171);
    p.resumed(1_181 * MS);
    p.addImage(image("local"));
    Manifest m = p.complete("criu", NOW, 1_390 * MS);
    assertEquals(new Timings(2, 171, 181, 390), m.timings());
    assertEquals(4, m.epoch());
    assertEquals("periodic", m.trigger());
    assertEquals(NOW, m.createdAt());
  }

  @Test
  void aVacateStaysFrozenUntilTheCommit() {
    PendingCheckpoint p = new PendingCheckpoint("ring", 1, "preemption", 0);
    p.prepared(5 * MS);
    p.dumped(50 * MS, 40);
    p.addImage(image("local"));
    assertEquals(new Timings(5, 40, 90, 90), p.complete("criu", NOW, 90 * MS).timings());
  }

  /** System.nanoTime's origin is arbitrary, so its values may be negative or zero. */
  @Test
  void frozenTimeEndsAtTheResumeWhateverTheTickerOrigin() {
    PendingCheckpoint negative = new PendingCheckpoint("ring", 1, "periodic", -10_000 * MS);
    negative.prepared(-9_999 * MS);
    negative.dumped(-9_000 * MS, 900);
    negative.resumed(-8_000 * MS);
    negative.addImage(image("local"));
    assertEquals(2_000, negative.complete("criu", NOW, -5_000 * MS).timings().frozenMillis());

    PendingCheckpoint zero = new PendingCheckpoint("ring", 1, "periodic", -3 * MS);
    zero.prepared(-2 * MS);
    zero.dumped(-1 * MS, 1);
    zero.resumed(0);
    zero.addImage(image("local"));
    assertEquals(3, zero.complete("criu", NOW, 100 * MS).timings().frozenMillis());
  }

  @Test
  void nodesAreSortedByName() {
    PendingCheckpoint p = new PendingCheckpoint("ring", 1, "manual", 0);
    p.addImage(image("node-c"));
    p.addImage(image("node-a"));
    p.addImage(image("node-b"));
    List<String> nodes = p.complete("criu", NOW, MS).nodes().stream().map(NodeImage::node).toList();
    assertEquals(List.of("node-a", "node-b", "node-c"), nodes);
  }
}
