package io.crmpi.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The copy of a node's part of an epoch from the node-local level to the state directory. */
class LevelFlushTest {
  @TempDir
  Path root;

  private Path write(Path file, String text, String mode) throws IOException {
    Files.createDirectories(file.getParent());
    Files.writeString(file, text);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
    return file;
  }

  @Test
  void everyFileIsCopiedWithItsModeAndUnchangedSnapshotFilesAreLinked() throws IOException {
    Path local1 = root.resolve("local/1");
    Path shared1 = Files.createDirectories(root.resolve("shared/1"));
    write(local1.resolve("nodes/n1/image/pages-1.img"), "pages one", "rw-------");
    write(local1.resolve("nodes/n1/workdir/input.dat"), "unchanged input", "rw-r--r--");
    LevelFlush.Result first = LevelFlush.flush(local1, shared1, null, null, "nodes/n1", n -> { });
    assertEquals("pages one".length() + "unchanged input".length(), first.copiedBytes());
    assertEquals("rw-------", PosixFilePermissions.toString(
        Files.getPosixFilePermissions(shared1.resolve("nodes/n1/image/pages-1.img"))));

    Path local2 = root.resolve("local/2");
    Path shared2 = Files.createDirectories(root.resolve("shared/2"));
    write(local2.resolve("nodes/n1/image/pages-1.img"), "pages two!", "rw-------");
    Files.createDirectories(local2.resolve("nodes/n1/workdir"));
    Files.createLink(local2.resolve("nodes/n1/workdir/input.dat"), local1.resolve("nodes/n1/workdir/input.dat"));
    long[] progress = {0};
    LevelFlush.Result second = LevelFlush.flush(local2, shared2, local1, shared1, "nodes/n1", n -> progress[0] += n);
    assertEquals("pages two!".length(), second.copiedBytes());
    assertEquals("unchanged input".length(), second.linkedBytes());
    assertEquals(second.copiedBytes(), progress[0]);
    assertEquals(Files.readAttributes(shared1.resolve("nodes/n1/workdir/input.dat"),
        java.nio.file.attribute.BasicFileAttributes.class).fileKey(),
        Files.readAttributes(shared2.resolve("nodes/n1/workdir/input.dat"),
            java.nio.file.attribute.BasicFileAttributes.class).fileKey());
    assertEquals("pages two!", Files.readString(shared2.resolve("nodes/n1/image/pages-1.img")));
  }

  @Test
  void anInterruptedFlushIsReplacedByTheNextFlushOfTheSameEpoch() throws IOException {
    Path local = root.resolve("local/3");
    Path shared = Files.createDirectories(root.resolve("shared/3"));
    write(local.resolve("nodes/n1/image/pages-1.img"), "the whole image", "rw-------");
    write(shared.resolve("nodes/n1/image/pages-1.img"), "the wh", "rw-------");
    LevelFlush.flush(local, shared, null, null, "nodes/n1", n -> { });
    assertEquals("the whole image", Files.readString(shared.resolve("nodes/n1/image/pages-1.img")));
  }

  @Test
  void aCancelledFlushStopsWithAnError() throws IOException {
    Path local = root.resolve("local/6");
    Path shared = Files.createDirectories(root.resolve("shared/6"));
    write(local.resolve("nodes/n1/image/pages-1.img"), "pages", "rw-------");
    IOException e = assertThrows(IOException.class,
        () -> LevelFlush.flush(local, shared, null, null, "nodes/n1", n -> { }, () -> true, LevelFlush.Format.FILES,
            6));
    assertTrue(e.getMessage().contains("flush cancelled"), e.getMessage());
  }

  @Test
  void aMissingNodeLocalCopyOrEpochDirectoryIsAClearError() throws IOException {
    Path shared = Files.createDirectories(root.resolve("shared/4"));
    IOException e = assertThrows(IOException.class,
        () -> LevelFlush.flush(root.resolve("local/4"), shared, null, null, "nodes/n1", n -> { }));
    assertTrue(e.getMessage().contains("no node-local copy to flush"), e.getMessage());
    write(root.resolve("local/5/nodes/n1/image/x"), "x", "rw-------");
    e = assertThrows(IOException.class,
        () -> LevelFlush.flush(root.resolve("local/5"), root.resolve("shared/5"), null, null, "nodes/n1", n -> { }));
    assertTrue(e.getMessage().contains("removed meanwhile"), e.getMessage());
  }

  @Test
  void withChunksLargeImagesBecomeRecipesAndTheNextFlushWritesOnlyWhatChanged() throws IOException {
    Path local1 = root.resolve("job/local/epochs/0000000001");
    Path shared1 = Files.createDirectories(root.resolve("job/state/epochs/0000000001"));
    byte[] pages = new byte[1 << 20];
    new java.util.Random(3).nextBytes(pages);
    Files.createDirectories(local1.resolve("nodes/n1/image"));
    Files.write(local1.resolve("nodes/n1/image/pages-1.img"), pages);
    write(local1.resolve("nodes/n1/image/core-1.img"), "core", "rw-------");
    LevelFlush.Format chunks = new LevelFlush.Format(true, 1);
    LevelFlush.Result first = LevelFlush.flush(local1, shared1, null, null, "nodes/n1", n -> { }, () -> false,
        chunks, 1);
    Path image1 = shared1.resolve("nodes/n1/image");
    assertTrue(Files.exists(image1.resolve("pages-1.img.crmpi-chunks")));
    assertTrue(!Files.exists(image1.resolve("pages-1.img")), "a large image is stored as chunks, not copied");
    assertEquals("core", Files.readString(image1.resolve("core-1.img")), "a small image is copied as it is");
    try (java.util.stream.Stream<Path> left = Files.list(image1)) {
      assertEquals(List.of(), left.filter(p -> p.toString().endsWith(".tmp")).toList());
    }
    assertTrue(first.copiedBytes() >= pages.length, "random pages do not compress: " + first.copiedBytes());

    Path local2 = root.resolve("job/local/epochs/0000000002");
    Path shared2 = Files.createDirectories(root.resolve("job/state/epochs/0000000002"));
    Files.createDirectories(local2.resolve("nodes/n1/image"));
    System.arraycopy(new byte[8192], 0, pages, 40960, 8192); // two pages change
    Files.write(local2.resolve("nodes/n1/image/pages-1.img"), pages);
    write(local2.resolve("nodes/n1/image/core-1.img"), "core", "rw-------");
    LevelFlush.Result second = LevelFlush.flush(local2, shared2, local1, shared1, "nodes/n1", n -> { },
        () -> false, chunks, 2);
    assertTrue(second.copiedBytes() < pages.length / 10, "wrote " + second.copiedBytes());
    assertTrue(second.linkedBytes() > pages.length * 8 / 10, "reused " + second.linkedBytes());
    io.crmpi.chunks.ChunkRecipe r = io.crmpi.chunks.ChunkStore.recipeFor(
        shared2.resolve("nodes/n1/image/pages-1.img"));
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    io.crmpi.chunks.ChunkStore.ofEpochDir(shared2).reassemble(r, java.nio.channels.Channels.newChannel(out),
        n -> { });
    org.junit.jupiter.api.Assertions.assertArrayEquals(pages, out.toByteArray());
  }
}
