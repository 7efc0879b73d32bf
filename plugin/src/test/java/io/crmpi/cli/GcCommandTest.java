package io.crmpi.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crmpi.local.JobDirectory;
import io.crmpi.local.JobSpec;
import io.crmpi.local.JobState;
import io.crmpi.local.JobStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** crmpi gc: old finished jobs go, running and resumable ones stay unless asked. */
class GcCommandTest {
  @TempDir
  Path root;

  private String gc(String... args) {
    List<String> all = new java.util.ArrayList<>(List.of("gc", "--state-dir", root.toString()));
    all.addAll(List.of(args));
    return CliOutput.of(all.toArray(String[]::new));
  }

  /** A job in the given state whose files all date from ten days ago. */
  private Path job(String name, JobStatus status) throws Exception {
    JobDirectory dir = JobDirectory.of(root, name);
    dir.create();
    Instant old = Instant.now().minusSeconds(10 * 86400);
    dir.writeSpec(new JobSpec(JobSpec.FORMAT_VERSION, name, List.of("mpirun", "ring"), "/work", Map.of(), "2s", 3, 5,
        "criu", old, false));
    dir.writeState(new JobState(status, 0, 0, 0, "x", "/x/control.sock", old));
    try (Stream<Path> s = Files.walk(dir.dir())) {
      for (Path p : s.toList()) {
        Files.setLastModifiedTime(p, FileTime.from(old));
      }
    }
    return dir.dir();
  }

  @Test
  void finishedJobsGoAndResumableOnesStayUnlessIncluded() throws Exception {
    Path done = job("done", JobStatus.SUCCEEDED);
    Path failed = job("failed", JobStatus.FAILED);
    Path vacated = job("vacated", JobStatus.STOPPED);
    Path crashed = job("crashed", JobStatus.RUNNING);
    Path superseded = job("slurm-7.c.u.superseded-20261101T000000Z", JobStatus.STOPPED);

    String out = gc("--older-than", "7d");

    assertFalse(Files.exists(done), out);
    assertFalse(Files.exists(failed), out);
    assertFalse(Files.exists(superseded), out);
    assertTrue(Files.exists(vacated), out);
    assertTrue(Files.exists(crashed), out);
    assertTrue(out.contains("kept: can resume (--include-stopped removes it)"), out);

    gc("--older-than", "7d", "--include-stopped");
    assertFalse(Files.exists(vacated));
    assertFalse(Files.exists(crashed));
  }

  @Test
  void theJsonResultListsEveryJobWithItsActionAndTheBytesFreed() throws Exception {
    Path done = job("done", JobStatus.SUCCEEDED);
    Files.write(done.resolve("big"), new byte[5000]);
    for (Path p : List.of(done.resolve("big"), done)) {
      Files.setLastModifiedTime(p, FileTime.from(Instant.now().minusSeconds(10 * 86400)));
    }
    job("vacated", JobStatus.STOPPED);
    com.fasterxml.jackson.databind.JsonNode j = StatusReport.JSON.readTree(gc("--older-than", "7d", "--json"));
    assertEquals("crmpi.gc/1", j.get("schema").asText());
    assertEquals(2, j.get("jobs").size());
    java.util.Map<String, String> actions = new java.util.HashMap<>();
    j.get("jobs").forEach(r -> actions.put(r.get("job").asText(), r.get("action").asText()));
    assertEquals(Map.of("done", "removed", "vacated", "kept"), actions);
    assertTrue(j.get("freedBytes").asLong() >= 5000, j.toString());
    assertFalse(Files.exists(done));
  }

  @Test
  void recentJobsAndADryRunRemoveNothing() throws Exception {
    Path done = job("done", JobStatus.SUCCEEDED);
    assertTrue(gc("--older-than", "30d").contains("is unchanged for 30d"));
    assertTrue(gc("--older-than", "7d", "--dry-run").contains("would remove"));
    assertTrue(Files.exists(done));
  }
}
