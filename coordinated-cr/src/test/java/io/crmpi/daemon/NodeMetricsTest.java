package io.crmpi.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** crmpid's metrics reach the textfile collector whole, in the Prometheus text format. */
class NodeMetricsTest {
  @TempDir
  Path dir;

  @Test
  void theFileHoldsEveryMetricAndIsReplacedAtomically() throws Exception {
    NodeMetrics m = new NodeMetrics();
    m.dumps.labelValues("ok").inc();
    m.dumps.labelValues("ok").inc();
    m.dumps.labelValues("failed").inc();
    m.dumpSeconds.observe(0.7);
    m.sealedBytes.inc(4096);
    m.restores.labelValues("refused").inc();
    m.frozenSeconds.observe(0.2);
    m.trees.set(3);
    m.writeTo(dir);
    String text = Files.readString(dir.resolve(NodeMetrics.FILE));
    assertTrue(text.contains("crmpi_dumps_total{result=\"ok\"} 2.0"), text);
    assertTrue(text.contains("crmpi_dumps_total{result=\"failed\"} 1.0"), text);
    assertTrue(text.contains("crmpi_dump_seconds_bucket{le=\"1.0\"} 1"), text);
    assertTrue(text.contains("crmpi_dump_seconds_bucket{le=\"0.5\"} 0"), text);
    assertTrue(text.contains("crmpi_sealed_bytes_total 4096.0"), text);
    assertTrue(text.contains("crmpi_restores_total{result=\"refused\"} 1.0"), text);
    assertTrue(text.contains("crmpi_frozen_seconds_count 1"), text);
    assertTrue(text.contains("crmpi_trees 3.0"), text);
    assertTrue(text.contains("# HELP crmpi_requests_refused_total"), text);
    assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(NodeMetrics.FILE))));
    m.trees.set(1);
    m.writeTo(dir);
    assertTrue(Files.readString(dir.resolve(NodeMetrics.FILE)).contains("crmpi_trees 1.0"));
    try (var s = Files.list(dir)) {
      assertEquals(List.of(NodeMetrics.FILE), s.map(p -> p.getFileName().toString()).toList(),
          "a temporary file was left for node_exporter to read");
    }
    assertFalse(text.contains("user") || text.contains("job="), "a label names a user or a job");
  }

  @Test
  void jobEventsCountCheckpointsByResultAndReasonAndRestartsByHow() throws Exception {
    NodeMetrics m = new NodeMetrics();
    TreeId tree = new TreeId("ring", "local");
    m.record(new DaemonRequest.JobEvent(tree, "committed", "", "periodic", 800));
    m.record(new DaemonRequest.JobEvent(tree, "committed", "", "vacate", 2400));
    m.record(new DaemonRequest.JobEvent(tree, "aborted", "DUMP_FAILED", "", 0));
    m.record(new DaemonRequest.JobEvent(tree, "restored", "", "", 0));
    m.record(new DaemonRequest.JobEvent(tree, "restored", "", "requeue", 0));
    m.writeTo(dir);
    String text = Files.readString(dir.resolve(NodeMetrics.FILE));
    assertTrue(text.contains("crmpi_checkpoints_total{reason=\"\",result=\"committed\"} 2.0"), text);
    assertTrue(text.contains("crmpi_checkpoints_total{reason=\"DUMP_FAILED\",result=\"aborted\"} 1.0"), text);
    assertTrue(text.contains("crmpi_checkpoints_total{reason=\"\",result=\"skipped\"} 0.0"), text);
    assertTrue(text.contains("crmpi_checkpoint_seconds_bucket{le=\"1.0\"} 1"), text);
    assertTrue(text.contains("crmpi_checkpoint_seconds_count 2"), text);
    assertTrue(text.contains("crmpi_vacates_total 1.0"), text);
    assertTrue(text.contains("crmpi_job_restarts_total{how=\"restored\"} 2.0"), text);
    assertTrue(text.contains("crmpi_job_requeues_total 1.0"), text);
    assertTrue(text.contains("crmpi_job_restarts_total{how=\"started-over\"} 0.0"), text);
    assertFalse(text.contains("ring"), "a label names the job");
  }

  @Test
  void aJobEventOfNoKnownKindIsRefusedByItsRecord() {
    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> new DaemonRequest.JobEvent(new TreeId("ring", "local"), "anything", "", "", 0));
    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> new DaemonRequest.JobEvent(new TreeId("ring", "local"), "aborted", "x\"}", "", 0));
  }
}
