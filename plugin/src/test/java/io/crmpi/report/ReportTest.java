package io.crmpi.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crmpi.local.HistoryEntry;
import io.crmpi.policy.YoungDaly;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The report's numbers come from the history, and its page is one self-contained, escaped file. */
class ReportTest {
  private static final Instant T0 = Instant.parse("2026-11-30T10:00:00Z");
  private static final Duration MTBF = Duration.ofHours(24);

  private static HistoryEntry commit(long epoch, int atSeconds) {
    return new HistoryEntry(T0.plusSeconds(atSeconds), "committed", epoch, "periodic", null, null, 4 << 20, 400, 500,
        1000, 2);
  }

  private static JobRun run() {
    return new JobRun("ring", "SUCCEEDED", "10s", T0, T0.plusSeconds(100), List.of(commit(1, 10), commit(2, 20),
        new HistoryEntry(T0.plusSeconds(25), "aborted", 3, "periodic", "DUMP_FAILED", "<script>alert(1)</script>",
            0, 0, 0, 0, 0),
        commit(4, 30),
        new HistoryEntry(T0.plusSeconds(35), "restart", 4, null, null, "rank 3 died", 0, 0, 0, 0, 0)));
  }

  @Test
  void theSummaryIsComputedFromTheHistory() {
    Overhead o = Overhead.of(run(), MTBF);
    assertEquals(Duration.ofSeconds(100), o.wall());
    assertEquals(Duration.ofMillis(1500), o.frozen());
    assertEquals(0.015, o.share(o.frozen()), 1e-9);
    assertEquals(Duration.ofSeconds(3), o.checkpointing());
    assertEquals(3, o.committed());
    assertEquals(1, o.aborted());
    assertEquals(1, o.failures().size());
    assertEquals(Duration.ofSeconds(5), o.failures().get(0).lost(), "from epoch 4's commit to the restore");
    assertEquals(Duration.ofMillis(500), o.cost().orElseThrow());
    assertEquals(Duration.ofSeconds(10), o.interval().orElseThrow());
    assertEquals(YoungDaly.interval(Duration.ofMillis(500), MTBF), o.optimum().orElseThrow());
    double expected = 0.5 / (10 + 0.5) + (10 + 0.5) / (2 * 86400.0);
    assertEquals(expected, o.predictedAtInterval().orElseThrow(), 1e-9);
    assertTrue(o.predictedAtOptimum().orElseThrow() < expected, "the optimum must waste less than 10 s here");
  }

  @Test
  void twoRestoresFromOneEpochCountTheWorkBetweenThemOnce() {
    JobRun run = new JobRun("ring", "SUCCEEDED", "10s", T0, T0.plusSeconds(100), List.of(commit(1, 10),
        new HistoryEntry(T0.plusSeconds(30), "restart", 1, null, null, "a rank died", 0, 0, 0, 0, 0),
        new HistoryEntry(T0.plusSeconds(40), "restart", 1, null, null, "again", 0, 0, 0, 0, 0)));
    Overhead o = Overhead.of(run, MTBF);
    assertEquals(Duration.ofSeconds(20), o.failures().get(0).lost());
    assertEquals(Duration.ofSeconds(10), o.failures().get(1).lost(), "the second restore lost only 30 s to 40 s");
  }

  @Test
  void aJobWithoutCheckpointsHasNoModelFigures() {
    Overhead o = Overhead.of(new JobRun("x", "RUNNING", "none", T0, T0.plusSeconds(5), List.of()), MTBF);
    assertTrue(o.cost().isEmpty() && o.optimum().isEmpty() && o.predictedAtInterval().isEmpty());
    assertEquals(0, o.share(o.frozen()));
  }

  @Test
  void thePageIsSelfContainedWithTimelineTableAndEscapedText() {
    JobRun run = run();
    Overhead o = Overhead.of(run, MTBF);
    String html = HtmlReport.render(run, o);
    assertTrue(html.startsWith("<!DOCTYPE html>") && html.contains("<svg") && html.contains("</svg>"), html);
    assertFalse(html.contains("<script>"), "a note reached the page unescaped");
    assertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "the abort's detail is missing");
    assertFalse(html.matches("(?s).*(src|href)=\"(https?:)?//.*"), "the page fetches something");
    assertEquals(5, html.split("<tr><td>").length - 1, "one table row per history entry");
    assertTrue(html.contains(HtmlReport.pct(o.predictedAtInterval().orElseThrow())), "the model's overhead");
    assertTrue(html.contains("1.5 %"), "the frozen share");
    assertEquals(3 + 3 * 3, count(html, "<rect ") - 1, "the run, 3 epoch marks and 3 bars per epoch");
  }

  private static int count(String s, String part) {
    int n = 0;
    for (int i = s.indexOf(part); i >= 0; i = s.indexOf(part, i + 1)) {
      n++;
    }
    return n;
  }
}
