package io.crmpi.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
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

/** crmpi status --json: the documented schema, from the same data as the table. */
class StatusJsonTest {
  @TempDir
  Path root;

  private String crmpi(String... args) {
    return CliOutput.of(args);
  }

  private void job() throws Exception {
    JobDirectory dir = JobDirectory.of(root, "ring");
    dir.create();
    dir.writeSpec(new JobSpec(JobSpec.FORMAT_VERSION, "ring", List.of("mpirun", "ring"), "/work", Map.of(), "2s", 3, 5,
        "criu", Instant.parse("2026-11-30T10:00:00Z"), false));
    dir.writeState(new JobState(JobStatus.SUCCEEDED, 4242, 1, 0, "finished after 1 restart(s)", "/x/control.sock",
        Instant.parse("2026-11-30T10:05:00Z")));
    Files.writeString(dir.history(), String.join("\n",
        "{\"time\":\"2026-11-30T10:01:00Z\",\"kind\":\"committed\",\"epoch\":1,\"trigger\":\"periodic\",\"bytes\":4096,"
            + "\"dumpMillis\":120,\"frozenMillis\":150,\"totalMillis\":300,\"nodes\":1}",
        "{\"time\":\"2026-11-30T10:02:00Z\",\"kind\":\"aborted\",\"epoch\":2,\"reason\":\"DUMP_FAILED\",\"detail\":\"x\"}",
        "not json at all",
        "{\"time\":\"2026-11-30T10:03:00Z\",\"kind\":\"restart\",\"epoch\":1,\"detail\":\"rank 3 died\"}", ""));
  }

  @Test
  void oneJobAsJsonCarriesItsSchemaStateAndEveryEvent() throws Exception {
    job();
    JsonNode j = StatusReport.JSON.readTree(crmpi("status", "--state-dir", root.toString(), "--json", "ring"));
    assertEquals("crmpi.status.job/1", j.get("schema").asText());
    assertEquals("ring", j.get("job").asText());
    assertEquals("SUCCEEDED", j.get("state").asText());
    assertEquals(1, j.get("restarts").asInt());
    assertEquals(List.of("mpirun", "ring"), List.of(j.get("command").get(0).asText(), j.get("command").get(1).asText()));
    JsonNode events = j.get("events");
    assertEquals(3, events.size(), "the damaged history line is skipped, the others count: " + events);
    assertEquals("expired", events.get(0).get("state").asText(), "epoch 1 has no manifest, so retention took it");
    assertEquals(4096, events.get(0).get("bytes").asLong());
    assertEquals("2026-11-30T10:01:00Z", events.get(0).get("time").asText());
    assertEquals("aborted", events.get(1).get("state").asText());
    assertTrue(events.get(1).get("bytes").isNull());
    assertEquals("restored", events.get(2).get("state").asText());
  }

  @Test
  void theListAsJsonNamesEveryJob() throws Exception {
    job();
    JsonNode j = StatusReport.JSON.readTree(crmpi("status", "--state-dir", root.toString(), "--json"));
    assertEquals("crmpi.status.list/1", j.get("schema").asText());
    assertEquals(1, j.get("jobs").size());
    assertEquals("ring", j.get("jobs").get(0).get("job").asText());
    assertEquals("SUCCEEDED", j.get("jobs").get(0).get("state").asText());
    assertTrue(j.get("jobs").get(0).get("latestEpoch").isNull());
  }

  @Test
  void theTableShowsTheSameEvents() throws Exception {
    job();
    String table = crmpi("status", "--state-dir", root.toString(), "ring");
    assertTrue(table.contains("expired") && table.contains("aborted") && table.contains("restored")
        && table.contains("DUMP_FAILED: x"), table);
  }
}
