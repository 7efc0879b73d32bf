package io.crmpi.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DigestsTest {
  static final String SHA_ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  static final String SHA_EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

  @TempDir
  Path dir;

  @Test
  void digestOfAbcIsTheKnownSha256() throws IOException {
    Path file = Files.writeString(dir.resolve("abc.txt"), "abc");
    assertEquals(new FileDigest("abc.txt", 3, SHA_ABC), Digests.digest(dir, file));
  }

  @Test
  void digestOfAnEmptyFileIsTheKnownSha256() throws IOException {
    Path file = Files.createFile(dir.resolve("empty"));
    assertEquals(new FileDigest("empty", 0, SHA_EMPTY), Digests.digest(dir, file));
  }

  @Test
  void digestOfAFileLargerThanTheBufferMatchesAOneShotDigest() throws IOException, NoSuchAlgorithmException {
    byte[] bytes = new byte[3 * (1 << 20) + 12345];
    new Random(7).nextBytes(bytes);
    Path file = Files.write(dir.resolve("big.img"), bytes);
    String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    assertEquals(new FileDigest("big.img", bytes.length, expected), Digests.digest(dir, file));
  }

  @Test
  void pathIsRelativeToBaseWithSlashes() throws IOException {
    Path file = Files.writeString(Files.createDirectories(dir.resolve("a/b")).resolve("c.img"), "abc");
    assertEquals("a/b/c.img", Digests.digest(dir, file).path());
  }

  @Test
  void aFileOutsideTheBaseIsRefused() throws IOException {
    Path base = Files.createDirectories(dir.resolve("base"));
    Path outside = Files.writeString(dir.resolve("outside"), "abc");
    assertThrows(IllegalArgumentException.class, () -> Digests.digest(base, outside));
  }

  @Test
  void digestTreeListsEveryRegularFileRecursivelySortedByPath() throws IOException {
    Files.writeString(Files.createDirectories(dir.resolve("z/y")).resolve("deep"), "abc");
    Files.writeString(dir.resolve("b"), "abc");
    Files.createFile(dir.resolve("a"));
    Files.createDirectories(dir.resolve("empty-dir"));
    Files.createSymbolicLink(dir.resolve("link"), dir.resolve("b"));
    assertEquals(List.of(new FileDigest("a", 0, SHA_EMPTY), new FileDigest("b", 3, SHA_ABC),
        new FileDigest("z/y/deep", 3, SHA_ABC)), Digests.digestTree(dir));
  }

  @Test
  void fsyncTreeAndFsyncDirectoryAcceptFilesAndDirectories() throws IOException {
    Files.writeString(Files.createDirectories(dir.resolve("x/y")).resolve("f"), "abc");
    Files.createDirectories(dir.resolve("empty"));
    Digests.fsyncTree(dir);
    Digests.fsyncDirectory(dir.resolve("x"));
    assertEquals(1, Digests.digestTree(dir).size());
  }
}
