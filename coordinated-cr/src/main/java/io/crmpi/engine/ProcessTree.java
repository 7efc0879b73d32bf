package io.crmpi.engine;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;

/**
 * A process and its descendants, as /proc/PID/task/TID/children lists them
 * (host pids). A tree's init is the reaper of its PID namespace, so no
 * process of the tree escapes the walk. A process that ends during the
 * walk, or that the caller may not read, is skipped.
 */
public final class ProcessTree {
  private final Path proc;

  public ProcessTree(Path proc) {
    this.proc = proc;
  }

  /** root and all its descendants, parents before their children. */
  public List<Long> processes(long root) {
    List<Long> all = new ArrayList<>();
    Set<Long> seen = new HashSet<>();
    Deque<Long> todo = new ArrayDeque<>(List.of(root));
    while (!todo.isEmpty()) {
      long pid = todo.removeFirst();
      if (seen.add(pid)) {
        all.add(pid);
        todo.addAll(children(pid));
      }
    }
    return all;
  }

  /** The lowest pid among root's descendants that have no children of their own (a rank, in an MPI job). */
  public OptionalLong firstLeaf(long root) {
    return processes(root).stream().filter(p -> p != root && children(p).isEmpty())
        .mapToLong(Long::longValue).min();
  }

  private List<Long> children(long pid) {
    List<Long> out = new ArrayList<>();
    try (DirectoryStream<Path> tasks = Files.newDirectoryStream(proc.resolve(pid + "/task"))) {
      for (Path task : tasks) {
        for (String child : Files.readString(task.resolve("children")).trim().split("\\s+")) {
          if (!child.isEmpty()) {
            out.add(Long.parseLong(child));
          }
        }
      }
    } catch (IOException | NumberFormatException e) {
      // gone, or not ours to read
    }
    return out;
  }
}
