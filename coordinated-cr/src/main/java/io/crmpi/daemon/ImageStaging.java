package io.crmpi.daemon;

import io.crmpi.nativeio.NativeCallException;
import io.crmpi.nativeio.Posix;
import io.crmpi.nativeio.ReadAhead;
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
 * Takes a sealed image out of the owner's reach before crmpid restores it
 * as root. The owner can change their files at any time (they may even
 * hold one open), so checking them in place proves nothing about what
 * CRIU would read a moment later. Every file the seal lists is put into a
 * fresh directory only root can enter, reached through a directory
 * descriptor and never through a symlink, and digested there; a file
 * whose digest or size differs from the sealed one fails the staging.
 * CRIU then reads only the staged files.
 *
 * <p>Where the staging directory is on the image's file system, a file is
 * not copied: it is hard-linked in, made root's (0400, so the owner can no
 * longer open it for writing), and then a read lease proves that no
 * descriptor opened for writing earlier is left, before it is digested;
 * {@link #release} gives it back to the owner after the restore. The
 * kernel reads each linked file ahead of its digest ({@link ReadAhead}), so
 * the disk and the hash work at once. Otherwise
 * (another file system, a file system without leases) it is copied and
 * digested on the way.
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
    return stage(imageDir, files, stagingRoot, owner, name, n -> {});
  }

  /** {@link #stage}, telling read each number of bytes read and checked. */
  static Path stage(Path imageDir, List<FileDigest> files, Path stagingRoot, int owner, String name,
      java.util.function.LongConsumer read) throws IOException {
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
      for (FileDigest f : files) {
        if (f.path().indexOf('/') >= 0) {
          throw new IOException("image file " + f.path() + " is not directly in the image directory");
        }
      }
      stageAll(dir, staged, files, read);
      return staged;
    } catch (IOException | RuntimeException e) {
      release(staged, owner, ownerGid(owner, imageDir));
      throw e;
    } finally {
      Posix.close(fd);
    }
  }

  /**
   * Stages every file, several at a time (each rank's pages are a file of
   * their own, and reading and digesting them one after the other left
   * all but one core idle while a restore waited), largest first. Every
   * task has ended when this returns or throws.
   */
  private static void stageAll(Path dir, Path staged, List<FileDigest> files, java.util.function.LongConsumer read)
      throws IOException {
    Object lock = new Object();
    java.util.function.LongConsumer counted = n -> {
      synchronized (lock) {
        read.accept(n);
      }
    };
    io.crmpi.store.ParallelFiles.map(files.stream().sorted(Comparator.comparingLong(FileDigest::size).reversed())
        .toList(), "crmpid-staging", f -> {
          MessageDigest sha = sha256();
          byte[] buf = new byte[BUFFER];
          if (!link(dir.resolve(f.path()), staged.resolve(f.path()), f, sha, buf, counted)) {
            copy(dir.resolve(f.path()), staged.resolve(f.path()), f, sha, buf, counted);
          }
          return null;
        });
  }

  /**
   * Stages a file by a hard link made root's, when the file systems and
   * leases allow; false when it must be copied instead.
   */
  private static boolean link(Path from, Path to, FileDigest expected, MessageDigest sha, byte[] buf,
      java.util.function.LongConsumer read) throws IOException {
    try {
      Files.createLink(to, from); // link(2): never follows a symlink at from
    } catch (java.nio.file.NoSuchFileException e) {
      throw new IOException("image file " + expected.path() + " is missing");
    } catch (IOException | UnsupportedOperationException e) {
      return false; // another file system (EXDEV), or no hard links there
    }
    BasicFileAttributes a = Files.readAttributes(to, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    if (!a.isRegularFile()) {
      throw new IOException("image file " + expected.path() + " is not a regular file (a symlink?)");
    }
    Files.setAttribute(to, "unix:uid", 0, LinkOption.NOFOLLOW_LINKS);
    Files.setAttribute(to, "unix:gid", 0, LinkOption.NOFOLLOW_LINKS);
    Files.setPosixFilePermissions(to, PosixFilePermissions.fromString("r--------"));
    boolean writers;
    try {
      writers = io.crmpi.nativeio.Posix.openForWriting(to);
    } catch (NativeCallException e) {
      Files.delete(to); // no leases here (e.g. a network file system): copy instead
      return false;
    }
    if (writers) {
      throw new IOException("image file " + expected.path() + " is open for writing by some process: it could"
          + " change while it is restored");
    }
    sha.reset();
    long size = 0;
    try (InputStream in = Files.newInputStream(to, LinkOption.NOFOLLOW_LINKS);
        ReadAhead ahead = ReadAhead.of(to, a.size())) {
      for (int n; (n = readSome(in, buf, expected)) > 0; ) {
        size += n;
        ahead.reached(size);
        sha.update(buf, 0, n);
        read.accept(n);
      }
    }
    requireMatch(expected, size, HexFormat.of().formatHex(sha.digest()));
    return true;
  }

  private static void requireMatch(FileDigest expected, long size, String digest) throws IOException {
    if (size != expected.size() || !digest.equals(expected.sha256())) {
      throw new IOException("image file " + expected.path() + " does not match its sealed digest (size " + size
          + ", sealed " + expected.size() + "): it was changed after crmpid wrote it");
    }
  }

  private static void copy(Path from, Path to, FileDigest expected, MessageDigest sha, byte[] buf,
      java.util.function.LongConsumer read) throws IOException {
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
      for (int n; (n = readSome(in, buf, expected)) > 0; ) {
        size += n;
        if (size > expected.size()) {
          break;
        }
        sha.update(buf, 0, n);
        out.write(buf, 0, n);
        read.accept(n);
      }
    }
    requireMatch(expected, size, HexFormat.of().formatHex(sha.digest()));
  }

  /** A read of an image file; a failure (EIO of a failing disk) names the file. */
  private static int readSome(InputStream in, byte[] buf, FileDigest file) throws IOException {
    try {
      return in.read(buf);
    } catch (IOException e) {
      throw new IOException("cannot read image file " + file.path() + ": " + e.getMessage(), e);
    }
  }

  /**
   * After the restore (or a refusal): the files hard-linked in go back to
   * the owner (0600), and the staging directory goes.
   */
  static void release(Path staged, int owner, int ownerGid) {
    try (Stream<Path> s = Files.list(staged)) {
      for (Path p : s.toList()) {
        BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (a.isRegularFile() && (Integer) Files.getAttribute(p, "unix:nlink", LinkOption.NOFOLLOW_LINKS) > 1) {
          Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-------"));
          Files.setAttribute(p, "unix:gid", ownerGid, LinkOption.NOFOLLOW_LINKS);
          Files.setAttribute(p, "unix:uid", owner, LinkOption.NOFOLLOW_LINKS);
        }
      }
    } catch (IOException e) {
      java.util.logging.Logger.getLogger(ImageStaging.class.getName())
          .warning("cannot give the staged image " + staged + " back: " + e.getMessage());
    }
    delete(staged);
  }

  /** The group the owner's image files had: their directory's. */
  static int ownerGid(int owner, Path imageDir) {
    try {
      return (Integer) Files.getAttribute(imageDir, "unix:gid");
    } catch (IOException | RuntimeException e) {
      return owner;
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
