package io.crmpi.mpitests;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Test harness: runs the real bin/crmpi (which runs real CRIU and Open MPI)
 * in a per-test state directory and working directory, and the same MPI
 * program without crmpi for the reference output.
 */
final class Crmpi {
  static final Path REPO = Path.of(System.getProperty("crmpi.repo", "..")).toAbsolutePath().normalize();
  /**
   * The crmpi installation the tests run (bin/crmpi, bin/crmpid): this
   * checkout, or with -Dcrmpi.home an installed one (scripts/package-test.sh
   * runs a Slurm test against the unpacked tarball).
   */
  static final Path HOME = Path.of(System.getProperty("crmpi.home", REPO.toString())).toAbsolutePath().normalize();
  static final Path MPI_BIN = Path.of(System.getProperty("mpi.bin", "target/bin")).toAbsolutePath();
  static final Duration JOB_TIMEOUT = Duration.ofMinutes(4);
  private static final Map<String, byte[]> REFERENCES = new ConcurrentHashMap<>();
  /** Who runs the reference runs (without crmpi). */
  static final String REFERENCE_USER = "crmpi-test1";

  final Path base;
  final Path state;
  final Path workdir;
  /** The ordinary user bin/crmpi runs as (through runuser), or null for root. */
  private final String user;
  private List<Path> cgroups = List.of();

  Crmpi(Path base) throws IOException {
    this(base, null);
  }

  private Crmpi(Path base, String user) throws IOException {
    this.base = base;
    this.user = user;
    this.state = Files.createDirectories(base.resolve("state"));
    this.workdir = Files.createDirectories(base.resolve("work"));
  }

  /** A job of an ordinary user: its state and working directories are theirs, bin/crmpi runs as them. */
  static Crmpi asUser(Path base, String user) throws Exception {
    Crmpi c = new Crmpi(base, user);
    Process p = new ProcessBuilder("chown", "-R", user + ":", c.state.toString(), c.workdir.toString())
        .inheritIO().start();
    assertTrue(p.waitFor() == 0, "chown of " + base + " to " + user);
    return c;
  }

  /** The bytes of the regular files under dir. */
  static long sizeOf(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(p -> Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS))
          .mapToLong(p -> p.toFile().length()).sum();
    }
  }

  /** A file of the job's owner in the working directory, as the user would have put it there. */
  Path ownersFile(String rel, String content) throws IOException {
    Path file = workdir.resolve(rel);
    Files.createDirectories(file.getParent());
    Files.writeString(file, content);
    if (user != null) {
      Files.setOwner(file, file.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(user));
    }
    return file;
  }

  /** bin/crmpi starts in these cgroups (e.g. a user's session: what crmpid puts the job's trees under). */
  Crmpi inCgroups(List<Path> dirs) {
    this.cgroups = List.copyOf(dirs);
    return this;
  }

  /** The command line of a program of mpi-tests under mpirun with n ranks. */
  static List<String> mpirun(int ranks, String program, String... args) {
    List<String> cmd = new ArrayList<>(List.of("mpirun", "-np", Integer.toString(ranks), "--oversubscribe",
        MPI_BIN.resolve(program).toString()));
    cmd.addAll(List.of(args));
    return cmd;
  }

  /** Starts bin/crmpi with the given arguments (after --state-dir), output to files in base. */
  Process start(String label, Map<String, String> env, List<String> args) throws IOException {
    List<String> cmd = new ArrayList<>();
    if (!cgroups.isEmpty()) {
      StringBuilder join = new StringBuilder();
      for (Path d : cgroups) {
        join.append("echo $$ > '").append(d).append("/cgroup.procs' || exit 99; ");
      }
      cmd.addAll(List.of("sh", "-c", join + "exec \"$0\" \"$@\""));
    }
    if (user != null) {
      cmd.addAll(List.of("runuser", "-u", user, "--"));
    }
    cmd.add(HOME.resolve("bin/crmpi").toString());
    if (!args.isEmpty()) {
      cmd.add(args.get(0));
      cmd.add("--state-dir");
      cmd.add(state.toString());
      cmd.addAll(args.subList(1, args.size()));
    }
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(workdir.toFile())
        .redirectOutput(base.resolve(label + ".out").toFile())
        .redirectError(base.resolve(label + ".err").toFile())
        .redirectInput(new File("/dev/null"));
    pb.environment().putAll(env);
    return pb.start();
  }

  /** Runs bin/crmpi to its end; returns the exit code. */
  Result run(String label, Map<String, String> env, List<String> args) throws Exception {
    Process p = start(label, env, args);
    return await(label, p);
  }

  Result await(String label, Process p) throws Exception {
    if (!p.waitFor(JOB_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      fail(label + " did not end within " + JOB_TIMEOUT + "; stderr:\n" + read(label + ".err"));
    }
    return new Result(p.exitValue(), read(label + ".out"), read(label + ".err"));
  }

  String read(String file) throws IOException {
    Path f = base.resolve(file);
    return Files.exists(f) ? Files.readString(f) : "";
  }

  /** The command line of a program of mpi-tests under MPICH's mpiexec with n ranks. */
  static List<String> mpiexecMpich(int ranks, List<String> options, String program, String... args) {
    List<String> cmd = new ArrayList<>(List.of("mpiexec.mpich", "-n", Integer.toString(ranks)));
    cmd.addAll(options);
    cmd.add(MPI_BIN.resolve(program).toString());
    cmd.addAll(List.of(args));
    return cmd;
  }

  /** The output file of an uninterrupted run of the same program without crmpi. */
  static byte[] reference(int ranks, String program, String output, String... args) throws Exception {
    return reference(mpirun(ranks, program, args), output);
  }

  /**
   * The output file of an uninterrupted run of a command line without crmpi,
   * run as the ordinary user {@value #REFERENCE_USER} (created when missing),
   * like every job of the tests.
   */
  static byte[] reference(List<String> command, String output) throws Exception {
    String key = String.join(" ", command);
    byte[] cached = REFERENCES.get(key);
    if (cached != null) {
      return cached;
    }
    Process user = new ProcessBuilder("sh", "-c", "id " + REFERENCE_USER + " >/dev/null 2>&1 || useradd --system"
        + " --no-create-home --shell /usr/sbin/nologin " + REFERENCE_USER).inheritIO().start();
    assertTrue(user.waitFor() == 0, "cannot create the user " + REFERENCE_USER);
    Path dir = Files.createTempDirectory("crmpi-reference");
    Process chown = new ProcessBuilder("chown", REFERENCE_USER + ":", dir.toString()).inheritIO().start();
    assertTrue(chown.waitFor() == 0, "chown of " + dir);
    List<String> asUser = new ArrayList<>(List.of("runuser", "-u", REFERENCE_USER, "--"));
    asUser.addAll(command);
    ProcessBuilder pb = new ProcessBuilder(asUser).directory(dir.toFile())
        .redirectOutput(dir.resolve("stdout").toFile()).redirectErrorStream(true);
    // The test programs pace their iterations so that a job lasts long enough to be checkpointed;
    // the output does not depend on it, and the reference run needs no pace.
    pb.environment().put("CRMPI_TEST_NO_PAUSE", "1");
    long start = System.nanoTime();
    Process p = pb.start();
    assertTrue(p.waitFor(5, TimeUnit.MINUTES), "the reference run did not end");
    System.out.printf("reference run (%s): %.1f s%n", key, (System.nanoTime() - start) / 1e9);
    if (p.exitValue() != 0) {
      fail("the reference run failed: " + Files.readString(dir.resolve("stdout")));
    }
    byte[] bytes = Files.readAllBytes(dir.resolve(output));
    REFERENCES.put(key, bytes);
    deleteTree(dir);
    return bytes;
  }

  Path jobDir(String job) {
    return state.resolve("jobs").resolve(job);
  }

  /** Committed epochs recorded in the job's history so far. */
  long committedCount(String job) throws IOException {
    Path h = jobDir(job).resolve("history.jsonl");
    if (!Files.exists(h)) {
      return 0;
    }
    try (Stream<String> lines = Files.lines(h)) {
      return lines.filter(l -> l.contains("\"kind\":\"committed\"")).count();
    }
  }

  /** Waits until the job's history shows n committed epochs. */
  void awaitCommitted(String job, long n, Process crmpi) throws Exception {
    long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
    while (committedCount(job) < n) {
      if (!crmpi.isAlive()) {
        fail("crmpi ended (exit " + crmpi.exitValue() + ") before " + n + " checkpoints were committed");
      }
      if (System.nanoTime() > deadline) {
        fail("no " + n + " committed checkpoints within 2 minutes");
      }
      Thread.sleep(100);
    }
  }

  /**
   * A new directory under /dev/shm with /dev/shm's own mode (1777): a
   * node-local checkpoint root every user of the node shares. Delete it with
   * {@link #deleteTree}.
   */
  static Path sharedTmpfsDir(String prefix) throws Exception {
    Path dir = Files.createTempDirectory(Path.of("/dev/shm"), prefix);
    Process chmod = new ProcessBuilder("chmod", "1777", dir.toString()).inheritIO().start();
    assertTrue(chmod.waitFor() == 0, "chmod 1777 " + dir);
    return dir;
  }

  /** Waits until the job's history has count lines containing text. */
  void awaitHistory(String job, String text, long count, Process crmpi) throws Exception {
    Path h = jobDir(job).resolve("history.jsonl");
    long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
    while (!Files.exists(h) || Files.readAllLines(h).stream().filter(l -> l.contains(text)).count() < count) {
      if (!crmpi.isAlive()) {
        fail("crmpi ended (exit " + crmpi.exitValue() + ") before its history had " + count + " x " + text);
      }
      if (System.nanoTime() > deadline) {
        fail("no " + count + " x " + text + " in the job's history within 2 minutes");
      }
      Thread.sleep(100);
    }
  }

  /** Waits until the job's history shows a restore. */
  void awaitRestored(String job, Process crmpi) throws Exception {
    Path h = jobDir(job).resolve("history.jsonl");
    long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
    while (!(Files.exists(h) && Files.readString(h).contains("\"kind\":\"restart\""))) {
      if (!crmpi.isAlive()) {
        fail("crmpi ended (exit " + crmpi.exitValue() + ") before the job was restored");
      }
      if (System.nanoTime() > deadline) {
        fail("no restore within 2 minutes");
      }
      Thread.sleep(100);
    }
  }

  /** SIGSTOPs every process first, so that none can react to another's death, then SIGKILLs them. */
  static void killAtOnce(List<ProcessHandle> victims) throws Exception {
    for (ProcessHandle p : victims) {
      new ProcessBuilder("kill", "-STOP", Long.toString(p.pid())).inheritIO().start().waitFor();
    }
    for (ProcessHandle p : victims) {
      kill9(p.pid());
    }
  }

  /** Whether the process is gone within the given seconds. */
  static boolean awaitGone(ProcessHandle p, int seconds) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
    while (p.isAlive() && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    return !p.isAlive();
  }

  /** The committed epoch directories, oldest first. */
  List<Path> committedEpochs(String job) throws IOException {
    Path epochs = jobDir(job).resolve("checkpoints/epochs");
    try (Stream<Path> s = Files.list(epochs)) {
      return s.filter(p -> Files.exists(p.resolve("manifest.json"))).sorted().toList();
    }
  }

  /** The processes of the MPI program (ranks) under the crmpi process. */
  static List<ProcessHandle> ranks(Process crmpi, String program) {
    String exe = MPI_BIN.resolve(program).toString();
    return crmpi.descendants()
        .filter(ph -> ph.info().command().map(c -> c.equals(exe)).orElse(false))
        .toList();
  }

  static List<ProcessHandle> awaitRanks(Process crmpi, String program, int n) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    List<ProcessHandle> r = ranks(crmpi, program);
    while (r.size() < n && System.nanoTime() < deadline) {
      Thread.sleep(50);
      r = ranks(crmpi, program);
    }
    assertTrue(r.size() >= n, "found " + r.size() + " ranks of " + program + ", expected " + n);
    return r;
  }

  static void kill9(long pid) throws Exception {
    Process k = new ProcessBuilder("kill", "-9", Long.toString(pid)).inheritIO().start();
    k.waitFor();
  }

  /** kill -9 of the crmpi JVM and every process under it, as a crashed machine would. */
  static void killWithItsTree(Process crmpi) throws Exception {
    List<ProcessHandle> tree = new ArrayList<>(crmpi.descendants().toList());
    kill9(crmpi.pid());
    for (ProcessHandle p : tree) {
      kill9(p.pid());
    }
    crmpi.waitFor();
    for (ProcessHandle p : tree) {
      p.onExit().get();
    }
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  record Result(int exitCode, String stdout, String stderr) {
    String describe() {
      return "exit " + exitCode + "\n--- stdout (tail)\n" + tail(stdout) + "\n--- stderr (tail)\n" + tail(stderr);
    }

    private static String tail(String s) {
      return s.length() > 4000 ? s.substring(s.length() - 4000) : s;
    }
  }
}
