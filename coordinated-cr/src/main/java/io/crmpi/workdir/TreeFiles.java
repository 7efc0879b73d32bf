package io.crmpi.workdir;

import io.crmpi.engine.ProcessTree;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Reads from /proc which files under the working directory the processes of
 * a node tree hold open for writing: every descriptor whose fdinfo flags are
 * O_WRONLY or O_RDWR, and every shared writable mapping. The processes are
 * the tree's init and its descendants (orphans are reparented to the init of
 * the tree's PID namespace, so none escapes the walk).
 *
 * <p>It needs what ptrace's read check allows: the agent runs as the tree's
 * owner (or root). A process it may not read, or that ends during the walk,
 * is skipped.
 */
final class TreeFiles {
  private static final int O_ACCMODE = 03;
  private static final int O_APPEND = 02000;
  private static final String DELETED = " (deleted)";
  private final Path proc;

  TreeFiles(Path proc) {
    this.proc = proc;
  }

  /** The files under workdir (not under an excluded directory) that the tree rooted at rootPid writes. */
  List<OpenFile> scan(long rootPid, Path workdir, Set<Path> excluded) {
    List<OpenFile> found = new ArrayList<>();
    for (long pid : processes(rootPid)) {
      descriptors(pid, workdir, excluded, found);
      mappings(pid, workdir, excluded, found);
    }
    return found;
  }

  /** The root and all its descendants, through /proc/PID/task/TID/children. */
  List<Long> processes(long rootPid) {
    return new ProcessTree(proc).processes(rootPid);
  }

  private void descriptors(long pid, Path workdir, Set<Path> excluded, List<OpenFile> found) {
    Path fdDir = proc.resolve(pid + "/fd");
    try (DirectoryStream<Path> fds = Files.newDirectoryStream(fdDir)) {
      for (Path fd : fds) {
        try {
          Path target = inside(Files.readSymbolicLink(fd).toString(), workdir, excluded);
          if (target == null) {
            continue;
          }
          int flags = flags(proc.resolve(pid + "/fdinfo/" + fd.getFileName()));
          int mode = flags & O_ACCMODE;
          if (mode == 1 || mode == 2) {
            found.add(new OpenFile(target, FileKey.ofDescriptor(fd), (flags & O_APPEND) != 0));
          }
        } catch (IOException | RuntimeException e) {
          // the descriptor was closed meanwhile
        }
      }
    } catch (IOException e) {
      // the process is gone, or not readable
    }
  }

  private void mappings(long pid, Path workdir, Set<Path> excluded, List<OpenFile> found) {
    List<String> maps;
    try {
      maps = Files.readAllLines(proc.resolve(pid + "/maps"));
    } catch (IOException e) {
      return;
    }
    for (String line : maps) {
      if (!sharedWritable(line)) {
        continue; // nearly every line of an MPI rank's maps: not split at all
      }
      String[] f = line.split("\\s+", 6);
      if (f.length < 6) {
        continue;
      }
      Path target = inside(f[5], workdir, excluded);
      if (target != null) {
        try {
          found.add(new OpenFile(target, FileKey.ofPath(target), false));
        } catch (IOException e) {
          // replaced or removed meanwhile
        }
      }
    }
  }

  /**
   * Whether a line of /proc/PID/maps ("start-end perms offset dev inode
   * path") is a shared writable mapping: perms such as "rw-s", "rwxs" or
   * "-w-s" (read, write, execute, then s for shared or p for private).
   */
  static boolean sharedWritable(String line) {
    int perms = line.indexOf(' ') + 1;
    return perms > 0 && line.length() > perms + 3 && line.charAt(perms + 1) == 'w' && line.charAt(perms + 3) == 's';
  }

  /** The path a link or mapping names when it is a live file under workdir, else null. */
  static Path inside(String target, Path workdir, Set<Path> excluded) {
    if (!target.startsWith("/") || target.endsWith(DELETED) || target.contains("\n")) {
      return null;
    }
    Path p = Path.of(target).normalize();
    if (!p.startsWith(workdir) || p.equals(workdir)) {
      return null;
    }
    for (Path x : excluded) {
      if (p.startsWith(x)) {
        return null;
      }
    }
    return p;
  }

  /** The flags line of /proc/PID/fdinfo/N (octal). */
  static int flags(Path fdinfo) throws IOException {
    for (String line : Files.readAllLines(fdinfo)) {
      if (line.startsWith("flags:")) {
        return Integer.parseInt(line.substring(6).trim(), 8);
      }
    }
    throw new IOException(fdinfo + " has no flags line");
  }
}
