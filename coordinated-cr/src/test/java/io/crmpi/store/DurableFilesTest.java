package io.crmpi.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What deleting a tree frees: hard links inside it count once, a link outside keeps the file. */
class DurableFilesTest {
  @TempDir Path tmp;

  @Test
  void eachFileCountsOnceAndOnlyWhenNothingOutsideKeepsIt() throws Exception {
    Path job = Files.createDirectories(tmp.resolve("job/epochs/1"));
    Files.createDirectories(tmp.resolve("job/epochs/2"));
    Files.write(job.resolve("shared"), new byte[100]);
    Files.createLink(tmp.resolve("job/epochs/2/shared"), job.resolve("shared"));
    Files.write(job.resolve("own"), new byte[10]);
    Files.write(job.resolve("kept"), new byte[1000]);
    Files.createLink(tmp.resolve("outside"), job.resolve("kept"));
    Files.createSymbolicLink(job.resolve("link"), tmp.resolve("outside"));

    assertEquals(110, DurableFiles.bytesFreedByDeleting(tmp.resolve("job")));
    assertEquals(0, DurableFiles.bytesFreedByDeleting(tmp.resolve("absent")));
  }
}
