package io.crmpi.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Checks before a job starts that its programs exist: the command itself
 * (on PATH or as a path) and, behind an MPI launcher (mpirun, mpiexec), the
 * MPI program it starts. A missing program is reported in one line instead
 * of a launcher error deep in the job's output.
 */
final class ProgramCheck {
  private static final Set<String> LAUNCHERS = Set.of("mpirun", "mpiexec", "orterun", "mpiexec.hydra",
      "mpirun.openmpi", "mpiexec.openmpi", "mpirun.mpich", "mpiexec.mpich");
  /** Launcher options that take a value (Open MPI and MPICH); the program follows them. */
  private static final Set<String> WITH_VALUE = Set.of("-np", "-n", "-c", "--np", "-N", "--npernode",
      "-npernode", "-H", "-host", "--host", "-hostfile", "--hostfile", "-machinefile", "--machinefile", "-f",
      "-x", "-wdir", "--wdir", "-wd", "--map-by", "-map-by", "--bind-to", "-bind-to", "--rank-by",
      "-rank-by", "-ppn", "-env", "-genv", "-genvlist", "-envlist", "--prefix", "-prefix", "--report-bindings-to",
      "-launcher", "-bootstrap", "-iface", "--tag-output-to", "--output-filename", "-output-filename",
      "--mca", "-mca", "--gmca", "-gmca");
  private static final Set<String> WITH_TWO_VALUES = Set.of("--mca", "-mca", "--gmca", "-gmca", "-env", "-genv");

  private ProgramCheck() {}

  /** Returns a one-line problem, or empty when the programs are there. */
  static Optional<String> problem(List<String> command, Path workdir) {
    String launcher = command.get(0);
    Optional<Path> exe = resolve(launcher, workdir);
    if (exe.isEmpty()) {
      return Optional.of("program '" + launcher + "' not found (not an executable path, not on PATH)");
    }
    if (!LAUNCHERS.contains(Path.of(launcher).getFileName().toString())) {
      return Optional.empty();
    }
    for (int i = 1; i < command.size(); i++) {
      String a = command.get(i);
      if (a.equals("--") || !a.startsWith("-")) {
        String program = a.equals("--") ? (i + 1 < command.size() ? command.get(i + 1) : null) : a;
        if (program == null) {
          return Optional.of(launcher + " is given no program to run");
        }
        return resolve(program, workdir).isPresent() ? Optional.empty()
            : Optional.of("MPI program '" + program + "' not found in " + workdir
                + " or on PATH (the command line is: " + String.join(" ", command) + ")");
      }
      if (WITH_TWO_VALUES.contains(a)) {
        i += 2;
      } else if (WITH_VALUE.contains(a)) {
        i += 1;
      }
    }
    return Optional.of(launcher + " is given no program to run");
  }

  private static Optional<Path> resolve(String program, Path workdir) {
    if (program.contains("/")) {
      Path p = workdir.resolve(program);
      return Files.isRegularFile(p) && Files.isExecutable(p) ? Optional.of(p) : Optional.empty();
    }
    String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
    for (String d : path.split(":")) {
      Path p = Path.of(d.isEmpty() ? "." : d).resolve(program);
      if (Files.isRegularFile(p) && Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }
}
