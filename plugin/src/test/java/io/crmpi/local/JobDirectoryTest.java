package io.crmpi.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JobDirectoryTest {
  @TempDir Path root;

  @Test
  void anEarlierJobsStateIsSetAsideWholeAndANewOneStartsEmpty() throws Exception {
    JobDirectory dir = JobDirectory.of(root, "slurm-1");
    dir.create();
    Files.writeString(dir.dir().resolve("job.json"), "{\"old\":true}");
    Path aside = dir.setAside(Instant.parse("2026-11-30T03:04:05Z"));
    assertEquals(root.resolve("jobs/slurm-1.superseded-20261130T030405"), aside);
    assertEquals("{\"old\":true}", Files.readString(aside.resolve("job.json")));
    assertFalse(dir.exists());
    dir.create();
    Path again = dir.setAside(Instant.parse("2026-11-30T03:04:05Z"));
    assertEquals(root.resolve("jobs/slurm-1.superseded-20261130T030405-2"), again);
  }

  @Test
  void aRunningJobIsNeverSetAside() throws Exception {
    JobDirectory dir = JobDirectory.of(root, "slurm-1");
    dir.create();
    FileLock lock;
    // Another process holds the lock: a second channel in this JVM cannot take it either.
    try (var ch = java.nio.channels.FileChannel.open(dir.dir().resolve("lock"),
        java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE)) {
      lock = ch.lock();
      JobException e = assertThrows(JobException.class, () -> dir.setAside(Instant.now()));
      assertTrue(e.getMessage().contains("is running right now"), e.getMessage());
      lock.release();
    }
    assertTrue(Files.isDirectory(dir.dir()));
  }
}
