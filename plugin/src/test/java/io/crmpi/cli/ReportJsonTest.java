package io.crmpi.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.crmpi.local.JobDirectory;
import io.crmpi.local.JobSpec;
import io.crmpi.local.JobState;
import io.crmpi.local.JobStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** crmpi report --json: the documented schemas, with the history's numbers. */
class ReportJsonTest {
  @TempDir
  Path root;

  private String crmpi(String... args) {
    return CliOutput.of(args);
  }

  private void job() throws Exception {
    JobDirectory dir = JobDirectory.of(root, "ring");
    dir.create();
    dir.writeSpec(new JobSpec(JobSpec.FORMAT_VERSION, "ring", List.of("mpirun", "ring"), "/work", Map.of(), "1m", 3, 5,
        "criu", Instant.parse("2026-11-30T10:00:00Z"), false));
    dir.writeState(new JobState(JobStatus.SUCCEEDED, 4242, 1, 0, "finished after 1 restart(s)", "/x/control.sock",
        Instant.parse("2026-11-30T10:10:00Z")));
    Files.writeString(dir.history(), String.join("\n",
        "{\"time\":\"2026-11-30T10:01:00Z\",\"kind\":\"committed\",\"epoch\":1,\"trigger\":\"periodic\",\"bytes\":4096,"
            + "\"dumpMillis\":1200,\"frozenMillis\":1500,\"totalMillis\":3000,\"nodes\":2}",
        "{\"time\":\"2026-11-30T10:02:00Z\",\"kind\":\"aborted\",\"epoch\":2,\"reason\":\"DUMP_FAILED\",\"detail\":\"x\"}",
        "{\"time\":\"2026-11-30T10:03:00Z\",\"kind\":\"committed\",\"epoch\":3,\"trigger\":\"manual\",\"bytes\":8192,"
            + "\"dumpMillis\":2200,\"frozenMillis\":2500,\"totalMillis\":5000,\"nodes\":2}",
        "{\"time\":\"2026-11-30T10:04:30Z\",\"kind\":\"restart\",\"epoch\":3,\"detail\":\"rank 3 died\"}", ""));
  }

  @Test
  void oneJobsReportCarriesEveryEpochWithTheHistorysNumbers() throws Exception {
    job();
    JsonNode j = StatusReport.JSON.readTree(crmpi("report", "--state-dir", root.toString(), "--json", "ring"));
    assertEquals("crmpi.report.job/1", j.get("schema").asText());
    assertEquals("SUCCEEDED", j.get("state").asText());
    assertEquals(600_000, j.get("wallMillis").asLong());
    JsonNode epochs = j.get("epochs");
    assertEquals(2, epochs.size());
    assertEquals(3, epochs.get(1).get("epoch").asLong());
    assertEquals(8192, epochs.get(1).get("bytes").asLong());
    assertEquals(2200, epochs.get(1).get("dumpMillis").asLong());
    assertEquals(2500, epochs.get(1).get("frozenMillis").asLong());
    assertEquals(5000, epochs.get(1).get("totalMillis").asLong());
    assertEquals("DUMP_FAILED", j.get("notTaken").get(0).get("reason").asText());
    JsonNode s = j.get("summary");
    assertEquals(2, s.get("committed").asInt());
    assertEquals(1, s.get("aborted").asInt());
    assertEquals(1, s.get("restores").asInt());
    assertEquals(4000, s.get("frozenMillis").asLong());
    assertEquals(4.0 / 600, s.get("frozenShare").asDouble(), 1e-9);
    assertEquals(2000, s.get("costMillis").asLong());
    assertEquals(120_000, s.get("intervalMillis").asLong());
    // The restore from epoch 3 (committed 10:03:00) ended 10:04:30: 90 s of work done again.
    assertEquals(90_000, j.get("restores").get(0).get("lostMillis").asLong());
    assertEquals(90_000, s.get("lostMillis").asLong());
    assertTrue(s.get("optimumIntervalMillis").asLong() > 0, s.toString());
    assertFalse(Files.exists(Path.of("ring-report.html")), "--json wrote the HTML report too");
  }

  @Test
  void theListHasOneLinePerJob() throws Exception {
    job();
    JsonNode j = StatusReport.JSON.readTree(crmpi("report", "--state-dir", root.toString(), "--json"));
    assertEquals("crmpi.report.list/1", j.get("schema").asText());
    assertEquals(1, j.get("jobs").size());
    JsonNode line = j.get("jobs").get(0);
    assertEquals("ring", line.get("job").asText());
    assertEquals(2, line.get("epochs").asInt());
    assertEquals(1, line.get("restores").asInt());
  }
}
