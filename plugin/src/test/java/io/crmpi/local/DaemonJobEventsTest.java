package io.crmpi.local;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.crmpi.daemon.DaemonRequest;
import io.crmpi.daemon.TreeId;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Which history entries reach crmpid's metrics, and as what. */
class DaemonJobEventsTest {
  private static final TreeId TREE = new TreeId("ring", "local");
  private static final Instant T = Instant.parse("2026-11-30T10:00:00Z");

  private static HistoryEntry entry(String kind, long epoch, String trigger, String reason, long totalMillis) {
    return new HistoryEntry(T, kind, epoch, trigger, reason, null, 0, 0, 0, totalMillis, 1);
  }

  @Test
  void aCommitCarriesItsTriggerAndDuration() {
    assertEquals(Optional.of(new DaemonRequest.JobEvent(TREE, "committed", "", "vacate", 812)),
        DaemonJobEvents.event(TREE, entry("committed", 3, "vacate", null, 812)));
  }

  @Test
  void anAbortCarriesItsReasonAndAnUnknownTriggerOrReasonBecomesEmpty() {
    assertEquals(Optional.of(new DaemonRequest.JobEvent(TREE, "aborted", "DUMP_FAILED", "", 0)),
        DaemonJobEvents.event(TREE, entry("aborted", 3, null, "DUMP_FAILED", 0)));
    assertEquals(Optional.of(new DaemonRequest.JobEvent(TREE, "committed", "", "", 5)),
        DaemonJobEvents.event(TREE, entry("committed", 3, "something new", null, 5)));
    assertEquals(Optional.of(new DaemonRequest.JobEvent(TREE, "aborted", "", "", 0)),
        DaemonJobEvents.event(TREE, entry("aborted", 3, null, "lower case", 0)));
  }

  @Test
  void aRestartIsARestoreOrAStartOver() {
    assertEquals("restored", DaemonJobEvents.event(TREE, entry("restart", 4, null, null, 0)).orElseThrow().kind());
    assertEquals("started-over",
        DaemonJobEvents.event(TREE, entry("restart", 0, null, null, 0)).orElseThrow().kind());
    assertEquals("restore-failed",
        DaemonJobEvents.event(TREE, entry("restore-failed", 4, null, null, 0)).orElseThrow().kind());
    // A restart after Slurm's requeue keeps its trigger, which crmpid counts as a requeue.
    assertEquals("requeue", DaemonJobEvents.event(TREE, entry("restart", 4, JobHistory.REQUEUE, null, 0))
        .orElseThrow().trigger());
    assertEquals("", DaemonJobEvents.event(TREE, entry("restart", 4, null, null, 0)).orElseThrow().trigger());
  }

  @Test
  void kindsTheMetricsDoNotCountSendNothing() {
    assertEquals(Optional.empty(), DaemonJobEvents.event(TREE, entry("images-removed", 0, null, null, 0)));
  }
}
