package io.crmpi.fault;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class FaultsTest {
  private static boolean fires(Faults faults, FaultPoint point, long epoch) {
    try {
      faults.check(point, epoch);
      return false;
    } catch (IOException e) {
      return true;
    }
  }

  private static void assertFiresAt(Faults faults, FaultPoint point, long... epochs) {
    for (long epoch : epochs) {
      assertTrue(fires(faults, point, epoch), point + " does not fire at epoch " + epoch);
    }
  }

  private static void assertSilentAt(Faults faults, FaultPoint point, long... epochs) {
    for (long epoch : epochs) {
      assertTrue(!fires(faults, point, epoch), point + " fires at epoch " + epoch);
    }
  }

  @Test
  void noneNeverThrows() {
    Faults none = Faults.none();
    for (FaultPoint point : FaultPoint.values()) {
      for (long epoch = 1; epoch <= 100; epoch++) {
        long e = epoch;
        assertDoesNotThrow(() -> none.check(point, e));
      }
    }
  }

  @Test
  void nullOrBlankArmsNothing() {
    for (Faults faults : new Faults[] {Faults.parse(null), Faults.parse(""), Faults.parse("  ")}) {
      for (FaultPoint point : FaultPoint.values()) {
        assertSilentAt(faults, point, 1, 2, 3, Long.MAX_VALUE);
      }
    }
  }

  @Test
  void oneEpochFiresOnlyThereAndOnlyAtItsPoint() {
    Faults faults = Faults.parse("dump@2");
    assertFiresAt(faults, FaultPoint.DUMP, 2);
    assertSilentAt(faults, FaultPoint.DUMP, 1, 3, 20);
    assertSilentAt(faults, FaultPoint.PREPARE, 1, 2, 3);
    assertSilentAt(faults, FaultPoint.COMMIT, 1, 2, 3);
  }

  @Test
  void theFaultNamesItsPointAndEpoch() {
    IOException e = assertThrows(IOException.class, () -> Faults.parse("dump@2").check(FaultPoint.DUMP, 2));
    assertEquals("injected fault 'dump' at epoch 2", e.getMessage());
  }

  @Test
  void epochWithDashFiresFromThatEpochOn() {
    Faults faults = Faults.parse("dump@3-");
    assertSilentAt(faults, FaultPoint.DUMP, 1, 2);
    assertFiresAt(faults, FaultPoint.DUMP, 3, 4, 1000);
    assertSilentAt(faults, FaultPoint.COMMIT, 3, 4);
  }

  @Test
  void starFiresAtEveryEpoch() {
    Faults faults = Faults.parse("prepare@*");
    assertFiresAt(faults, FaultPoint.PREPARE, 1, 2, 3, 99, Long.MAX_VALUE);
    assertSilentAt(faults, FaultPoint.DUMP, 1, 2);
  }

  @Test
  void itemsAreCommaSeparatedAndAddUp() {
    Faults faults = Faults.parse("dump@2, dump@4 ,commit@*");
    assertFiresAt(faults, FaultPoint.DUMP, 2, 4);
    assertSilentAt(faults, FaultPoint.DUMP, 1, 3, 5);
    assertFiresAt(faults, FaultPoint.COMMIT, 1, 7);
    assertSilentAt(faults, FaultPoint.PREPARE, 1, 2);
  }

  @Test
  void openRangesOfOnePointAddUpWhateverTheirOrder() {
    for (String spec : new String[] {"dump@5-,dump@2-", "dump@2-,dump@5-"}) {
      Faults faults = Faults.parse(spec);
      assertSilentAt(faults, FaultPoint.DUMP, 1);
      assertFiresAt(faults, FaultPoint.DUMP, 2, 3, 5, 6);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"dump", "nope@1", "DUMP@1", "@1", "dump@2,nope@3"})
  void unknownPointsOrMissingEpochsAreRejectedWithTheItem(String spec) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Faults.parse(spec));
    String item = spec.contains(",") ? spec.substring(spec.indexOf(',') + 1) : spec;
    assertTrue(e.getMessage().contains("'" + item + "'"), e.getMessage());
    assertTrue(e.getMessage().contains("NAME@EPOCH"), e.getMessage());
    assertTrue(e.getMessage().contains(
        "launch, prepare, freeze, dump, persist, commit, committed, seal, resume, retention, verify, restore"),
        e.getMessage());
  }

  @Test
  void aKillItemParsesAndFiresOnlyAtItsEpochs() {
    // A :kill that fires would end this JVM: only the epochs where it stays silent are checked here
    // (FaultMatrixTest fires them in real jobs).
    Faults faults = Faults.parse("committed@3:kill,restore@2-:kill,dump@1");
    assertSilentAt(faults, FaultPoint.COMMITTED, 1, 2, 4);
    assertSilentAt(faults, FaultPoint.RESTORE, 1);
    assertFiresAt(faults, FaultPoint.DUMP, 1);
  }

  @Test
  void aStopItemParsesForItsRoleAndStaysSilentElsewhere() {
    // A :stop that fires would stop this JVM: SlurmAgentFaultTest fires them in real agents.
    Faults agent = Faults.parse("agent:dump@2:stop,freeze@*", Faults.Role.AGENT);
    assertSilentAt(agent, FaultPoint.DUMP, 1, 3);
    assertFiresAt(agent, FaultPoint.FREEZE, 5);
    Faults coordinator = Faults.parse("agent:dump@2:stop", Faults.Role.COORDINATOR);
    assertSilentAt(coordinator, FaultPoint.DUMP, 1, 2, 3);
  }

  @Test
  void aKillRankItemKillsTheTreesFirstLeafAndLetsTheStepGoOn() throws Exception {
    // A shell with one child: the child (the leaf) is what :killrank kills; the shell sees it end.
    Process tree = new ProcessBuilder("sh", "-c", "sleep 60 & wait $!; echo \"child ended: $?\"").start();
    try {
      long leaf = 0;
      for (int i = 0; i < 200 && leaf == 0; i++) {
        leaf = tree.toHandle().children().mapToLong(ProcessHandle::pid).findFirst().orElse(0);
        Thread.sleep(10);
      }
      Faults faults = Faults.parse("dump@2:killrank");
      faults.check(FaultPoint.DUMP, 1, tree::pid); // silent at another epoch
      assertTrue(ProcessHandle.of(leaf).map(ProcessHandle::isAlive).orElse(false));
      faults.check(FaultPoint.DUMP, 2, tree::pid); // no exception: the step goes on
      assertTrue(tree.waitFor(10, java.util.concurrent.TimeUnit.SECONDS), "the shell did not see its child end");
      assertEquals("child ended: 137", new String(tree.getInputStream().readAllBytes()).strip());
      IOException none = assertThrows(IOException.class, () -> faults.check(FaultPoint.DUMP, 2, () -> 0));
      assertEquals("injected fault 'dump' at epoch 2: no rank to kill", none.getMessage());
    } finally {
      tree.destroyForcibly();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"dump@x", "dump@", "dump@-", "dump@x-", "commit@2.5", "dump@:kill", "dump@2:kil",
      "dump@*-"})
  void badEpochsAreRejectedWithTheItem(String spec) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Faults.parse(spec));
    assertEquals("bad epoch in CRMPI_FAULTS item '" + spec + "'", e.getMessage());
  }

  @Test
  void aScopedItemIsArmedOnlyInItsKindOfProcess() {
    String spec = "agent:dump@2,coordinator:persist@3,commit@4";
    Faults agent = Faults.parse(spec, Faults.Role.AGENT);
    Faults coordinator = Faults.parse(spec);
    assertFiresAt(agent, FaultPoint.DUMP, 2);
    assertSilentAt(coordinator, FaultPoint.DUMP, 2);
    assertFiresAt(coordinator, FaultPoint.PERSIST, 3);
    assertSilentAt(agent, FaultPoint.PERSIST, 3);
    assertFiresAt(agent, FaultPoint.COMMIT, 4);
    assertFiresAt(coordinator, FaultPoint.COMMIT, 4);
    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> Faults.parse("node1:dump@2", Faults.Role.AGENT));
    assertTrue(e.getMessage().contains("agent:|coordinator:"), e.getMessage());
  }
}
