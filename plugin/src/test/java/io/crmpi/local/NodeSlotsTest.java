package io.crmpi.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crmpi.store.NodeImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class NodeSlotsTest {
  private final List<String> events = new CopyOnWriteArrayList<>();

  /** A slot that records what it is asked to do, and can fail one step. */
  private final class Slot extends FakeSlot {
    private final String failing;
    String endpoint;
    final List<io.crmpi.protocol.PartnerSource> partners = new CopyOnWriteArrayList<>();

    @Override
    public String partnerEndpoint() {
      return endpoint;
    }

    @Override
    public void restore(List<Path> epochDirs, long epoch, NodeImage image, io.crmpi.protocol.PartnerSource partner,
        Consumer<String> log) throws IOException {
      if (partner != null) {
        partners.add(partner);
      }
      restore(epochDirs, epoch, image, log);
    }

    Slot(String node, String failing) {
      super(node);
      this.failing = failing;
    }

    private void step(String what) throws IOException {
      events.add(what + " " + node());
      if (what.equals(failing)) {
        throw new IOException(what + " of " + node() + " failed");
      }
    }

    @Override
    public void fence() throws IOException {
      step("fence");
    }

    @Override
    public void restore(java.util.List<Path> epochDirs, long epoch, NodeImage image, Consumer<String> log) throws IOException {
      step("restore");
    }

    @Override
    public void thaw() throws IOException {
      step("thaw");
    }

    @Override
    public void kill() {
      events.add("kill " + node());
    }
  }

  private static int last(List<String> events, String step) {
    int at = -1;
    for (int i = 0; i < events.size(); i++) {
      if (events.get(i).startsWith(step + " ")) {
        at = i;
      }
    }
    return at;
  }

  private static int first(List<String> events, String step) {
    for (int i = 0; i < events.size(); i++) {
      if (events.get(i).startsWith(step + " ")) {
        return i;
      }
    }
    return Integer.MAX_VALUE;
  }

  @Test
  void everySlotIsFencedBeforeAnyIsRestoredAndThawedOnlyOnceAllAreRestored() throws IOException {
    NodeSlots slots = new NodeSlots("job", List.of(new Slot("node0", ""), new Slot("node1", ""),
        new Slot("node2", "")));
    slots.restoreAll(java.util.List.of(Path.of("/epochs/4")), 4, Map.of());
    assertEquals(9, events.size(), events.toString());
    assertTrue(last(events, "fence") < first(events, "restore"), "a slot was restored before all were fenced: "
        + events);
    assertTrue(last(events, "restore") < first(events, "thaw"), "a slot ran before all were restored: " + events);
  }

  @Test
  void aSlotThatCannotBeFencedStopsTheRestoreBeforeAnyTreeComesBack() {
    NodeSlots slots = new NodeSlots("job", List.of(new Slot("node0", ""), new Slot("node1", "fence")));
    IOException e = assertThrows(IOException.class, () -> slots.restoreAll(java.util.List.of(Path.of("/epochs/4")), 4, Map.of()));
    assertEquals("fence of node1 failed", e.getMessage());
    assertEquals(-1, last(events, "restore"), "a tree was restored although a slot could not be fenced: " + events);
  }

  @Test
  void aFailedRestoreThawsNothing() {
    NodeSlots slots = new NodeSlots("job", List.of(new Slot("node0", "restore"), new Slot("node1", "")));
    IOException e = assertThrows(IOException.class, () -> slots.restoreAll(java.util.List.of(Path.of("/epochs/4")), 4, Map.of()));
    assertEquals("restore of node0 failed", e.getMessage());
    assertEquals(-1, last(events, "thaw"), "a tree ran although the restore failed: " + events);
  }

  @Test
  void eachSlotAsksItsPartnerFirstThenTheOthersButNeverItself() throws IOException {
    Slot n0 = new Slot("node0", "");
    Slot n1 = new Slot("node1", "");
    Slot n2 = new Slot("node2", "");
    n0.endpoint = "10.0.0.1:1";
    n1.endpoint = "10.0.0.2:2";
    n2.endpoint = "10.0.0.3:3";
    NodeSlots slots = new NodeSlots("job", List.of(n0, n1, n2));
    Path l1 = Path.of("/dev/shm/crmpi-1000/job/epochs/0000000004");
    slots.restoreAll(List.of(l1), 4, Map.of(), l1);
    assertEquals(List.of("10.0.0.3:3", "10.0.0.1:1"), n1.partners.get(0).endpoints(), "node1's copy is on node2");
    assertEquals(List.of("10.0.0.1:1", "10.0.0.2:2"), n2.partners.get(0).endpoints(), "node2's copy is on node0");
    assertEquals(l1, n0.partners.get(0).localEpochDir());
    slots.restoreAll(List.of(l1), 4, Map.of());
    assertEquals(1, n0.partners.size(), "an epoch without partner copies offered a partner");
  }
}
