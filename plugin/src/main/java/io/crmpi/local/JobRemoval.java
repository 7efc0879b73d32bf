package io.crmpi.local;

import java.io.IOException;
import java.nio.channels.FileLock;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Optional;

/**
 * Removes a job that is not running: its directory under the state root
 * (images, history, logs, job.json) and its private socket directory when
 * that lives in /tmp. Nothing outside those two is touched: the walk never
 * follows a symbolic link (a link is removed, not its target), and the
 * job's working directory is never part of it. The job's lock is held for
 * the whole removal, so a 'crmpi restart' cannot start the job meanwhile.
 */
public final class JobRemoval {
  private JobRemoval() {}

  /** What a removal freed. */
  public record Removed(String job, long bytes, long files) {}

  /** Removes the job of dir; a JobException when it runs or is not this user's to remove. */
  public static Removed remove(JobDirectory dir) throws IOException {
    if (!Files.isDirectory(dir.dir(), LinkOption.NOFOLLOW_LINKS)) {
      throw new JobException("no job directory " + dir.dir(), ExitCodes.USAGE);
    }
    Optional<FileLock> lock = dir.tryLock();
    if (lock.isEmpty()) {
      throw new JobException("job '" + dir.name() + "' is running: 'crmpi vacate " + dir.name()
          + "' (or the job's end) first, then remove it", ExitCodes.USAGE);
    }
    try {
      Path sockets = dir.socketDir();
      long[] freed = {0, 0};
      if (!sockets.startsWith(dir.dir()) && Files.isDirectory(sockets, LinkOption.NOFOLLOW_LINKS)) {
        deleteTree(sockets, freed);
      }
      deleteTree(dir.dir(), freed);
      return new Removed(dir.name(), freed[0], freed[1]);
    } finally {
      lock.get().release();
      lock.get().channel().close();
    }
  }

  /** When the job last changed: its state, history or directory, whichever is newest. */
  public static java.time.Instant lastChange(JobDirectory dir) throws IOException {
    java.nio.file.attribute.FileTime newest = Files.getLastModifiedTime(dir.dir(), LinkOption.NOFOLLOW_LINKS);
    for (Path p : new Path[] {dir.history(), dir.dir().resolve("state.json"), dir.log()}) {
      if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
        java.nio.file.attribute.FileTime t = Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS);
        newest = t.compareTo(newest) > 0 ? t : newest;
      }
    }
    return newest.toInstant();
  }

  /** The bytes of the regular files below root, links not followed. */
  public static long size(Path root) throws IOException {
    try (java.util.stream.Stream<Path> s = Files.walk(root)) {
      return s.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).mapToLong(p -> {
        try {
          return Files.size(p);
        } catch (IOException e) {
          return 0;
        }
      }).sum();
    }
  }

  /** Deletes root and everything below it without following a link; adds bytes and files to freed. */
  static void deleteTree(Path root, long[] freed) throws IOException {
    Files.walkFileTree(root, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes a) throws IOException {
        freed[0] += a.isRegularFile() ? a.size() : 0;
        freed[1]++;
        delete(file);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
        if (e != null) {
          throw e;
        }
        delete(d);
        return FileVisitResult.CONTINUE;
      }
    });
  }

  private static void delete(Path p) throws IOException {
    try {
      Files.delete(p);
    } catch (NoSuchFileException e) {
      // gone already
    } catch (IOException e) {
      throw new IOException("cannot remove " + p + ": " + e.getMessage()
          + " (a file of another user's in the job's directory? ask your administrator)", e);
    }
  }
}
