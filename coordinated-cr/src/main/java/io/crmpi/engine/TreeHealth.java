package io.crmpi.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * Checks that a frozen node tree is whole: no process of it is dead
 * (zombie) or has a SIGKILL pending. A rank killed while its tree was
 * frozen for a dump would otherwise be saved dying, and every restore of
 * that image would replay its death.
 */
final class TreeHealth {
  private static final long SIGKILL_BIT = 1L << (9 - 1);

  private TreeHealth() {}

  /**
   * Throws an IOException naming the first broken process, or when the tree
   * has fewer processes than at its previous checkpoint, or than the image
   * it was restored from (a rank that died and was reaped while its
   * launcher tears the job down). Returns the number of processes.
   */
  static int requireWhole(Freezer freezer, LocalTree tree) throws IOException {
    List<String> pids = Files.readAllLines(freezer.dir().resolve("cgroup.procs"));
    if (pids.isEmpty()) {
      throw new IOException("the node tree has no processes left");
    }
    int before = tree.healthyProcesses();
    tree.healthyProcesses(pids.size());
    if (pids.size() < before) {
      throw new IOException("the node tree has " + pids.size() + " processes, " + before
          + " at its previous checkpoint: a process ended, the job may be failing");
    }
    for (String pid : pids) {
      Path proc = Path.of("/proc", pid.strip());
      List<String> status;
      try {
        status = Files.readAllLines(proc.resolve("status"));
      } catch (NoSuchFileException e) {
        throw new IOException("process " + pid + " of the node tree vanished during the checkpoint");
      }
      String name = "?";
      for (String line : status) {
        if (line.startsWith("Name:")) {
          name = line.substring(5).strip();
        } else if (line.startsWith("State:") && (line.contains("Z (zombie)") || line.contains("X (dead)"))) {
          throw new IOException("process " + pid + " (" + name + ") of the node tree died during the checkpoint");
        } else if ((line.startsWith("SigPnd:") || line.startsWith("ShdPnd:"))
            && (Long.parseUnsignedLong(line.substring(7).strip(), 16) & SIGKILL_BIT) != 0) {
          throw new IOException("process " + pid + " (" + name + ") of the node tree was killed during the checkpoint");
        }
      }
    }
    return pids.size();
  }
}
