package io.crmpi.local;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import io.crmpi.nativeio.Posix;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;

/**
 * The directory of one job under the state root ({@code STATE/jobs/NAME}):
 *
 * <pre>
 * job.json        what the job is (JobSpec)
 * state.json      where it stands (JobState)
 * history.jsonl   every epoch's outcome and every restart
 * crmpi.log       crmpi's log of the job
 * output.log      the job's stdout and stderr
 * lock            held by the crmpi process that runs the job
 * checkpoints/    the checkpoint store (epochs/NNNNNNNNNN/...)
 * run/NODE/       the node agent's runtime files
 * </pre>
 */
public final class JobDirectory {
  private final Path dir;
  private final String name;

  private JobDirectory(Path dir, String name) {
    this.dir = dir;
    this.name = name;
  }

  public static JobDirectory of(Path stateRoot, String name) {
    JobSpec.requireValidName(name);
    return new JobDirectory(stateRoot.toAbsolutePath().normalize().resolve("jobs").resolve(name), name);
  }

  /** The default state root: $CRMPI_STATE_DIR, else ~/.crmpi. */
  public static Path defaultStateRoot() {
    String env = System.getenv("CRMPI_STATE_DIR");
    if (env != null && !env.isBlank()) {
      return Path.of(env);
    }
    return Path.of(System.getProperty("user.home"), ".crmpi");
  }

  public String name() {
    return name;
  }

  public Path dir() {
    return dir;
  }

  public boolean exists() {
    return Files.exists(dir.resolve("job.json"));
  }

  public Path checkpoints() {
    return dir.resolve("checkpoints");
  }

  public Path runtime(String node) {
    return dir.resolve("run").resolve(node);
  }

  public Path log() {
    return dir.resolve("crmpi.log");
  }

  public Path output() {
    return dir.resolve("output.log");
  }

  public Path history() {
    return dir.resolve("history.jsonl");
  }

  /**
   * The private directory of the job's Unix sockets (see PrivateSockets):
   * sock/ in the job directory, or, when a socket path there would not fit
   * a Unix socket address (108 bytes), /tmp/crmpi-UID/HASH, the same path on
   * every node and for every run of the job (restored ranks reconnect to
   * the path they knew). Never a name in /tmp that another user could take.
   */
  public Path socketDir() {
    Path inside = dir.resolve("sock");
    if (inside.resolve("ranks-node9999.sock").toString().getBytes(StandardCharsets.UTF_8).length < 100) {
      return inside;
    }
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest(dir.toString().getBytes(StandardCharsets.UTF_8));
      return Path.of("/tmp", "crmpi-" + Posix.uid(), HexFormat.of().formatHex(h, 0, 8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The control socket (crmpi checkpoint, vacate, status). */
  public Path controlSocket() {
    return socketDir().resolve("control.sock");
  }

  /** The socket crmpi-rsh in node's tree asks to start launcher daemons on other nodes. */
  public Path launchSocket(String node) {
    return socketDir().resolve("launch-" + node + ".sock");
  }

  /** The socket the ranks of node connect to (libcrmpi's CRMPI_AGENT_SOCKET). */
  public Path rankSocket(String node) {
    return socketDir().resolve("ranks-" + node + ".sock");
  }

  /** Creates the directory; fails with a clear message when it cannot be written. */
  public void create() throws IOException {
    try {
      Files.createDirectories(dir);
      // The job's images, environment and sockets are its owner's alone.
      if (Files.getOwner(dir).equals(io.crmpi.security.PrivateSockets.owner())) {
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
      }
      Files.createDirectories(checkpoints());
    } catch (AccessDeniedException e) {
      throw new JobException("cannot create the job directory " + dir + ": permission denied"
          + " (choose a writable --state-dir)", ExitCodes.USAGE);
    } catch (IOException e) {
      throw new JobException("cannot create the job directory " + dir + ": " + e.getClass().getSimpleName()
          .replace("FileSystemException", "") + " " + e.getMessage() + " (choose a writable --state-dir)",
          ExitCodes.USAGE);
    }
    if (!Files.isWritable(dir) || !Files.isWritable(checkpoints())) {
      throw new JobException("the job directory " + dir + " is not writable (choose a writable --state-dir)",
          ExitCodes.USAGE);
    }
  }

  public JobSpec readSpec() throws IOException {
    return Json.read(dir.resolve("job.json"), JobSpec.class);
  }

  public void writeSpec(JobSpec spec) throws IOException {
    Json.writeAtomically(dir.resolve("job.json"), spec);
  }

  public Optional<JobState> readState() throws IOException {
    Path f = dir.resolve("state.json");
    return Files.exists(f) ? Optional.of(Json.read(f, JobState.class)) : Optional.empty();
  }

  public void writeState(JobState state) throws IOException {
    Json.writeAtomically(dir.resolve("state.json"), state);
  }

  /**
   * Takes the job's lock, held until the process ends; empty when another
   * process holds it (the job is running).
   */
  public Optional<FileLock> tryLock() throws IOException {
    FileChannel ch = FileChannel.open(dir.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    try {
      FileLock lock = ch.tryLock();
      if (lock == null) {
        ch.close();
        return Optional.empty();
      }
      return Optional.of(lock);
    } catch (OverlappingFileLockException e) {
      ch.close();
      return Optional.empty();
    }
  }

  /** Whether some process holds the job's lock right now. */
  public boolean isLocked() throws IOException {
    if (!Files.exists(dir.resolve("lock"))) {
      return false;
    }
    Optional<FileLock> lock = tryLock();
    if (lock.isEmpty()) {
      return true;
    }
    lock.get().release();
    lock.get().channel().close();
    return false;
  }

  /**
   * Moves this job directory out of the way, to NAME.superseded-TIME next
   * to it, and returns where it went: the state of an earlier job that had
   * the same key (a Slurm job id that repeats on a new cluster, or on
   * another cluster sharing the state directory) is kept, but never resumed
   * by a new job. Refused while a crmpi process runs that job.
   */
  public Path setAside(java.time.Instant now) throws IOException {
    if (isLocked()) {
      throw new JobException("job " + name + " in " + dir + " is running right now (another cluster sharing this"
          + " state directory?): give this job its own --state-dir", ExitCodes.USAGE);
    }
    String stamp = java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss")
        .withZone(java.time.ZoneOffset.UTC).format(now);
    Path aside = dir.resolveSibling(name + ".superseded-" + stamp);
    for (int i = 2; Files.exists(aside); i++) {
      aside = dir.resolveSibling(name + ".superseded-" + stamp + "-" + i);
    }
    Files.move(dir, aside, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    return aside;
  }
}
