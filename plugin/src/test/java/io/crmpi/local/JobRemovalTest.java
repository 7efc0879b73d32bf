package io.crmpi.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** crmpi rm removes a job's own directory and nothing else. */
class JobRemovalTest {
  @TempDir
  Path root;

  private JobDirectory job(String name) throws Exception {
    JobDirectory dir = JobDirectory.of(root, name);
    dir.create();
    Files.createDirectories(dir.checkpoints().resolve("epochs/000001"));
    Files.write(dir.checkpoints().resolve("epochs/000001/pages-1.img"), new byte[4096]);
    Files.writeString(dir.history(), "{}\n");
    return dir;
  }

  @Test
  void removesTheJobsDirectoryAndSaysWhatItFreed() throws Exception {
    JobDirectory dir = job("ring");
    JobRemoval.Removed r = JobRemoval.remove(dir);
    assertFalse(Files.exists(dir.dir()));
    assertEquals("ring", r.job());
    assertTrue(r.bytes() >= 4096, "bytes " + r.bytes());
  }

  @Test
  void aLinkInTheJobsDirectoryIsRemovedButNeverFollowed() throws Exception {
    JobDirectory dir = job("ring");
    Path precious = Files.createDirectories(root.resolve("home/data"));
    Files.writeString(precious.resolve("results.txt"), "a week of work");
    Files.createSymbolicLink(dir.dir().resolve("data"), precious);
    Files.createSymbolicLink(dir.checkpoints().resolve("results.txt"), precious.resolve("results.txt"));
    JobRemoval.remove(dir);
    assertFalse(Files.exists(dir.dir()));
    assertEquals("a week of work", Files.readString(precious.resolve("results.txt")));
  }

  @Test
  void aRunningJobIsRefusedAndKept() throws Exception {
    JobDirectory dir = job("ring");
    // The lock of a crmpi process that runs the job: another JVM's, simulated by a second channel here.
    try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(dir.dir().resolve("lock"),
        java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE)) {
      Optional<FileLock> held = Optional.of(ch.lock());
      JobException e = assertThrows(JobException.class, () -> JobRemoval.remove(dir));
      assertTrue(e.getMessage().contains("is running"), e.getMessage());
      assertTrue(Files.exists(dir.history()));
      held.get().release();
    }
  }

  @Test
  void theLastChangeIsTheNewestOfStateHistoryAndDirectory() throws Exception {
    JobDirectory dir = job("ring");
    java.nio.file.attribute.FileTime old = java.nio.file.attribute.FileTime.fromMillis(1_000_000L);
    Files.setLastModifiedTime(dir.dir(), old);
    java.nio.file.attribute.FileTime recent = java.nio.file.attribute.FileTime.fromMillis(2_000_000_000_000L);
    Files.setLastModifiedTime(dir.history(), recent);
    assertEquals(recent.toInstant(), JobRemoval.lastChange(dir));
  }
}
