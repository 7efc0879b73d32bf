package io.crmpi.daemon;

import io.crmpi.nativeio.NativeCallException;
import io.crmpi.nativeio.Posix;
import io.crmpi.store.FileDigest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * Copies a sealed image out of the owner's reach before crmpid restores it
 * as root. The owner can change their files at any time (they may even
 * hold one open), so checking them in place proves nothing about what
 * CRIU would read a moment later. Instead every file the seal lists is
 * read once, through a directory descriptor and without following
 * symlinks, into a fresh directory only root can enter, and is digested
 * on the way; a file whose digest or size differs from the sealed one
 * fails the copy. CRIU then reads only the copy.
 */
final class ImageStaging {
  private static final int BUFFER = 1 << 20;

  private ImageStaging() {}

  /**
   * Copies files from imageDir (which must belong to owner, or to root) into
   * a new directory under stagingRoot and returns it.
   */
  static Path stage(Path imageDir, List<FileDigest> files, Path stagingRoot, int owner, String name)
      throws IOException {
    Files.createDirectories(stagingRoot, PosixFilePermissions.asFileAttribute(
        PosixFilePermissions.fromString("rwx------")));
    Path staged = Files.createTempDirectory(stagingRoot, name + ".", PosixFilePermissions.asFileAttribute(
        PosixFilePermissions.fromString("rwx------")));
    int fd;
    try {
      fd = Posix.openDirectoryNoFollow(imageDir);
    } catch (NativeCallException e) {
      delete(staged);
      throw new IOException("cannot open the image directory " + imageDir + ": " + e.getMessage());
    }
    try {
      Path dir = Path.of("/proc/self/fd", Integer.toString(fd));
      int dirOwner = (Integer) Files.getAttribute(dir, "unix:uid");
      if (dirOwner != owner && dirOwner != 0) {
        throw new IOException("the image directory " + imageDir + " belongs to uid " + dirOwner
            + ", not to the job's owner (uid " + owner + ")");
      }
      MessageDigest sha = sha256();
      byte[] buf = new byte[BUFFER];
      for (FileDigest f : files) {
        if (f.path().indexOf('/') >= 0) {
          throw new IOException("image file " + f.path() + " is not directly in the image directory");
        }
        copy(dir.resolve(f.path()), staged.resolve(f.path()), f, sha, buf);
      }
      return staged;
    } catch (IOException | RuntimeException e) {
      delete(staged);
      throw e;
    } finally {
      Posix.close(fd);
    }
  }

  private static void copy(Path from, Path to, FileDigest expected, MessageDigest sha, byte[] buf)
      throws IOException {
    BasicFileAttributes a;
    try {
      a = Files.readAttributes(from, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (java.nio.file.NoSuchFileException e) {
      throw new IOException("image file " + expected.path() + " is missing");
    }
    if (!a.isRegularFile()) {
      throw new IOException("image file " + expected.path() + " is not a regular file (a symlink?)");
    }
    sha.reset();
    long size = 0;
    try (InputStream in = Files.newInputStream(from, LinkOption.NOFOLLOW_LINKS);
        OutputStream out = Files.newOutputStream(to, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      for (int n; (n = in.read(buf)) > 0; ) {
        size += n;
        if (size > expected.size()) {
          break;
        }
        sha.update(buf, 0, n);
        out.write(buf, 0, n);
      }
    }
    String digest = HexFormat.of().formatHex(sha.digest());
    if (size != expected.size() || !digest.equals(expected.sha256())) {
      throw new IOException("image file " + expected.path() + " does not match its sealed digest (size " + size
          + ", sealed " + expected.size() + "): it was changed after crmpid wrote it");
    }
  }

  /** Removes a staged copy. */
  static void delete(Path staged) {
    try (Stream<Path> s = Files.walk(staged)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      java.util.logging.Logger.getLogger(ImageStaging.class.getName())
          .warning("cannot remove the staged image " + staged + ": " + e.getMessage());
    }
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
