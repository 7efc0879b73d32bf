package io.crmpi.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.crmpi.wire.BadMessage;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** libcrmpi's lines parse into exactly what they say, and nothing else parses. */
class RankWireTest {
  @Test
  void everyMessageOfLibcrmpiParses() {
    assertEquals(new RankMessage.Hello(2, 4242, 1, 4, 0), RankWire.parse("HELLO 2 4242 1 4 NEW"));
    assertEquals(new RankMessage.Hello(1, 4242, 3, 4, 9), RankWire.parse("HELLO 1 4242 3 4 RESUME 9"));
    assertEquals(new RankMessage.ForeignHello(3, "3"), RankWire.parse("HELLO 3 4242 3 4 SOMETHING NEW"));
    assertEquals(new RankMessage.ForeignHello(0, "3"), RankWire.parse("HELLO 0 4242 3 4 NEW"));
    assertEquals(new RankMessage.Bye(), RankWire.parse("BYE"));
    assertEquals(new RankMessage.State(7, Map.of("w", 5L, "w.1.12", 2L)), RankWire.parse("STATE 7 w=5 w.1.12=2"));
    assertEquals(new RankMessage.State(7, Map.of()), RankWire.parse("STATE 7"));
    // A deeply nested communicator's id as libcrmpi cuts it (pmpi.c): a lone '.' may remain.
    assertEquals(new RankMessage.State(7, Map.of("w.1.1..5", 1L)), RankWire.parse("STATE 7 w.1.1..5=1"));
    assertEquals(new RankMessage.Sent(7, 2, List.of(new RankMessage.Count("w", 1, 10),
        new RankMessage.Count("w.1", 0, 3))), RankWire.parse("SENT 7 2 w:1=10 w.1:0=3"));
    assertEquals(new RankMessage.Raise(3, "w", 6), RankWire.parse("RAISE 3 w=6"));
    assertEquals(new RankMessage.Ready(3), RankWire.parse("READY 3"));
    assertEquals(new RankMessage.Declined(3, "a checkpoint callback declined"),
        RankWire.parse("DECLINED 3 a checkpoint callback declined"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "HELLO", "HELLO 1 4242 1 4", "HELLO 1 4242 4 4 NEW", "HELLO 1 0 0 1 NEW",
      "HELLO 1 4242 0 1 RESUME", "HELLO 1 4242 0 1 NEW 3", "HELLO 1 -5 0 1 NEW", "HELLO x 1 0 1 NEW",
      "BYE now", "STATE 7 w", "STATE 7 w=", "STATE 7 =5", "STATE 7 x=5", "STATE 7 w=5 w=6", "STATE 0 w=1",
      "STATE 7  w=1", "STATE 7 w=-1", "STATE 7 w=99999999999999999999", "STATE 7 w.x=2", "STATE 7 w=1\u0000",
      "SENT 7 0 w:1=1", "SENT 7 1 w=1", "SENT 7 1 w:x=1", "SENT 7", "RAISE 3 w", "RAISE 3 w=6 w=7",
      "READY", "READY 3 4", "DECLINED", "GO 3", "hello 1 1 0 1 NEW"})
  void anythingElseIsABadMessage(String line) {
    assertThrows(BadMessage.class, () -> RankWire.parse(line), line);
  }

  @Test
  void whatTheAgentSendsIsOneLineInLibcrmpisForm() {
    assertEquals("PREPARE 4 /run/ranks/state", new ToRank.Prepare(4, "/run/ranks/state").line());
    assertEquals("PREPARE 4 -", new ToRank.Prepare(4, null).line());
    assertEquals("TARGET 4 w=6 w.1=2", new ToRank.Target(4, Map.of("w.1", 2L, "w", 6L)).line());
    assertEquals("EXPECT 4 w:1=10", new ToRank.Expect(4, List.of(new RankMessage.Count("w", 1, 10))).line());
    assertEquals("RESTART 4", new ToRank.Outcome(RankChannel.Outcome.RESTART, 4).line());
    assertThrows(IllegalArgumentException.class, () -> new ToRank.Prepare(4, "/a\nGO 4"));
    assertThrows(BadMessage.class, () -> new ToRank.Target(4, Map.of("w=1 w", 2L)));
  }

  @Test
  void theWarmUpsLinesAreValidMessagesOfEveryKind() {
    RankWire.warmUp(); // a sample line the parser refused would throw BadMessage here
  }
}
