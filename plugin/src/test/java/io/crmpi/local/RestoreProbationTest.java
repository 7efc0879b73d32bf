package io.crmpi.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.LongPredicate;
import java.util.function.LongToIntFunction;
import org.junit.jupiter.api.Test;

class RestoreProbationTest {
  private long now;
  private final RestoreProbation probation = new RestoreProbation(Duration.ofSeconds(5), Duration.ofSeconds(3),
      Duration.ofMillis(200), () -> now, d -> now += d.toNanos());

  /** A slot whose state is a function of the (fake) time. */
  private final class Slot extends FakeSlot {
    private final LongPredicate running;
    private final LongToIntFunction processes;

    Slot(String node, LongPredicate running, LongToIntFunction processes) {
      super(node);
      this.running = running;
      this.processes = processes;
    }

    @Override
    public boolean isRunning() {
      return running.test(now);
    }

    @Override
    public int processes() {
      return isRunning() ? processes.applyAsInt(now) : 0;
    }
  }

  private static long s(double seconds) {
    return (long) (seconds * 1e9);
  }

  @Test
  void treesThatKeepTheirProcessesForTheWholeWindowAreHealthy() throws Exception {
    Slot a = new Slot("node0", t -> true, t -> 9);
    Slot b = new Slot("node1", t -> true, t -> 6);
    assertInstanceOf(RestoreProbation.Verdict.Healthy.class,
        probation.watch(List.of(a, b), Map.of("node0", 9, "node1", 5)));
    assertTrue(now >= s(5), "the probation ended before its window: " + now);
  }

  @Test
  void aRankThatDiesAfterTheRestoreBreaksIt() throws Exception {
    Slot a = new Slot("node0", t -> true, t -> 9);
    Slot b = new Slot("node1", t -> true, t -> t < s(1) ? 6 : 4);
    RestoreProbation.Verdict v = probation.watch(List.of(a, b), Map.of("node0", 9, "node1", 6));
    RestoreProbation.Verdict.Broken broken = assertInstanceOf(RestoreProbation.Verdict.Broken.class, v);
    assertEquals("the node tree of node1 has 4 processes, its image had 6 (a rank or launcher ended right after"
        + " the restore)", broken.problem());
  }

  @Test
  void aTreeRestoredShortOfItsImageIsBrokenAtOnce() throws Exception {
    Slot a = new Slot("node0", t -> true, t -> 3);
    RestoreProbation.Verdict v = probation.watch(List.of(a), Map.of("node0", 9));
    assertInstanceOf(RestoreProbation.Verdict.Broken.class, v);
    assertTrue(now <= s(3.5), "took " + now);
  }

  @Test
  void aRemoteTreeThatEndsBreaksTheRestore() throws Exception {
    Slot a = new Slot("node0", t -> true, t -> 9);
    Slot b = new Slot("node1", t -> t < s(2), t -> 6);
    RestoreProbation.Verdict v = probation.watch(List.of(a, b), Map.of("node0", 9, "node1", 6));
    assertEquals(new RestoreProbation.Verdict.Broken("the node tree of node1 ended"), v);
  }

  @Test
  void aJobThatFinishesDuringTheWindowEndsItsProbation() throws Exception {
    // The remote ranks finalize a moment before mpirun ends: that is the job ending, not a broken restore.
    Slot a = new Slot("node0", t -> t < s(2.5), t -> 9);
    Slot b = new Slot("node1", t -> true, t -> t < s(2) ? 6 : 2);
    assertInstanceOf(RestoreProbation.Verdict.Ended.class,
        probation.watch(List.of(a, b), Map.of("node0", 9, "node1", 6)));
  }

  @Test
  void aSlotWithoutARecordedCountIsOnlyCheckedForRunning() throws Exception {
    Slot a = new Slot("node0", t -> true, t -> 1);
    assertInstanceOf(RestoreProbation.Verdict.Healthy.class, probation.watch(List.of(a), Map.of()));
  }

  @Test
  void aNegativeWindowIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new RestoreProbation(Duration.ofSeconds(-1), Duration.ZERO, Duration.ofMillis(1), () -> 0, d -> { }));
    assertTrue(e.getMessage().contains("PT-1S"), e.getMessage());
  }
}
