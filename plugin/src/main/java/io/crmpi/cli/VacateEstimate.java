package io.crmpi.cli;

import io.crmpi.local.HistoryEntry;
import java.util.List;
import java.util.Optional;

/**
 * How long a vacate of the job takes, from its history: its last
 * checkpoint's time plus, with a node-local level, its last flush to the
 * state directory (a vacate waits for both). Empty before the first
 * checkpoint.
 */
final class VacateEstimate {
  private VacateEstimate() {}

  static Optional<Double> seconds(List<HistoryEntry> history) {
    Long checkpoint = null;
    Long flush = null;
    for (HistoryEntry e : history) {
      if (e.kind().equals("committed")) {
        checkpoint = e.totalMillis();
      } else if (e.kind().equals("flushed")) {
        flush = e.totalMillis();
      }
    }
    if (checkpoint == null) {
      return Optional.empty();
    }
    return Optional.of((checkpoint + (flush == null ? 0 : flush)) / 1000.0);
  }
}
