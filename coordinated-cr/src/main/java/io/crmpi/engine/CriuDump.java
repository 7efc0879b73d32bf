package io.crmpi.engine;

import io.crmpi.nativeio.CriuDumpRequest;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * One {@code criu dump} run as a child process of its own, so that a dump
 * that outlives its deadline can be stopped: criu is killed (a dump through
 * libcriu runs in a service child that the caller cannot reach), and the
 * nftables table CRIU locks the tree's network with is removed when criu
 * did not remove it ({@link CriuNetworkLock}). The tree itself stays frozen in crmpi's freezer
 * cgroup; the coordinator aborts the epoch and its RESUME thaws it.
 */
final class CriuDump {
  private static final Logger LOG = Logger.getLogger(CriuDump.class.getName());

  private CriuDump() {}

  /** The command line of the dump (images dir given as a path this JVM's children can open). */
  static List<String> command(Path criu, CriuDumpRequest r) {
    List<String> cmd = new ArrayList<>(List.of(criu.toString(), "dump", "--tree", Long.toString(r.pid()),
        "--images-dir", reachable(r.imagesDir()).toString(), "--log-file", r.logFile(), "-v4",
        "--tcp-established", "--network-lock", "nftables"));
    if (r.leaveRunning()) {
      cmd.add("--leave-running");
    }
    if (r.freezeCgroup() != null) {
      cmd.add("--freeze-cgroup");
      cmd.add(r.freezeCgroup().toString());
    }
    if (r.ghostLimit() > 0) {
      cmd.add("--ghost-limit");
      cmd.add(Integer.toString(r.ghostLimit()));
    }
    for (Map.Entry<String, String> e : r.externalMounts().entrySet()) {
      cmd.add("--external");
      cmd.add("mnt[" + e.getKey() + "]:" + e.getValue());
    }
    return cmd;
  }

  /**
   * Dumps, or throws: with CRIU's error lines when it fails, or naming the
   * deadline when it had to be killed.
   */
  static void run(Path criu, CriuDumpRequest r, Duration timeout) throws IOException {
    Process p = new ProcessBuilder(command(criu, r)).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    boolean done;
    try {
      done = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      done = false;
    }
    Path log = r.imagesDir().resolve(r.logFile());
    if (!done) {
      LOG.warning("criu dump of pid " + r.pid() + " did not finish within " + timeout.toSeconds() + " s; killing it");
      // Its helpers (action scripts, page servers) first: they would outlive it.
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      try {
        p.waitFor(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      CriuNetworkLock.release(r.pid(), log);
      throw new IOException("criu dump of pid " + r.pid() + " did not finish within " + timeout.toSeconds()
          + " s (--dump-timeout); it was killed, and the abort of the epoch thaws the tree");
    }
    if (p.exitValue() != 0) {
      CriuNetworkLock.release(r.pid(), log); // a criu that crashed removed nothing
      throw new IOException("criu dump of pid " + r.pid() + " failed (exit " + p.exitValue() + ")"
          + CriuDiagnosis.report(log, r.imagesDir()));
    }
  }

  /** /proc/self/fd/N names this process's descriptor; a child must be told this process's pid instead. */
  static Path reachable(Path dir) {
    String s = dir.toString();
    return s.startsWith("/proc/self/") ? Path.of("/proc/" + ProcessHandle.current().pid() + "/" + s.substring(11))
        : dir;
  }
}
