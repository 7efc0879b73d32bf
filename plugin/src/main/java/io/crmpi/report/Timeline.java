package io.crmpi.report;

import io.crmpi.local.HistoryEntry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/**
 * The job's timeline as inline SVG: the run as a bar from start to end,
 * every committed epoch as a mark as wide as its frozen time (at least a
 * pixel), aborted epochs, restores and bad restores as symbols above it;
 * and below, each committed epoch's frozen, dump and total times as bars.
 */
final class Timeline {
  private static final int WIDTH = 960;
  private static final int LEFT = 60;
  private static final int RIGHT = 20;

  private Timeline() {}

  static String svg(JobRun run) {
    List<HistoryEntry> commits = run.of("committed");
    StringBuilder b = new StringBuilder();
    int height = 250;
    b.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\""
        + " viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"timeline of job %s\">%n", WIDTH, height, WIDTH, height,
        Html.esc(run.job())));
    b.append("<style>text{font:11px sans-serif;fill:#333}</style>\n");
    b.append(rect(LEFT, 40, WIDTH - LEFT - RIGHT, 18, "#dde7f0", "the run"));
    b.append(text(LEFT, 34, "start " + run.start()));
    b.append(text(WIDTH - RIGHT - 190, 34, "end " + run.end()));
    for (HistoryEntry e : commits) {
      double x = x(run, e.time());
      double w = Math.max(1, (WIDTH - LEFT - RIGHT) * (double) e.frozenMillis() / Math.max(1, run.wall().toMillis()));
      b.append(rect(x - w, 40, w, 18, "#2f6fb0", "epoch " + e.epoch() + " committed, frozen "
          + e.frozenMillis() + " ms"));
    }
    symbols(b, run, "aborted", "#c0392b", "x");
    symbols(b, run, "restart", "#e67e22", "v");
    symbols(b, run, "restore-failed", "#8e44ad", "!");
    b.append(text(LEFT, 80, "blue: committed epochs (width: frozen time)   x: aborted   v: restored   !: bad restore"));
    // Per-epoch costs.
    long max = commits.stream().mapToLong(HistoryEntry::totalMillis).max().orElse(1);
    int base = 230;
    int chart = 120;
    b.append(text(LEFT - 55, base - chart - 6, seconds(max) + " s"));
    b.append(text(LEFT - 55, base, "0 s"));
    double slot = commits.isEmpty() ? 0 : (double) (WIDTH - LEFT - RIGHT) / commits.size();
    for (int i = 0; i < commits.size(); i++) {
      HistoryEntry e = commits.get(i);
      double x = LEFT + i * slot;
      double bw = Math.max(1, slot / 3 - 1);
      bar(b, x, base, bw, chart * (double) e.totalMillis() / Math.max(1, max), "#9bbbd9",
          "epoch " + e.epoch() + ": total " + e.totalMillis() + " ms");
      bar(b, x + bw, base, bw, chart * (double) e.frozenMillis() / Math.max(1, max), "#2f6fb0",
          "epoch " + e.epoch() + ": frozen " + e.frozenMillis() + " ms");
      bar(b, x + 2 * bw, base, bw, chart * (double) e.dumpMillis() / Math.max(1, max), "#16a085",
          "epoch " + e.epoch() + ": dump " + e.dumpMillis() + " ms");
    }
    b.append(text(LEFT, base + 15, "per epoch: total (light), frozen (blue), dump (green)"));
    b.append("</svg>\n");
    return b.toString();
  }

  private static void symbols(StringBuilder b, JobRun run, String kind, String color, String mark) {
    for (HistoryEntry e : run.of(kind)) {
      double x = x(run, e.time());
      b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"66\" style=\"fill:%s;font-weight:bold\">%s"
          + "<title>%s</title></text>%n", x - 3, color, mark,
          Html.esc(kind + " epoch " + e.epoch() + " at " + e.time() + (e.detail() == null ? "" : ": " + e.detail()))));
    }
  }

  private static double x(JobRun run, Instant t) {
    long total = Math.max(1, run.wall().toMillis());
    long at = Math.max(0, Math.min(total, Duration.between(run.start(), t).toMillis()));
    return LEFT + (WIDTH - LEFT - RIGHT) * (double) at / total;
  }

  private static String rect(double x, double y, double w, double h, String fill, String title) {
    return String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
        + "<title>%s</title></rect>%n", x, y, w, h, fill, Html.esc(title));
  }

  private static void bar(StringBuilder b, double x, double base, double w, double h, String fill, String title) {
    b.append(rect(x, base - h, w, h, fill, title));
  }

  private static String text(double x, double y, String s) {
    return String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\">%s</text>%n", x, y, Html.esc(s));
  }

  private static String seconds(long millis) {
    return String.format(Locale.ROOT, "%.2f", millis / 1000.0);
  }
}
