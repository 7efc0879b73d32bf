package io.crmpi.daemon;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.crmpi.store.FileDigest;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class ImageStagingTest {
  private static final int OWNER = 1000;
  private static final int NOBODY = 65534;

  @TempDir
  Path tmp;
  Path image;
  Path staging;
  List<FileDigest> files;

  @BeforeEach
  void anImage() throws Exception {
    assumeTrue(NodeKeyTest.root(), "staging checks owners and chowns test files: run as root (as CI does)");
    image = Files.createDirectory(tmp.resolve("image"));
    staging = tmp.resolve("state/staging");
    files = new ArrayList<>();
    files.add(write("core-1.img", bytes(3000, 1)));
    files.add(write("pages-1.img", bytes((1 << 20) * 2 + 17, 2))); // more than one copy buffer
    files.add(write("empty.img", new byte[0]));
    files.add(write("inventory.img", bytes(1 << 20, 3))); // exactly one copy buffer
  }

  private static byte[] bytes(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  static String sha256(byte[] b) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }

  private FileDigest write(String name, byte[] content) throws Exception {
    Files.write(image.resolve(name), content);
    return new FileDigest(name, content.length, sha256(content));
  }

  private Path stage() throws IOException {
    return ImageStaging.stage(image, files, staging, OWNER, "job-7.node-01.abcd1234");
  }

  private IOException refused(String... words) {
    IOException e = assertThrows(IOException.class, this::stage);
    for (String w : words) {
      assertTrue(e.getMessage().contains(w), "message should mention '" + w + "': " + e.getMessage());
    }
    assertNothingStaged();
    return e;
  }

  private void assertNothingStaged() {
    if (Files.exists(staging)) {
      try (Stream<Path> s = Files.list(staging)) {
        assertEquals(List.of(), s.toList(), "a refused staging left its copy behind");
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
  }

  private static Set<String> names(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
    }
  }

  private static int openDescriptors() throws IOException {
    try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
      return (int) s.count();
    }
  }

  // ---- good images ----

  @Test
  void goodFilesAreCopiedIntoARootOnlyDirectoryUnderTheStagingRoot() throws Exception {
    Path staged = stage();
    assertEquals(staging, staged.getParent());
    assertTrue(staged.getFileName().toString().startsWith("job-7.node-01.abcd1234."), staged.toString());
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(staged)));
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(staging)));
    assertEquals(0, (Integer) Files.getAttribute(staged, "unix:uid"));
    assertEquals(files.stream().map(FileDigest::path).collect(Collectors.toSet()), names(staged));
    for (FileDigest f : files) {
      byte[] copy = Files.readAllBytes(staged.resolve(f.path()));
      assertArrayEquals(Files.readAllBytes(image.resolve(f.path())), copy, f.path());
      assertEquals(f.sha256(), sha256(copy));
      assertTrue(Files.isRegularFile(staged.resolve(f.path()), java.nio.file.LinkOption.NOFOLLOW_LINKS));
    }
  }

  @Test
  void onlyTheSealedFilesAreCopied() throws Exception {
    Files.write(image.resolve("unsealed.img"), bytes(10, 9));
    Path staged = stage();
    assertTrue(!names(staged).contains("unsealed.img"));
  }

  @Test
  void anEmptyFileListStagesAnEmptyDirectory() throws IOException {
    files.clear();
    assertEquals(Set.of(), names(stage()));
  }

  @Test
  void eachStagingGetsItsOwnDirectory() throws IOException {
    Path a = stage();
    Path b = stage();
    assertTrue(!a.equals(b));
    assertEquals(names(a), names(b));
  }

  @Test
  void anImageDirectoryOfTheOwnerIsAccepted() throws IOException {
    Files.setAttribute(image, "unix:uid", NOBODY);
    ImageStaging.stage(image, files, staging, NOBODY, "t");
  }

  @Test
  void anImageDirectoryOfRootIsAcceptedForAnyOwner() throws IOException {
    assertEquals(0, (Integer) Files.getAttribute(image, "unix:uid"));
    ImageStaging.stage(image, files, staging, NOBODY, "t");
  }

  @Test
  void filesOfAnotherUserInTheOwnersDirectoryAreCopiedWhenTheirDigestsMatch() throws IOException {
    // what counts is the content, which the seal covers
    Files.setAttribute(image.resolve("core-1.img"), "unix:uid", 4242);
    stage();
  }

  @Test
  void stagingLeaksNoDescriptors() throws Exception {
    stage();
    int before = openDescriptors();
    for (int i = 0; i < 20; i++) {
      stage();
    }
    Files.write(image.resolve("core-1.img"), bytes(3000, 99));
    for (int i = 0; i < 20; i++) {
      assertThrows(IOException.class, this::stage);
    }
    assertEquals(before, openDescriptors());
  }

  // ---- refusals ----

  @Test
  void aFileWhoseContentChangedIsRefused() throws Exception {
    byte[] b = Files.readAllBytes(image.resolve("pages-1.img"));
    b[b.length / 2] ^= 1; // same size, one bit
    Files.write(image.resolve("pages-1.img"), b);
    refused("image file pages-1.img does not match its sealed digest", "changed after crmpid wrote it");
  }

  @Test
  void aFileLongerThanItsRecordedSizeIsRefused() throws Exception {
    Files.write(image.resolve("core-1.img"), new byte[] {1}, java.nio.file.StandardOpenOption.APPEND);
    refused("image file core-1.img does not match its sealed digest", "sealed 3000");
  }

  @Test
  void aFileMuchLongerThanItsRecordedSizeIsRefusedWithoutCopyingItAll() throws Exception {
    // an empty sealed file that is now 64 MiB: refused after the first buffer
    Files.write(image.resolve("empty.img"), new byte[64 << 20]);
    refused("image file empty.img does not match", "sealed 0");
  }

  @Test
  void aFileShorterThanItsRecordedSizeIsRefused() throws Exception {
    byte[] b = Files.readAllBytes(image.resolve("inventory.img"));
    Files.write(image.resolve("inventory.img"), java.util.Arrays.copyOf(b, b.length - 1));
    refused("image file inventory.img does not match its sealed digest");
  }

  @Test
  void aFileWithTheRightDigestButAnotherRecordedSizeIsRefused() throws Exception {
    FileDigest f = files.get(0);
    files.set(0, new FileDigest(f.path(), f.size() + 1, f.sha256()));
    refused("image file core-1.img does not match");
  }

  @Test
  void aMissingFileIsRefused() throws IOException {
    Files.delete(image.resolve("inventory.img"));
    refused("image file inventory.img is missing");
  }

  @Test
  void aSymlinkInPlaceOfAFileIsRefusedEvenToTheRightContent() throws Exception {
    Path elsewhere = tmp.resolve("elsewhere.img");
    Files.move(image.resolve("core-1.img"), elsewhere);
    Files.createSymbolicLink(image.resolve("core-1.img"), elsewhere);
    refused("image file core-1.img is not a regular file");
  }

  @Test
  void aDirectoryInPlaceOfAFileIsRefused() throws IOException {
    Files.delete(image.resolve("empty.img"));
    Files.createDirectory(image.resolve("empty.img"));
    refused("image file empty.img is not a regular file");
  }

  @Test
  @Timeout(20)
  void aFifoInPlaceOfAFileIsRefusedWithoutOpeningIt() throws Exception {
    Files.delete(image.resolve("empty.img"));
    Process p = new ProcessBuilder("mkfifo", image.resolve("empty.img").toString()).inheritIO().start();
    assumeTrue(p.waitFor() == 0, "no mkfifo");
    refused("image file empty.img is not a regular file");
  }

  @Test
  void aPathWithASlashIsRefused() throws Exception {
    Path sub = Files.createDirectory(image.resolve("sub"));
    byte[] content = bytes(10, 5);
    Files.write(sub.resolve("x.img"), content);
    files.add(new FileDigest("sub/x.img", content.length, sha256(content)));
    refused("image file sub/x.img is not directly in the image directory");
  }

  @Test
  void aPathThatIsTheDirectoryItselfIsRefused() throws Exception {
    files.add(new FileDigest(".", 0, DaemonSamples.SHA_EMPTY));
    refused("not a regular file");
  }

  @Test
  void aFileListedTwiceIsRefused() throws IOException {
    files.add(files.get(0));
    assertThrows(IOException.class, this::stage);
    assertNothingStaged();
  }

  @Test
  void anImageDirectoryOfAnotherUserIsRefused() throws IOException {
    Files.setAttribute(image, "unix:uid", NOBODY);
    refused("belongs to uid " + NOBODY, "not to the job's owner (uid " + OWNER + ")");
  }

  @Test
  void aMissingImageDirectoryIsRefused() {
    image = tmp.resolve("no-such-image");
    refused("cannot open the image directory " + image);
  }

  @Test
  void anImageDirectoryThatIsAFileIsRefused() throws IOException {
    image = Files.write(tmp.resolve("a-file"), new byte[1]);
    refused("cannot open the image directory");
  }

  @Test
  void aSymlinkAsTheImageDirectoryIsRefused() throws IOException {
    Path link = Files.createSymbolicLink(tmp.resolve("link"), image);
    image = link;
    refused("cannot open the image directory " + link);
  }

  @Test
  void anotherUsersDirectoryIsRefusedEvenReachedThroughASymlink() throws IOException {
    // The path is normalized before the O_NOFOLLOW open, so the symlink itself is refused; the owner check stays
    Files.setAttribute(image, "unix:uid", NOBODY);
    Path link = Files.createSymbolicLink(tmp.resolve("link"), image);
    image = link.resolve(".");
    refused("cannot open the image directory");
    image = Path.of(URI.create(link.toUri() + "/")); // the Path "…/link/" (see DaemonWireTest)
    refused("cannot open the image directory");
  }

  @Test
  void aSymlinkAsTheImageDirectoryIsRefusedHoweverItIsSpelled() throws IOException {
    Path link = Files.createSymbolicLink(tmp.resolve("link"), image);
    image = link.resolve(".");
    refused("cannot open the image directory");
    image = Path.of(URI.create(link.toUri() + "/"));
    assertTrue(image.toString().endsWith("/"), image.toString());
    refused("cannot open the image directory");
  }

  @Test
  void aRefusalAfterSomeFilesWereCopiedRemovesThem() throws IOException {
    // the first three copy fine, the last is missing
    Files.delete(image.resolve("inventory.img"));
    refused("inventory.img is missing");
  }

  @Test
  void aRefusalLeavesEarlierStagedCopiesAlone() throws Exception {
    Path good = stage();
    Files.write(image.resolve("core-1.img"), bytes(3000, 99));
    assertThrows(IOException.class, this::stage);
    assertEquals(Set.of(good.getFileName().toString()), names(staging));
  }
}
