package io.crmpi.cli;

import io.crmpi.fault.Faults;
import io.crmpi.local.LocalJob;
import java.nio.file.Files;
import java.nio.file.Path;
import io.crmpi.slurm.Scontrol;
import io.crmpi.slurm.SlurmJob;
import java.io.IOException;
import java.time.Duration;
import java.util.logging.Logger;

/** Where crmpi's own parts are (set by bin/crmpi) and the run-time tunables. */
final class Installation {
  private static final Logger LOG = Logger.getLogger(Installation.class.getName());
  private Installation() {}

  static Path crmpiNs() {
    String p = System.getProperty("crmpi.ns", System.getenv("CRMPI_NS"));
    if (p == null || !Files.isExecutable(Path.of(p))) {
      throw new IllegalStateException("crmpi-ns not found (" + p + "): start crmpi through bin/crmpi after"
          + " scripts/setup.sh");
    }
    return Path.of(p);
  }

  static LocalJob.Settings settings(Duration prepare, Duration dump, Duration restoreProbation) {
    return new LocalJob.Settings(crmpiNs(), prepare, dump, dump, restoreProbation, Faults.fromEnvironment(),
        Installation::requeue);
  }

  /** After a vacate inside a Slurm job: put the job back in the queue (a clean exit would end it). */
  private static void requeue() {
    SlurmJob.ofThisProcess().ifPresent(job -> {
      try {
        Scontrol.requeue(job.id());
        LOG.info("job " + job.jobKey() + ": requeued in Slurm; it resumes from its checkpoint when it runs again");
      } catch (IOException e) {
        LOG.warning("job " + job.jobKey() + ": " + e.getMessage());
      }
    });
  }
}
