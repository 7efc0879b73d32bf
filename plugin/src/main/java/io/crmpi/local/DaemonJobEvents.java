package io.crmpi.local;

import io.crmpi.daemon.DaemonClient;
import io.crmpi.daemon.DaemonRequest;
import io.crmpi.daemon.TreeId;
import io.crmpi.nativeio.Posix;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * Tells this node's crmpid what happened to the job (each history entry:
 * a checkpoint committed, aborted or skipped, a restart), for the node's
 * metrics (docs/monitoring.md). Sent from a thread of its own, never
 * waited for: metrics never slow a checkpoint down, and a crmpid that does
 * not answer costs a line at FINE.
 */
final class DaemonJobEvents implements Consumer<HistoryEntry> {
  private static final Logger LOG = Logger.getLogger(DaemonJobEvents.class.getName());
  private final DaemonClient client;
  private final TreeId tree;
  private final ExecutorService sender = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "crmpi-job-events");
    t.setDaemon(true);
    return t;
  });

  private DaemonJobEvents(DaemonClient client, TreeId tree) {
    this.client = client;
    this.tree = tree;
  }

  /** Events for crmpid when this user's trees run under it (not root's: root runs CRIU itself, without crmpid). */
  static Consumer<HistoryEntry> forThisUser(String job, String slot0) {
    if (Posix.isRoot()) {
      return e -> { };
    }
    return new DaemonJobEvents(DaemonClient.fromEnvironment(System.getenv()), new TreeId(job, slot0));
  }

  @Override
  public void accept(HistoryEntry e) {
    event(tree, e).ifPresent(ev -> sender.execute(() -> {
      try {
        client.call(ev);
      } catch (IOException | RuntimeException ex) {
        LOG.fine(() -> "job " + tree.job() + ": crmpid did not take the event " + ev.kind() + ": " + ex.getMessage());
      }
    }));
  }

  /** The event for a history entry; empty for kinds the metrics do not count. */
  static Optional<DaemonRequest.JobEvent> event(TreeId tree, HistoryEntry e) {
    String trigger = e.trigger() != null && DaemonRequest.JobEvent.TRIGGERS.contains(e.trigger()) ? e.trigger() : "";
    String reason = e.reason() != null && e.reason().matches("[A-Z_]{1,32}") ? e.reason() : "";
    return Optional.ofNullable(switch (e.kind()) {
      case "committed" -> new DaemonRequest.JobEvent(tree, "committed", "", trigger,
          Math.min(Math.max(0, e.totalMillis()), DaemonRequest.Dump.MAX_TIMEOUT_MILLIS));
      case "aborted" -> new DaemonRequest.JobEvent(tree, "aborted", reason, "", 0);
      case "skipped" -> new DaemonRequest.JobEvent(tree, "skipped", "", "", 0);
      case "restart" -> new DaemonRequest.JobEvent(tree, e.epoch() > 0 ? "restored" : "started-over", "", trigger, 0);
      case "restore-failed" -> new DaemonRequest.JobEvent(tree, "restore-failed", "", "", 0);
      default -> null;
    });
  }
}
