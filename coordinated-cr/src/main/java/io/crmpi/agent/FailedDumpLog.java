package io.crmpi.agent;

import io.crmpi.engine.LaunchSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.logging.Logger;

/**
 * CRIU's log of a failed dump, kept: the abort deletes the failed epoch's
 * directory, the log with it, so it is copied to run/NODE/failed-dump.log
 * (the newest failure's), and the error names that copy.
 */
final class FailedDumpLog {
  private static final Logger LOG = Logger.getLogger(FailedDumpLog.class.getName());

  private FailedDumpLog() {}

  /** The dump's error e, naming the kept copy of log instead of log; e itself when there is nothing to keep. */
  static IOException keep(IOException e, Path log, LaunchSpec spec, long epoch) {
    if (!Files.isRegularFile(log, LinkOption.NOFOLLOW_LINKS) || e.getMessage() == null) {
      return e;
    }
    Path kept = spec.runtimeDir().resolve("failed-dump.log");
    try {
      Files.createDirectories(spec.runtimeDir());
      Files.copy(log, kept, StandardCopyOption.REPLACE_EXISTING, LinkOption.NOFOLLOW_LINKS);
    } catch (IOException | RuntimeException copy) {
      LOG.fine(() -> "job " + spec.job() + " epoch " + epoch + ": cannot keep CRIU's log: " + copy);
      return e;
    }
    return new IOException(e.getMessage().replace(log.toString(), kept + ", epoch " + epoch + "'s"), e);
  }
}
