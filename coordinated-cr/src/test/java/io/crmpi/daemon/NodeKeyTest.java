package io.crmpi.daemon;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.crmpi.store.FileDigest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class NodeKeyTest {
  @TempDir
  Path dir;

  static boolean root() {
    try {
      return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid") == 0;
    } catch (IOException e) {
      return false;
    }
  }

  @BeforeEach
  void needsRoot() {
    assumeTrue(root(), "NodeKey.load accepts only root's key files: run as root (as CI does)");
  }

  private static byte[] random(int n) {
    byte[] b = new byte[n];
    new Random(n).nextBytes(b);
    return b;
  }

  private Path key(byte[] content, String mode) throws IOException {
    Path k = dir.resolve("key");
    Files.write(k, content);
    Files.setPosixFilePermissions(k, PosixFilePermissions.fromString(mode));
    return k;
  }

  private static void assertMentions(Throwable e, String... words) {
    for (String w : words) {
      assertTrue(e.getMessage().contains(w), "message should mention '" + w + "': " + e.getMessage());
    }
  }

  @Test
  void aRootOwned0600KeyOf64BytesLoads() throws IOException {
    byte[] content = random(64);
    NodeKey k = NodeKey.load(key(content, "rw-------"));
    assertArrayEquals(content, k.secret());
  }

  @Test
  void aKeyOfExactly32BytesLoads() throws IOException {
    assertEquals(32, NodeKey.load(key(random(32), "rw-------")).secret().length);
  }

  @Test
  void aReadOnlyKeyLoads() throws IOException {
    NodeKey.load(key(random(64), "r--------"));
  }

  @Test
  void aLoadedKeySealsLikeTheSameBytesInMemory() throws IOException {
    byte[] content = random(48);
    NodeKey loaded = NodeKey.load(key(content, "rw-------"));
    TreeId t = new TreeId("j", "n");
    List<FileDigest> files = List.of(new FileDigest("a", 0, DaemonSamples.SHA_EMPTY));
    assertEquals(new ImageSeal(NodeKey.of(content)).seal(7, t, 1, files, Map.of()),
        new ImageSeal(loaded).seal(7, t, 1, files, Map.of()));
  }

  @Test
  void aMissingKeyIsRefusedWithHowToCreateIt() {
    Path missing = dir.resolve("no-such-key");
    IOException e = assertThrows(IOException.class, () -> NodeKey.load(missing));
    assertMentions(e, missing.toString(), "does not exist", "head -c 64 /dev/urandom > " + missing,
        "chmod 0600 " + missing, "copy it to every node");
  }

  @Test
  void aKeyInAMissingDirectoryIsRefusedAsMissing() {
    Path missing = dir.resolve("no-such-dir/key");
    IOException e = assertThrows(IOException.class, () -> NodeKey.load(missing));
    assertMentions(e, "does not exist");
  }

  @Test
  void aSymlinkToAGoodKeyIsRefused() throws IOException {
    Path real = key(random(64), "rw-------");
    Path link = Files.createSymbolicLink(dir.resolve("link"), real);
    IOException e = assertThrows(IOException.class, () -> NodeKey.load(link));
    assertMentions(e, link.toString(), "not a regular file");
  }

  @Test
  void aDanglingSymlinkIsRefused() throws IOException {
    Path link = Files.createSymbolicLink(dir.resolve("link"), dir.resolve("nowhere"));
    IOException e = assertThrows(IOException.class, () -> NodeKey.load(link));
    assertMentions(e, "not a regular file");
  }

  @Test
  void aDirectoryIsRefused() throws IOException {
    Path d = Files.createDirectory(dir.resolve("keydir"),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    IOException e = assertThrows(IOException.class, () -> NodeKey.load(d));
    assertMentions(e, "not a regular file");
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 16, 31})
  void aKeyShorterThan32BytesIsRefused(int length) throws IOException {
    Path k = key(random(length), "rw-------");
    IOException e = assertThrows(IOException.class, () -> NodeKey.load(k));
    assertMentions(e, "has " + length + " bytes", "at least 32", "head -c 64 /dev/urandom");
  }

  @ParameterizedTest
  @ValueSource(strings = {"rw-r-----", "rw--w----", "rw----r--", "rw-----w-", "rw-rw-rw-", "r--r--r--",
      "rw-rw----"})
  void aKeyThatGroupOrOthersMayReadOrWriteIsRefused(String mode) throws IOException {
    Path k = key(random(64), mode);
    IOException e = assertThrows(IOException.class, () -> NodeKey.load(k));
    assertMentions(e, "readable or writable by others", mode, "chmod 0600 " + k);
  }

  @Test
  void aKeyOwnedByAnotherUserIsRefused() throws IOException {
    Path k = key(random(64), "rw-------");
    Files.setAttribute(k, "unix:uid", 65534);
    IOException e = assertThrows(IOException.class, () -> NodeKey.load(k));
    String owner = Files.getOwner(k).getName();
    assertMentions(e, "belongs to " + owner, "not root", "chown root " + k);
  }

  @Test
  void aKeyOfRootsUserButAnotherGroupLoadsWhenTheGroupCannotReadIt() throws IOException {
    Path k = key(random(64), "rw-------");
    Files.setAttribute(k, "unix:gid", 65534);
    NodeKey.load(k);
  }

  @Test
  void theOwnerIsCheckedBeforeThePermissions() throws IOException {
    // a key that is both another user's and world-readable is refused for its owner first
    Path k = key(random(64), "rw-r--r--");
    Files.setAttribute(k, "unix:uid", 65534);
    IOException e = assertThrows(IOException.class, () -> NodeKey.load(k));
    assertMentions(e, "not root");
  }
}
