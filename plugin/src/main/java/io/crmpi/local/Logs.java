package io.crmpi.local;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.logging.ConsoleHandler;
import java.util.logging.FileHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * crmpi's logging: short "crmpi: ..." lines on stderr for a person, and a
 * timestamped log file per job. Messages name the job and the epoch.
 */
public final class Logs {
  private Logs() {}

  /** Console logging at INFO (FINE with verbose); quiet libraries. */
  public static void console(boolean verbose) {
    Logger root = Logger.getLogger("");
    for (Handler h : root.getHandlers()) {
      root.removeHandler(h);
    }
    ConsoleHandler console = new ConsoleHandler();
    console.setLevel(verbose ? Level.FINE : Level.INFO);
    console.setFormatter(new Formatter() {
      @Override
      public String format(LogRecord r) {
        String level = r.getLevel().intValue() >= Level.WARNING.intValue()
            ? r.getLevel().getName().toLowerCase() + ": " : "";
        return "crmpi: " + level + formatMessage(r) + System.lineSeparator();
      }
    });
    root.addHandler(console);
    root.setLevel(verbose ? Level.FINE : Level.INFO);
    Logger.getLogger("io.crmpi").setLevel(verbose ? Level.FINE : Level.INFO);
    Logger.getLogger("org.quartz").setLevel(Level.WARNING);
  }

  /** Adds the job's log file (appended across runs and restarts). */
  public static Handler toFile(Path file) throws IOException {
    FileHandler h = new FileHandler(file.toString(), true);
    h.setLevel(Level.FINE);
    h.setFormatter(new Formatter() {
      @Override
      public String format(LogRecord r) {
        String thrown = r.getThrown() == null ? "" : " (" + r.getThrown() + ")";
        return Instant.ofEpochMilli(r.getMillis()) + " " + r.getLevel().getName() + " "
            + formatMessage(r) + thrown + System.lineSeparator();
      }
    });
    Logger.getLogger("").addHandler(h);
    return h;
  }
}
