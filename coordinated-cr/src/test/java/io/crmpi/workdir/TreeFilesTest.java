package io.crmpi.workdir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The mappings half of {@link TreeFiles}, against a /proc laid out as the kernel lays it out. */
class TreeFilesTest {
  @TempDir Path tmp;

  @Test
  void onlySharedWritableMappingsOfLiveFilesUnderTheWorkdirAreWrites() throws Exception {
    Path workdir = Files.createDirectories(tmp.resolve("work"));
    Path shared = Files.writeString(workdir.resolve("grid.dat"), "x");
    Files.writeString(workdir.resolve("private.dat"), "x");
    Files.writeString(workdir.resolve("readonly.dat"), "x");
    Path proc = tmp.resolve("proc");
    Files.createDirectories(proc.resolve("100/task/100"));
    Files.writeString(proc.resolve("100/task/100/children"), "");
    Files.createDirectories(proc.resolve("100/fd"));
    Files.write(proc.resolve("100/maps"), List.of(
        "55d0c0a00000-55d0c0a02000 r--p 00000000 fd:01 1234 /usr/bin/halo",
        "7f0000000000-7f0000100000 rw-s 00000000 00:1a 99 " + shared,
        "7f0000100000-7f0000200000 rw-p 00000000 00:1a 98 " + workdir.resolve("private.dat"),
        "7f0000200000-7f0000300000 r--s 00000000 00:1a 97 " + workdir.resolve("readonly.dat"),
        "7f0000300000-7f0000400000 rw-s 00000000 00:05 96 /dev/shm/vader_segment.1",
        "7f0000400000-7f0000500000 rw-s 00000000 00:1a 95 " + workdir.resolve("gone.dat") + " (deleted)",
        "7f0000500000-7f0000600000 rw-p 00000000 00:00 0 ",
        "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]"));

    List<OpenFile> found = new TreeFiles(proc).scan(100, workdir, Set.of());

    assertEquals(List.of(shared), found.stream().map(OpenFile::path).toList());
  }

  @Test
  void thePermissionsAreReadFromTheirColumn() {
    assertTrue(TreeFiles.sharedWritable("7f00-7f01 rw-s 00000000 00:1a 99 /w/f"));
    assertTrue(TreeFiles.sharedWritable("7f00-7f01 -w-s 00000000 00:1a 99 /w/f"));
    assertFalse(TreeFiles.sharedWritable("7f00-7f01 rw-p 00000000 00:1a 99 /w/f"));
    assertFalse(TreeFiles.sharedWritable("7f00-7f01 r--s 00000000 00:1a 99 /w/f"));
    assertFalse(TreeFiles.sharedWritable("garbage"));
    assertFalse(TreeFiles.sharedWritable(""));
  }
}
