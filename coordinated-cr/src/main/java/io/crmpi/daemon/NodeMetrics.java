package io.crmpi.daemon;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * What crmpid did on this node, for the cluster's monitoring, through the
 * Prometheus Java client: dumps, restores and the time ranks stood frozen,
 * the bytes sealed, the trees it runs and the requests it refused. Written
 * atomically as {@value #FILE} into node_exporter's textfile-collector
 * directory (metrics_dir in crmpi.conf). No label names a user or a job:
 * the series stay few however many jobs a node runs.
 */
final class NodeMetrics {
  static final String FILE = "crmpi.prom";
  private static final double[] SECONDS = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800};

  private final PrometheusRegistry registry = new PrometheusRegistry();
  final Counter dumps = Counter.builder().name("crmpi_dumps_total").help("CRIU dumps of node trees, by result")
      .labelNames("result").register(registry);
  final Histogram dumpSeconds = Histogram.builder().name("crmpi_dump_seconds")
      .help("How long a dump took (the ranks are frozen meanwhile)").classicOnly().classicUpperBounds(SECONDS)
      .register(registry);
  final Counter sealedBytes = Counter.builder().name("crmpi_sealed_bytes_total")
      .help("Bytes of images dumped, digested and sealed").register(registry);
  final Counter restores = Counter.builder().name("crmpi_restores_total")
      .help("Restores of node trees, by result (ok, failed, refused: a seal or credentials that do not check)")
      .labelNames("result").register(registry);
  final Histogram restoreSeconds = Histogram.builder().name("crmpi_restore_seconds")
      .help("How long a restore took, staging and checks included").classicOnly().classicUpperBounds(SECONDS)
      .register(registry);
  final Histogram frozenSeconds = Histogram.builder().name("crmpi_frozen_seconds")
      .help("How long a tree stood frozen, from freeze to thaw").classicOnly().classicUpperBounds(SECONDS)
      .register(registry);
  final Gauge trees = Gauge.builder().name("crmpi_trees").help("Node trees crmpid runs now").register(registry);
  final Counter refused = Counter.builder().name("crmpi_requests_refused_total")
      .help("Requests crmpid refused (malformed, not the caller's, not allowed)").register(registry);

  final Counter checkpoints = Counter.builder().name("crmpi_checkpoints_total")
      .help("Global checkpoints of the jobs coordinated on this node, by result (committed, aborted, skipped) and"
          + " an abort's reason").labelNames("result", "reason").register(registry);
  final Histogram checkpointSeconds = Histogram.builder().name("crmpi_checkpoint_seconds")
      .help("How long a committed global checkpoint took, quiesce to commit").classicOnly()
      .classicUpperBounds(SECONDS).register(registry);
  final Counter vacates = Counter.builder().name("crmpi_vacates_total")
      .help("Jobs checkpointed and vacated (preemption, walltime, crmpi vacate)").register(registry);
  final Counter restarts = Counter.builder().name("crmpi_job_restarts_total")
      .help("Jobs restarted after a failure or a requeue, by how (restored from an epoch, started over, a restore"
          + " that failed its probation)").labelNames("how").register(registry);
  final Counter requeues = Counter.builder().name("crmpi_job_requeues_total")
      .help("Jobs that ran again after Slurm requeued them (preemption, walltime, a lost node), restored or"
          + " started over").register(registry);

  NodeMetrics() {
    for (String result : new String[] {"committed", "skipped"}) {
      checkpoints.initLabelValues(result, "");
    }
    for (String how : new String[] {"restored", "started-over", "restore-failed"}) {
      restarts.initLabelValues(how);
    }
    // Every series from the start, at 0: a rate() over the first event needs the zero before it.
    dumps.initLabelValues("ok");
    dumps.initLabelValues("failed");
    for (String result : new String[] {"ok", "failed", "refused"}) {
      restores.initLabelValues(result);
    }
  }

  /** The registry every metric is in, for an exporter. */
  PrometheusRegistry registry() {
    return registry;
  }

  /** Counts what a job's coordinator reported. */
  void record(DaemonRequest.JobEvent e) {
    switch (e.kind()) {
      case "committed" -> {
        checkpoints.labelValues("committed", "").inc();
        checkpointSeconds.observe(e.millis() / 1000.0);
        if (e.trigger().equals("vacate")) {
          vacates.inc();
        }
      }
      case "aborted" -> checkpoints.labelValues("aborted", e.reason()).inc();
      case "skipped" -> checkpoints.labelValues("skipped", "").inc();
      default -> {
        restarts.labelValues(e.kind()).inc();
        if (e.trigger().equals("requeue")) {
          requeues.inc();
        }
      }
    }
  }

  /** Writes every metric to dir/crmpi.prom atomically (a temporary file, then a rename), world-readable. */
  void writeTo(Path dir) throws IOException {
    Path tmp = dir.resolve("." + FILE + ".tmp");
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      OutputStream out = java.nio.channels.Channels.newOutputStream(ch);
      new PrometheusTextFormatWriter(false).write(out, registry.scrape());
      out.flush();
    }
    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
    Files.move(tmp, dir.resolve(FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  /** Seconds since a System.nanoTime() reading. */
  static double since(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e9;
  }
}
