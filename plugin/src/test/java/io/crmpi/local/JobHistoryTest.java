package io.crmpi.local;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JobHistoryTest {
  @TempDir Path dir;

  @Test
  void damagedLinesAreSkippedAndTheOthersStillCount() throws Exception {
    Path file = dir.resolve("history.jsonl");
    JobHistory history = new JobHistory(file, Clock.fixed(Instant.EPOCH, ZoneOffset.UTC), "ring");
    history.restarted(3, "failure");
    ByteArrayOutputStream junk = new ByteArrayOutputStream();
    junk.write("{\"time\":\"1970-01-01T00:00:00Z\",\"kind\":\"comm".getBytes(StandardCharsets.UTF_8)); // cut short
    junk.write('\n');
    junk.write(new byte[] {(byte) 0xff, (byte) 0xfe, '{', '}', '\n'}); // not UTF-8
    junk.write("{}\n".getBytes(StandardCharsets.UTF_8)); // no kind: would break every reader
    junk.write("[1,2]\n".getBytes(StandardCharsets.UTF_8));
    Files.write(file, junk.toByteArray(), java.nio.file.StandardOpenOption.APPEND);
    history.restoreFailed(2, "a rank ended");

    List<String> read = history.read().stream().map(e -> e.kind() + " " + e.epoch()).toList();
    assertEquals(List.of("restart 3", "restore-failed 2"), read);
  }
}
