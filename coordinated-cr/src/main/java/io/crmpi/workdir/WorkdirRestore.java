package io.crmpi.workdir;

import io.crmpi.nativeio.Posix;
import io.crmpi.store.WorkdirRecord;
import io.crmpi.store.WrittenFile;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.SortedMap;
import java.util.function.Consumer;

/**
 * Rolls the files a node tree wrote back to their state at a checkpoint,
 * before the tree is restored, and touches nothing else:
 * <ul>
 *   <li>a copied file is rewritten from the epoch's copy (through a
 *       temporary file and a rename, so no link is followed), with its mode;</li>
 *   <li>an append-only file is cut back to its length at the checkpoint,
 *       once its first bytes are checked to be what they were;</li>
 *   <li>a file is removed only when this agent saw the tree write that very
 *       file (inode) and the file system says it was created after the
 *       checkpoint.</li>
 * </ul>
 * Whatever cannot be done safely is left as it is, with a warning.
 */
final class WorkdirRestore {
  private static final String TMP_SUFFIX = ".crmpi-restore";

  private final Path workdir;
  private final Consumer<String> log;

  WorkdirRestore(Path workdir, Consumer<String> log) {
    this.workdir = workdir;
    this.log = log;
  }

  /**
   * @param seen what this agent saw the tree write since it started (empty
   *     for an agent that did not run the job before)
   */
  void apply(WorkdirRecord record, Path snapshot, SortedMap<String, WrittenSet.Seen> seen) throws IOException {
    Set<String> recorded = new HashSet<>();
    for (WrittenFile f : record.files()) {
      recorded.add(f.path());
      switch (f.state()) {
        case COPY -> putBack(f, snapshot.resolve(f.path()));
        case APPEND -> cutBack(f);
        case ABSENT -> removeIfCreatedAfter(f.path(), seen.get(f.path()), record.capturedAt());
        default -> throw new IllegalStateException(f.state().toString());
      }
    }
    for (Map.Entry<String, WrittenSet.Seen> e : seen.entrySet()) {
      if (!recorded.contains(e.getKey())) {
        removeIfCreatedAfter(e.getKey(), e.getValue(), record.capturedAt());
      }
    }
  }

  /** Restores a manifest of an earlier crmpi, whose snapshot lists copies but no written-file record. */
  void applyCopies(List<io.crmpi.store.FileDigest> copies, Path snapshot) throws IOException {
    for (io.crmpi.store.FileDigest c : copies) {
      Path copy = snapshot.resolve(c.path());
      putBack(new WrittenFile(c.path(), WrittenFile.State.COPY, c.size(), c.sha256(), Reach.mode(copy)), copy);
    }
  }

  private void putBack(WrittenFile f, Path copy) throws IOException {
    Path live = workdir.resolve(f.path());
    if (!directoriesFor(live)) {
      log.accept("warning: cannot restore " + f.path() + ": a directory on its way is not a directory (a"
          + " symlink?); left as it is");
      return;
    }
    PosixFileAttributes a = Reach.regularFile(workdir, f.path());
    if (a != null && a.size() == f.size() && Sha256.ofPrefix(live, f.size()).equals(f.sha256())) {
      setMode(live, f.mode());
      return;
    }
    Path tmp = live.resolveSibling(live.getFileName() + TMP_SUFFIX);
    Files.deleteIfExists(tmp);
    try (InputStream in = Files.newInputStream(copy, LinkOption.NOFOLLOW_LINKS);
        OutputStream out = Files.newOutputStream(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      in.transferTo(out);
    }
    Files.setLastModifiedTime(tmp, Files.getLastModifiedTime(copy, LinkOption.NOFOLLOW_LINKS));
    Files.setAttribute(tmp, "unix:mode", f.mode(), LinkOption.NOFOLLOW_LINKS);
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
      ch.force(true);
    }
    Files.move(tmp, live, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    log.accept("restored " + f.path() + " (" + f.size() + " bytes) to its checkpoint state");
  }

  private void cutBack(WrittenFile f) throws IOException {
    PosixFileAttributes a = Reach.regularFile(workdir, f.path());
    Path live = workdir.resolve(f.path());
    if (a == null) {
      log.accept("warning: cannot cut " + f.path() + " back to " + f.size() + " bytes: it is gone or no longer a"
          + " regular file");
      return;
    }
    if (a.size() < f.size()) {
      log.accept("warning: " + f.path() + " is shorter (" + a.size() + " bytes) than at the checkpoint ("
          + f.size() + "); left as it is");
      return;
    }
    if (!Sha256.ofPrefix(live, f.size()).equals(f.sha256())) {
      log.accept("warning: the first " + f.size() + " bytes of " + f.path() + " changed since the checkpoint;"
          + " left as it is");
      return;
    }
    if (a.size() > f.size()) {
      try (FileChannel ch = FileChannel.open(live, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
        ch.truncate(f.size());
        ch.force(true);
      }
      log.accept("cut " + f.path() + " back from " + a.size() + " to " + f.size() + " bytes");
    }
    setMode(live, f.mode());
  }

  private void removeIfCreatedAfter(String rel, WrittenSet.Seen seen, Instant checkpoint) throws IOException {
    PosixFileAttributes a = Reach.regularFile(workdir, rel);
    if (a == null) {
      return;
    }
    Path live = workdir.resolve(rel);
    if (seen == null || !seen.keys().contains(FileKey.ofPath(live))) {
      log.accept("left " + rel + " as it is: it did not exist at the checkpoint, and this agent did not see the"
          + " job write this file");
      return;
    }
    OptionalLong born = Posix.birthTime(live);
    long at = checkpoint.getEpochSecond() * 1_000_000_000L + checkpoint.getNano();
    if (born.isEmpty()) {
      log.accept("left " + rel + " as it is: the file system does not record when it was created");
    } else if (born.getAsLong() > at) {
      Files.delete(live);
      log.accept("removed " + rel + ": the job created it after the checkpoint");
    } else {
      log.accept("left " + rel + " as it is: the job first wrote it after the checkpoint, when no copy of it"
          + " was kept");
    }
  }

  /** Creates the missing directories down to file's parent; false when something on the way is no directory. */
  private boolean directoriesFor(Path file) throws IOException {
    Path rel = workdir.relativize(file.getParent());
    Path at = workdir;
    for (Path part : rel) {
      if (part.toString().isEmpty()) {
        continue;
      }
      at = at.resolve(part);
      if (!Files.exists(at, LinkOption.NOFOLLOW_LINKS)) {
        Files.createDirectory(at);
      } else if (!Files.isDirectory(at, LinkOption.NOFOLLOW_LINKS)) {
        return false;
      }
    }
    return true;
  }

  private static void setMode(Path live, int mode) throws IOException {
    if (Reach.mode(live) != mode) {
      Files.setAttribute(live, "unix:mode", mode, LinkOption.NOFOLLOW_LINKS);
    }
  }
}
