package io.crmpi.workdir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;

/**
 * Reaches a file under the working directory without following a symlink:
 * every directory between the working directory and the file must be a real
 * directory, and the file itself is looked at, not what it may point to.
 */
final class Reach {
  private Reach() {}

  /** The file's attributes when it is a regular file reached through real directories, else null. */
  static PosixFileAttributes regularFile(Path workdir, String rel) throws IOException {
    Path file = workdir.resolve(rel);
    if (!parentsAreDirectories(workdir, file)) {
      return null;
    }
    try {
      PosixFileAttributes a = Files.readAttributes(file, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      return a.isRegularFile() ? a : null;
    } catch (NoSuchFileException e) {
      return null;
    }
  }

  /** Whether everything from workdir down to file's parent is a directory, none a symlink. */
  static boolean parentsAreDirectories(Path workdir, Path file) {
    Path normal = file.normalize();
    if (!normal.startsWith(workdir) || normal.equals(workdir)) {
      return false;
    }
    for (Path p = normal.getParent(); p != null && p.startsWith(workdir); p = p.getParent()) {
      if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
        return false;
      }
    }
    return true;
  }

  /** The permission bits (07777) of a file, not following a symlink. */
  static int mode(Path file) throws IOException {
    return ((Integer) Files.getAttribute(file, "unix:mode", LinkOption.NOFOLLOW_LINKS)) & 07777;
  }

  /** The inode change time in ns: set by the kernel on every write, unlike mtime it cannot be set back. */
  static long changeTime(Path file) throws IOException {
    return ((java.nio.file.attribute.FileTime) Files.getAttribute(file, "unix:ctime", LinkOption.NOFOLLOW_LINKS))
        .to(java.util.concurrent.TimeUnit.NANOSECONDS);
  }
}
