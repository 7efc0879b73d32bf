package io.crmpi.workdir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Every file of the working directory a node tree has been seen writing,
 * since the agent started: the files a checkpoint records and a restore may
 * roll back. Nothing else in the directory is ever touched.
 */
final class WrittenSet {
  /**
   * @param append whether every descriptor seen writing it only appended
   * @param keys the files (inodes) seen being written under this path
   */
  record Seen(boolean append, Set<FileKey> keys) {}

  private final Map<String, Seen> files = new HashMap<>();

  /** Adds what one scan found; paths are made relative to workdir. */
  synchronized void observe(Iterable<OpenFile> open, Path workdir) {
    for (OpenFile f : open) {
      String rel = relative(workdir, f.path());
      Seen before = files.get(rel);
      Set<FileKey> keys = new HashSet<>(before == null ? Set.of() : before.keys());
      keys.add(f.key());
      files.put(rel, new Seen((before == null || before.append()) && f.append(), Set.copyOf(keys)));
    }
  }

  /**
   * Tracks a file a restored checkpoint recorded, so that later checkpoints
   * record it too, though no descriptor of it has been seen yet.
   */
  synchronized void adopt(String rel, boolean append) {
    files.putIfAbsent(rel, new Seen(append, Set.of()));
  }

  /** A copy: path relative to the working directory, sorted. */
  synchronized SortedMap<String, Seen> view() {
    return new TreeMap<>(files);
  }

  static String relative(Path workdir, Path file) {
    return workdir.relativize(file).toString();
  }
}
