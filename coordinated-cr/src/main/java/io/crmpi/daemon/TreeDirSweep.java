package io.crmpi.daemon;

import io.crmpi.engine.MountTable;
import io.crmpi.store.DurableFiles;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * Removes the runtime directories of trees that ended: {@code
 * trees/UID/JOB.NODE.TAG} under crmpid's state directory (the environment
 * file, CRIU's restore logs and work directories, the restore root). A
 * directory goes only when no hosted tree uses it and nothing in it changed
 * for {@code keep} (CRIU's logs stay that long for troubleshooting, and a
 * launch or restore under way has just written there). A directory that
 * holds a mount point, or lies under one, is never entered: a bind mount
 * shares its file system with its source, so only the mount table tells
 * them apart, and removing through one would delete the source's files.
 * Nothing is followed through a symlink.
 */
final class TreeDirSweep {
  private static final Logger LOG = Logger.getLogger(TreeDirSweep.class.getName());
  /** How long an unused runtime directory is kept, by default. */
  static final Duration KEEP = Duration.ofDays(1);

  private final Path trees;
  private final Duration keep;
  private final Clock clock;
  private final Supplier<List<Path>> mountPoints;

  /**
   * @param trees crmpid's {@code STATE/trees}
   * @param mountPoints this process's mount points now (from /proc/self/mountinfo)
   */
  TreeDirSweep(Path trees, Duration keep, Clock clock, Supplier<List<Path>> mountPoints) {
    this.trees = trees.toAbsolutePath().normalize();
    this.keep = keep;
    this.clock = clock;
    this.mountPoints = mountPoints;
  }

  /** The sweep of crmpid's state directory, with the mounts of crmpid's own mount namespace. */
  static TreeDirSweep of(Path stateDir, Clock clock) {
    return new TreeDirSweep(stateDir.resolve("trees"), KEEP, clock, () -> {
      try {
        return MountTable.mountPoints(Files.readAllLines(Path.of("/proc/self/mountinfo")));
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
  }

  /** Removes every runtime directory that is due, except those in inUse; returns how many it removed. */
  int sweep(Set<Path> inUse) {
    if (!Files.isDirectory(trees, LinkOption.NOFOLLOW_LINKS)) {
      return 0;
    }
    List<Path> mounts = mountPoints.get().stream().map(p -> p.toAbsolutePath().normalize()).toList();
    if (mounts.stream().anyMatch(trees::startsWith)) {
      LOG.warning("crmpid: " + trees + " is on a mount of its own or under one: its runtime directories are"
          + " not swept");
      return 0;
    }
    Set<Path> used = inUse.stream().map(p -> p.toAbsolutePath().normalize()).collect(java.util.stream.Collectors
        .toSet());
    int removed = 0;
    for (Path user : children(trees)) {
      if (!user.getFileName().toString().matches("[0-9]{1,10}")) {
        continue;
      }
      for (Path dir : children(user)) {
        if (used.contains(dir) || !quietFor(dir)) {
          continue;
        }
        if (mounts.stream().anyMatch(m -> m.startsWith(dir))) {
          LOG.warning("crmpid: " + dir + " holds a mount point (" + mounts.stream().filter(m -> m.startsWith(dir))
              .findFirst().orElseThrow() + ") though no tree uses it: left as it is; unmount it to let it go");
          continue;
        }
        try {
          DurableFiles.deleteTree(dir); // follows no link: a link is deleted, never its target
          removed++;
        } catch (IOException e) {
          LOG.warning("crmpid: cannot remove the unused runtime directory " + dir + ": " + e.getMessage());
        }
      }
    }
    if (removed > 0) {
      LOG.info("crmpid: removed " + removed + " runtime director" + (removed == 1 ? "y" : "ies")
          + " of trees that ended (unused for " + keep.toHours() + " h)");
    }
    return removed;
  }

  /** Real directories in d (no symlinks), or none when d cannot be read. */
  private static List<Path> children(Path d) {
    try (DirectoryStream<Path> s = Files.newDirectoryStream(d)) {
      List<Path> dirs = new java.util.ArrayList<>();
      for (Path p : s) {
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
          dirs.add(p);
        }
      }
      return dirs;
    } catch (IOException e) {
      LOG.warning("crmpid: cannot read " + d + ": " + e.getMessage());
      return List.of();
    }
  }

  /** Whether neither dir nor anything directly in it changed for keep. */
  private boolean quietFor(Path dir) {
    Instant due = clock.instant().minus(keep);
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
      if (changedAfter(dir, due)) {
        return false;
      }
      for (Path p : s) {
        if (changedAfter(p, due)) {
          return false;
        }
      }
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static boolean changedAfter(Path p, Instant due) throws IOException {
    FileTime t = Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS);
    return t.toInstant().isAfter(due);
  }
}
