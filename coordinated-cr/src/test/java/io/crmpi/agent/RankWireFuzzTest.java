package io.crmpi.agent;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crmpi.wire.Fuzz;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Whatever a rank writes, RankWire gives a valid message or a BadMessage, nothing else. */
class RankWireFuzzTest {
  @Test
  void anyLineFromARankParsesOrIsABadMessage() {
    List<byte[]> corpus = java.util.stream.Stream.of("HELLO 1 4242 1 4 NEW", "HELLO 1 4242 3 4 RESUME 9",
        "HELLO 2 1 1 1 NEW", "BYE", "STATE 7 w=5 w.1.12=2", "STATE 7", "SENT 7 2 w:1=10 w.1:0=3", "RAISE 3 w=6",
        "READY 3", "DECLINED 3 a checkpoint callback declined")
        .map(s -> s.getBytes(StandardCharsets.UTF_8)).toList();
    String[] tokens = {" ", "  ", "=", ":", ".", "w", "w.", "-", "+", "0", "00", "9223372036854775808", "\u0000",
        "\u00e9", "\n", "\t", "HELLO", "RESUME", "NEW", "STATE", "SENT"};
    long[] stats = Fuzz.run("RankWire", corpus, tokens, b -> RankWire.parse(new String(b, StandardCharsets.UTF_8)));
    assertTrue(stats[1] > 0 && stats[2] > 0, "the fuzzer reached only one side: " + java.util.Arrays.toString(stats));
  }
}
