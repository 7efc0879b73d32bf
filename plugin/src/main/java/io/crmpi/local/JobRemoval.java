package io.crmpi.local;

import java.io.IOException;
import io.crmpi.store.DurableFiles;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
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
  public record Removed(String job, long bytes) {}

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
      long[] freed = {0};
      if (!sockets.startsWith(dir.dir()) && Files.isDirectory(sockets, LinkOption.NOFOLLOW_LINKS)) {
        deleteTree(sockets, freed);
      }
      deleteTree(dir.dir(), freed);
      return new Removed(dir.name(), freed[0]);
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
    return DurableFiles.sizeOfTree(root);
  }

  /** Deletes root and everything below it without following a link; adds its bytes to freed. */
  static void deleteTree(Path root, long[] freed) throws IOException {
    freed[0] += DurableFiles.sizeOfTree(root);
    try {
      DurableFiles.deleteTree(root);
    } catch (IOException e) {
      throw new IOException("cannot remove " + root + ": " + e
          + " (a file of another user's in the job's directory? ask your administrator)", e);
    }
  }
}
