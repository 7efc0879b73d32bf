package io.crmpi.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The meter speaks only for long operations, and then not too often; the test drives its clock. */
class ProgressMeterTest {
  private long now;
  private final ByteArrayOutputStream buf = new ByteArrayOutputStream();

  private ProgressMeter meter(boolean terminal) {
    return new ProgressMeter("epoch 7: verifying", 100L << 20, new PrintStream(buf, true, StandardCharsets.UTF_8),
        terminal, () -> now);
  }

  private String out() {
    return buf.toString(StandardCharsets.UTF_8);
  }

  @Test
  void aQuickOperationPrintsNothing() {
    try (ProgressMeter m = meter(true)) {
      now = 1_900_000_000L;
      m.accept(100L << 20);
    }
    assertEquals("", out());
  }

  @Test
  void inBatchOutputALineEveryTenSecondsAtMostWithRateAndTimeLeft() {
    try (ProgressMeter m = meter(false)) {
      now = 2_000_000_000L;
      m.accept(10L << 20); // 10 MiB in 2 s: 5 MiB/s, 90 MiB left
      now = 5_000_000_000L;
      m.accept(10L << 20); // within 10 s of the last line: silent
      now = 12_000_000_000L;
      m.accept(40L << 20);
    }
    String[] lines = out().split("\n");
    assertEquals(2, lines.length, out());
    assertEquals("crmpi: epoch 7: verifying: 10.0 MiB of 100.0 MiB (10 %), 5.0 MiB/s, 18 s left", lines[0]);
    assertTrue(lines[1].contains("60.0 MiB of 100.0 MiB (60 %)"), lines[1]);
  }

  @Test
  void onATerminalTheLineIsRewrittenAndEndedOnClose() {
    try (ProgressMeter m = meter(true)) {
      now = 3_000_000_000L;
      m.accept(30L << 20);
      now = 3_100_000_000L;
      m.accept(1); // within half a second: not shown
      now = 4_000_000_000L;
      m.accept(10L << 20);
    }
    String s = out();
    assertEquals(3, s.split("\r", -1).length - 1, "two updates and the final state: " + s);
    assertTrue(s.endsWith("\n") && s.contains("\u001b[K"), s);
  }

  @Test
  void aStepReportingAbsoluteProgressShowsAnEstimatedTotalOnlyWhileItHolds() {
    try (ProgressMeter m = new ProgressMeter("job ring epoch 3: node n1 dumping", 0,
        new PrintStream(buf, true, StandardCharsets.UTF_8), false, () -> now)) {
      now = 2_500_000_000L;
      m.at(50L << 20, 200L << 20); // 50 MiB in 2.5 s: 20 MiB/s, 150 MiB left
      now = 13_000_000_000L;
      m.at(260L << 20, 200L << 20); // past the estimate: no total, no time left
      now = 24_000_000_000L;
      m.at(300L << 20, 0); // no estimate at all
    }
    String[] lines = out().split("\n");
    assertEquals(3, lines.length, out());
    assertEquals("crmpi: job ring epoch 3: node n1 dumping: 50.0 MiB of 200.0 MiB (25 %), 20.0 MiB/s, 8 s left",
        lines[0]);
    assertEquals("crmpi: job ring epoch 3: node n1 dumping: 260.0 MiB, 20.0 MiB/s", lines[1]);
    assertTrue(lines[2].matches("crmpi: job ring epoch 3: node n1 dumping: 300\\.0 MiB, 12\\.5 MiB/s"), lines[2]);
  }
}
