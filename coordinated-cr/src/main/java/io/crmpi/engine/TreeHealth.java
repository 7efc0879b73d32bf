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
   * launcher tears the job down). Only a whole tree's count becomes the
   * baseline of the next check. Returns the number of processes.
   */
  static int requireWhole(Freezer freezer, LocalTree tree) throws IOException {
    int n = requireWhole(Files.readAllLines(freezer.dir().resolve("cgroup.procs")), tree.healthyProcesses());
    tree.healthyProcesses(n);
    return n;
  }

  /** The check of {@link #requireWhole(Freezer, LocalTree)} on the tree's pids, against before; returns the count. */
  static int requireWhole(List<String> pids, int before) throws IOException {
    if (pids.isEmpty()) {
      throw new IOException("the node tree has no processes left");
    }
    if (pids.size() < before) {
      // The baseline stays: a job whose launcher hangs after a rank died (an abort waiting on a cut network)
      // must not have its later checkpoints taken as healthy, and replace its good epochs.
      throw new IOException("the node tree has " + pids.size() + " processes, " + before
          + " at its last healthy checkpoint: a process ended, the job may be failing; no checkpoint is taken"
          + " until it has its processes back or restarts");
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
