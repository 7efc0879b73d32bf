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

  /**
   * Removes the job of dir; a JobException when it runs or is not this
   * user's to remove. The directory is first renamed out of the job's name
   * (under its lock), so no crmpi can start the job while it is deleted.
   */
  public static Removed remove(JobDirectory dir) throws IOException {
    if (!Files.isDirectory(dir.dir(), LinkOption.NOFOLLOW_LINKS)) {
      throw new JobException("no job directory " + dir.dir(), ExitCodes.USAGE);
    }
    java.nio.file.attribute.UserPrincipal me = io.crmpi.security.PrivateSockets.owner();
    java.nio.file.attribute.UserPrincipal owner = Files.getOwner(dir.dir(), LinkOption.NOFOLLOW_LINKS);
    if (!owner.equals(me)) {
      // Root deleting a tree a user can change under it could be led anywhere: the owner removes their jobs.
      throw new JobException("job '" + dir.name() + "' belongs to " + owner.getName() + ": only its owner removes"
          + " it (as root: runuser -u " + owner.getName() + " -- crmpi rm ...)", ExitCodes.USAGE);
    }
    Optional<FileLock> lock = dir.tryLock();
    if (lock.isEmpty()) {
      throw new JobException("job '" + dir.name() + "' is running: 'crmpi vacate " + dir.name()
          + "' (or the job's end) first, then remove it", ExitCodes.USAGE);
    }
    Path sockets = dir.socketDir();
    Path local = localCopies(dir);
    Path tombstone = dir.dir().resolveSibling("." + dir.name() + ".removing-" + System.nanoTime());
    try {
      Files.move(dir.dir(), tombstone, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    } finally {
      lock.get().release();
      lock.get().channel().close();
    }
    long[] freed = {0};
    if (!sockets.startsWith(dir.dir()) && ownedDirectory(sockets, me) && ownedDirectory(sockets.getParent(), me)) {
      deleteTree(sockets, freed);
    }
    deleteTree(tombstone, freed);
    // This node's node-local copies (other nodes' go with the job's success, or their node's cleanup).
    if (local != null && ownedDirectory(local, me) && ownedDirectory(local.getParent(), me)) {
      deleteTree(local, freed);
    }
    return new Removed(dir.name(), freed[0]);
  }

  /** The job's directory at the node-local level on this node, or null when it has none. */
  private static Path localCopies(JobDirectory dir) {
    try {
      StorageSpec storage = dir.readSpec().storage();
      if (storage.localDir() == null) {
        return null;
      }
      return io.crmpi.store.NodeLocalLevel.of(Path.of(storage.localDir()), io.crmpi.nativeio.Posix.uid(), dir.name())
          .jobDir();
    } catch (IOException | RuntimeException e) {
      return null; // no readable spec: nothing known outside the job directory
    }
  }

  /** A real directory (not a link) of this user's: the only kind removed outside the state directory. */
  private static boolean ownedDirectory(Path p, java.nio.file.attribute.UserPrincipal me) throws IOException {
    return Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) && Files.getOwner(p, LinkOption.NOFOLLOW_LINKS).equals(me);
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

  /** The bytes removing root frees: every file once, however many hard links to it root holds. */
  public static long size(Path root) throws IOException {
    return DurableFiles.bytesFreedByDeleting(root);
  }

  /** Deletes root and everything below it without following a link; adds its bytes to freed. */
  static void deleteTree(Path root, long[] freed) throws IOException {
    freed[0] += DurableFiles.bytesFreedByDeleting(root);
    try {
      DurableFiles.deleteTree(root);
    } catch (IOException e) {
      throw new IOException("cannot remove " + root + ": " + e
          + " (a file of another user's in the job's directory? ask your administrator)", e);
    }
  }
}
