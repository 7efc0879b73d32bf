package io.crmpi.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crmpi.coordinator.EpochPins;
import io.crmpi.store.Digests;
import io.crmpi.store.FileCheckpointStore;
import io.crmpi.store.Manifest;
import io.crmpi.store.NodeImage;
import io.crmpi.store.Timings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The restore walk against a real checkpoint store and a scripted node
 * slot: which epochs are tried, which one is kept, what is pinned and
 * what the history says.
 */
class RestoreSequenceTest {
  private static final String JOB = "ring";
  @TempDir Path root;
  private FileCheckpointStore store;
  private JobHistory history;
  private final EpochPins pins = new EpochPins();
  private final List<String> events = new ArrayList<>();
  private int forgotten;
  private long now;

  /** One slot: how many processes a restore of each epoch comes back with (missing: the restore fails). */
  private final class Slot extends FakeSlot {
    private final Map<Long, Integer> restoredProcesses;
    private int processes;
    private boolean running;
    private boolean lostOnRestore;
    private boolean lost;

    Slot(Map<Long, Integer> restoredProcesses) {
      super("local");
      this.restoredProcesses = restoredProcesses;
    }

    @Override
    public void restore(java.util.List<Path> epochDirs, long epoch, NodeImage image, Consumer<String> log) throws IOException {
      events.add("restore " + epoch);
      if (lostOnRestore) {
        lost = true; // the node dies under the restore
        throw new IOException("the connection to node node1 (n2) is closed");
      }
      Integer n = restoredProcesses.get(epoch);
      if (n == null) {
        throw new IOException("criu restore failed");
      }
      processes = n;
      running = true;
    }

    @Override
    public void launch() {
      events.add("launch");
      running = true;
    }

    @Override
    public int processes() {
      return running ? processes : 0;
    }

    @Override
    public boolean isRunning() {
      return running;
    }

    @Override
    public boolean reachable() {
      return !lost;
    }

    @Override
    public void kill() {
      running = false;
    }
  }

  @BeforeEach
  void commitThreeEpochsOfSixProcesses() throws IOException {
    store = FileCheckpointStore.open(root.resolve("checkpoints"), JOB);
    history = new JobHistory(root.resolve("history.jsonl"), Clock.fixed(Instant.EPOCH, ZoneOffset.UTC), JOB);
    for (int i = 0; i < 3; i++) {
      long epoch = store.beginEpoch();
      Path image = Files.createDirectories(store.epochDir(epoch).resolve("nodes/local/image"));
      Files.writeString(image.resolve("core-1.img"), "epoch " + epoch);
      NodeImage node = new NodeImage("local", "nodes/local/image", Digests.digestTree(image), null, null, List.of(),
          Map.of(NodeImage.ATTR_PROCESSES, "6"));
      store.commit(new Manifest(Manifest.FORMAT_VERSION, JOB, epoch, Instant.EPOCH, "criu", "periodic",
          new Timings(1, 1, 1, 1), List.of(node)));
    }
  }

  private long restore(Slot slot, long atMost) throws IOException {
    RestoreProbation probation = new RestoreProbation(Duration.ofSeconds(5), Duration.ZERO, Duration.ofMillis(200),
        () -> now, d -> now += d.toNanos());
    return new RestoreSequence(JOB, store, new NodeSlots(JOB, List.of(slot)), probation, pins, history,
        () -> forgotten++).restoreOrStart(atMost, "failure: killed by signal 9");
  }

  private List<String> historyKinds() throws IOException {
    return history.read().stream().map(e -> e.kind() + " " + e.epoch()).toList();
  }

  @Test
  void theNewestHealthyEpochIsRestoredAndPinned() throws IOException {
    assertEquals(3, restore(new Slot(Map.of(1L, 6, 2L, 6, 3L, 6)), Long.MAX_VALUE));
    assertEquals(List.of("restore 3"), events);
    assertEquals(Set.of(3L), pins.epochs());
    assertEquals(List.of("restart 3"), historyKinds());
  }

  @Test
  void anEpochWhoseRestoredJobLosesProcessesIsNeverKeptAndThePreviousOneIsTried() throws IOException {
    // Epoch 3 comes back without its ranks (its connections were reset): the restore counts as failed.
    assertEquals(2, restore(new Slot(Map.of(1L, 6, 2L, 6, 3L, 2)), Long.MAX_VALUE));
    assertEquals(List.of("restore 3", "restore 2"), events);
    assertEquals(List.of("restore-failed 3", "restart 2"), historyKinds());
    assertEquals(Set.of(2L), pins.epochs());
    assertTrue(forgotten >= 2, "the exits of the killed attempt were not forgotten");
  }

  @Test
  void aFailedRestoreFallsBackAndWithNoUsableEpochTheJobStartsOver() throws IOException {
    assertEquals(0, restore(new Slot(Map.of(2L, 1)), Long.MAX_VALUE));
    assertEquals(List.of("restore 3", "restore 2", "restore 1", "launch"), events);
    assertEquals(List.of("restore-failed 2", "restart 0"), historyKinds());
    assertEquals(Set.of(), pins.epochs());
  }

  @Test
  void aNodeLostDuringTheRestoreSkipsNoEpochAndAsksForARequeue() throws IOException {
    Slot slot = new Slot(Map.of(1L, 6, 2L, 6, 3L, 6));
    slot.lostOnRestore = true;
    SlotLostException e = org.junit.jupiter.api.Assertions.assertThrows(SlotLostException.class,
        () -> restore(slot, Long.MAX_VALUE));
    assertEquals("local", e.node());
    assertEquals(List.of("restore 3"), events);
    assertEquals(List.of(), historyKinds());
    assertEquals(3, store.committed().size());
  }

  @Test
  void aNodeLostBeforeTheRestoreTriesNothing() {
    Slot slot = new Slot(Map.of(3L, 6));
    slot.lost = true;
    org.junit.jupiter.api.Assertions.assertThrows(SlotLostException.class, () -> restore(slot, Long.MAX_VALUE));
    assertEquals(List.of(), events);
  }

  @Test
  void atMostSkipsNewerEpochs() throws IOException {
    assertEquals(1, restore(new Slot(Map.of(1L, 6, 2L, 6, 3L, 6)), 1));
    assertEquals(List.of("restore 1"), events);
  }
}
