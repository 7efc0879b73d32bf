package io.crmpi.report;

import io.crmpi.local.HistoryEntry;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;

/**
 * {@code crmpi report}'s page: one self-contained HTML file (inline CSS and
 * SVG, nothing fetched) with the summary, the timeline and the table of
 * every event.
 */
public final class HtmlReport {
  private HtmlReport() {}

  public static String render(JobRun run, Overhead o) {
    StringBuilder b = new StringBuilder();
    b.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>crmpi report: ")
        .append(Html.esc(run.job())).append("</title>\n<style>body{font:14px sans-serif;margin:2em;color:#222}"
        + "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}"
        + "td.l,th.l{text-align:left}h1{font-size:20px}</style></head><body>\n");
    b.append("<h1>crmpi report: job ").append(Html.esc(run.job())).append("</h1>\n");
    b.append("<p>").append(Html.esc(run.state())).append(", checkpoint policy ").append(Html.esc(run.policy()))
        .append(", from ").append(Html.esc(run.start())).append(" to ").append(Html.esc(run.end())).append(" (")
        .append(Html.esc(human(o.wall()))).append(").</p>\n");
    summary(b, o);
    b.append("<h2>Timeline</h2>\n").append(Timeline.svg(run));
    table(b, run);
    b.append("</body></html>\n");
    return b.toString();
  }

  private static void summary(StringBuilder b, Overhead o) {
    b.append("<h2>Summary</h2>\n<table class=\"summary\">\n");
    row(b, "checkpoints committed / aborted", o.committed() + " / " + o.aborted());
    row(b, "ranks frozen for checkpoints", human(o.frozen()) + " (" + pct(o.share(o.frozen())) + " of the run)");
    row(b, "checkpoints running (frozen, then persisting)",
        human(o.checkpointing()) + " (" + pct(o.share(o.checkpointing())) + " of the run)");
    Duration lost = o.failures().stream().map(Overhead.Failure::lost).reduce(Duration.ZERO, Duration::plus);
    row(b, "failures (restores)", o.failures().size() + ", " + human(lost) + " of work lost and restored ("
        + pct(o.share(lost)) + ")");
    for (Overhead.Failure f : o.failures()) {
      row(b, "&nbsp;&nbsp;restore at " + Html.esc(f.at()), "from epoch " + f.epoch() + ": " + human(f.lost())
          + " lost (recomputed since that epoch, plus the restore)");
    }
    row(b, "checkpoint cost &delta; (mean frozen time)", o.cost().map(HtmlReport::human).orElse("-"));
    row(b, "interval used (mean between commits)", o.interval().map(HtmlReport::human).orElse("-"));
    row(b, "MTBF assumed", human(o.mtbf()));
    row(b, "Young/Daly optimum interval", o.optimum().map(HtmlReport::human).orElse("-"));
    row(b, "overhead the model predicts at the interval used", o.predictedAtInterval().map(HtmlReport::pct)
        .orElse("-"));
    row(b, "overhead the model predicts at the optimum", o.predictedAtOptimum().map(HtmlReport::pct).orElse("-"));
    b.append("</table>\n");
  }

  private static void table(StringBuilder b, JobRun run) {
    b.append("<h2>Events</h2>\n<table class=\"events\"><tr><th>epoch</th><th class=\"l\">event</th>"
        + "<th class=\"l\">time</th><th>size</th><th>dump, s</th><th>frozen, s</th><th>total, s</th><th>nodes</th>"
        + "<th class=\"l\">note</th></tr>\n");
    for (HistoryEntry e : run.history()) {
      boolean commit = "committed".equals(e.kind());
      b.append("<tr><td>").append(e.epoch()).append("</td><td class=\"l\">").append(Html.esc(e.kind()))
          .append("</td><td class=\"l\">").append(Html.esc(e.time())).append("</td><td>")
          .append(commit ? Html.esc(io.crmpi.local.Units.bytes(e.bytes())) : "-").append("</td><td>")
          .append(commit ? secs(e.dumpMillis()) : "-").append("</td><td>")
          .append(commit ? secs(e.frozenMillis()) : "-").append("</td><td>")
          .append(commit ? secs(e.totalMillis()) : "-").append("</td><td>")
          .append(commit ? e.nodes() : "-").append("</td><td class=\"l\">")
          .append(Html.esc(Optional.ofNullable(commit ? e.trigger() : join(e.reason(), e.detail())).orElse("")))
          .append("</td></tr>\n");
    }
    b.append("</table>\n");
  }

  private static String join(String a, String b) {
    return a == null ? b : b == null ? a : a + ": " + b;
  }

  private static void row(StringBuilder b, String label, String value) {
    b.append("<tr><th class=\"l\">").append(label).append("</th><td class=\"l\">").append(Html.esc(value))
        .append("</td></tr>\n");
  }

  /** A fraction as a percentage with one decimal ("4.8 %"). */
  public static String pct(double f) {
    return String.format(Locale.ROOT, "%.1f %%", 100 * f);
  }

  private static String secs(long millis) {
    return String.format(Locale.ROOT, "%.2f", millis / 1000.0);
  }

  static String human(Duration d) {
    long ms = d.toMillis();
    if (ms < 60_000) {
      return String.format(Locale.ROOT, "%.2f s", ms / 1000.0);
    }
    long s = d.toSeconds();
    return s < 3600 ? String.format(Locale.ROOT, "%d min %02d s", s / 60, s % 60)
        : String.format(Locale.ROOT, "%d h %02d min", s / 3600, s % 3600 / 60);
  }
}
