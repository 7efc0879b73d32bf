package io.crmpi.mpitests;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;

/**
 * A real crmpid (bin/crmpid, as root) of a test's own: its socket, state,
 * image key and settings in a directory of the test's, so it never touches
 * the machine's crmpid. close() stops it and prints its log.
 */
final class TestCrmpid implements AutoCloseable {
  final Path dir;
  final Path socket;
  private final Process process;

  private TestCrmpid(Path dir, Path socket, Process process) {
    this.dir = dir;
    this.socket = socket;
    this.process = process;
  }

  /** Starts crmpid in dir (created 0755) with these crmpi.conf lines, and waits until it listens. */
  static TestCrmpid start(Path dir, String settings) throws Exception {
    Files.createDirectories(dir);
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path run = Files.createDirectories(dir.resolve("run"));
    Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path key = Files.createFile(dir.resolve("key"),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    byte[] secret = new byte[64];
    new java.security.SecureRandom().nextBytes(secret);
    Files.write(key, secret);
    Path conf = dir.resolve("crmpi.conf");
    Files.writeString(conf, settings);
    Path socket = run.resolve("crmpid.sock");
    Process p = new ProcessBuilder(Crmpi.HOME.resolve("bin/crmpid").toString(), "--config", conf.toString(),
        "--socket", socket.toString(), "--state-dir", dir.resolve("state").toString(), "--key", key.toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("crmpid.log").toFile()).start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!Files.exists(socket)) {
      assertTrue(p.isAlive(), "crmpid ended: " + Files.readString(dir.resolve("crmpid.log")));
      assertTrue(System.nanoTime() < deadline, "crmpid did not listen within 60 s");
      Thread.sleep(100);
    }
    return new TestCrmpid(dir, socket, p);
  }

  /** Creates the ordinary (system) user when it is missing. */
  static void ensureUser(String user) throws Exception {
    Process p = new ProcessBuilder("sh", "-c", "id " + user + " >/dev/null 2>&1 || useradd --system"
        + " --no-create-home --shell /usr/sbin/nologin " + user).inheritIO().start();
    assertTrue(p.waitFor() == 0, "cannot create user " + user);
  }

  /** A new directory under parent, 0755 so that the test's users reach their job directories in it. */
  static Path openDirectory(Path parent, String prefix) throws Exception {
    Path dir = Files.createTempDirectory(parent, prefix);
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    return dir;
  }

  /** Stops crmpid (when it was started) and deletes the test's directory (when it was made). */
  static void stopAndDelete(TestCrmpid crmpid, Path dir) throws Exception {
    if (crmpid != null) {
      crmpid.close();
    }
    if (dir != null) {
      Crmpi.deleteTree(dir);
    }
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** crmpid's JVM (bin/crmpid execs it): the crmpi-ns runtimes of the node trees it runs are its children. */
  ProcessHandle handle() {
    return process.toHandle();
  }

  @Override
  public void close() throws Exception {
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
    System.err.println("crmpid's log:\n" + Files.readString(dir.resolve("crmpid.log")));
  }
}
