package io.crmpi.daemon;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which Slurm job a process runs in, as the process tree says: a process
 * of a job step descends from that step's slurmstepd (root's, named
 * "slurmstepd: [JOB.STEP]"). A user cannot put a process of theirs under
 * another job's slurmstepd (Slurm runs only the job's owner's processes
 * there), so this works with every proctrack plugin, cgroups or not.
 */
final class SlurmMembership {
  private static final Pattern STEPD = Pattern.compile("slurmstepd: \\[(\\d+)\\.[A-Za-z0-9_]+\\]");
  private static final int MAX_DEPTH = 64;
  private final Path proc;

  SlurmMembership(Path proc) {
    this.proc = proc;
  }

  /** The Slurm job id a tree's job key names ("slurm-123"), if it is a Slurm job's. */
  static OptionalLong slurmJobOf(TreeId tree) {
    long id = io.crmpi.engine.JobNetworkPlan.slurmJobId(tree.job());
    return id > 0 ? OptionalLong.of(id) : OptionalLong.empty();
  }

  /** The id of the Slurm job that pid runs in, if any: its nearest slurmstepd ancestor's. */
  Optional<Long> jobOf(long pid) {
    long p = pid;
    for (int depth = 0; depth < MAX_DEPTH && p > 1; depth++) {
      Path dir = proc.resolve(Long.toString(p));
      try {
        String cmdline = Files.readString(dir.resolve("cmdline")).replace('\0', ' ').strip();
        Matcher m = STEPD.matcher(cmdline);
        if (m.matches() && rootOwned(dir)) {
          return Optional.of(Long.parseLong(m.group(1)));
        }
        p = parent(Files.readString(dir.resolve("stat")));
      } catch (IOException | RuntimeException e) {
        return Optional.empty();
      }
    }
    return Optional.empty();
  }

  private static boolean rootOwned(Path dir) throws IOException {
    for (String line : Files.readAllLines(dir.resolve("status"))) {
      if (line.startsWith("Uid:")) {
        return line.substring(4).strip().split("\\s+")[1].equals("0");
      }
    }
    return false;
  }

  /** The ppid field of /proc/PID/stat (after the command name, which may contain anything). */
  private static long parent(String stat) {
    String rest = stat.substring(stat.lastIndexOf(')') + 2);
    return Long.parseLong(rest.split(" ")[1]);
  }
}
