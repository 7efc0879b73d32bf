package io.crmpi.nativeio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReadAheadTest {
  @TempDir Path dir;

  @Test
  void keepsTheWindowAheadOfTheReaderAndStopsAtTheEnd() throws Exception {
    long size = 200L << 20;
    Path file = dir.resolve("pages.img");
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.setLength(size);
    }
    try (ReadAhead ahead = ReadAhead.of(file, size)) {
      assertEquals(ReadAhead.WINDOW, ahead.advisedTo());
      ahead.reached(1L << 20);
      assertEquals(ReadAhead.WINDOW + (16L << 20), ahead.advisedTo(), "advised a step at a time");
      ahead.reached(100L << 20);
      assertEquals(176L << 20, ahead.advisedTo(), "the window's end, rounded up to a step");
      ahead.reached(size - 1);
      assertEquals(size, ahead.advisedTo(), "never past the end");
    }
  }

  @Test
  void aSymbolicLinkIsNotFollowed() throws Exception {
    Path target = Files.write(dir.resolve("target"), new byte[4096]);
    Path link = Files.createSymbolicLink(dir.resolve("link"), target);
    try (ReadAhead ahead = ReadAhead.of(link, 4096)) {
      assertEquals(0, ahead.advisedTo());
      ahead.reached(0);
      assertEquals(0, ahead.advisedTo());
    }
  }

  @Test
  void aFifoNeitherBlocksNorFails() throws Exception {
    Path fifo = dir.resolve("fifo");
    assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
    assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
      try (ReadAhead ahead = ReadAhead.of(fifo, 1L << 30)) {
        ahead.reached(1L << 20);
        assertEquals(1L << 30, ahead.advisedTo(), "given up at the first advice the FIFO refuses");
      }
    });
  }
}
