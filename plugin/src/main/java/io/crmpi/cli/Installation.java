package io.crmpi.cli;

import io.crmpi.fault.Faults;
import io.crmpi.local.LocalJob;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** Where crmpi's own parts are (set by bin/crmpi) and the run-time tunables. */
final class Installation {
  private Installation() {}

  static Path crmpiNs() {
    String p = System.getProperty("crmpi.ns", System.getenv("CRMPI_NS"));
    if (p == null || !Files.isExecutable(Path.of(p))) {
      throw new IllegalStateException("crmpi-ns not found (" + p + "): start crmpi through bin/crmpi after"
          + " scripts/setup.sh");
    }
    return Path.of(p);
  }

  static LocalJob.Settings settings(Duration prepare, Duration dump) {
    return new LocalJob.Settings(crmpiNs(), prepare, dump, dump, Faults.fromEnvironment());
  }
}
