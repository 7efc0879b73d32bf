package io.crmpi.cli;

import io.crmpi.local.LocalJob;
import picocli.CommandLine.Option;

/** The protocol timeouts of {@code run} and {@code restart}. */
final class TimeoutOptions {
  @Option(names = "--prepare-timeout", paramLabel = "DURATION", defaultValue = "60s",
      description = "How long quiescing and freezing the ranks may take. Default: ${DEFAULT-VALUE}.")
  String prepareTimeout;

  @Option(names = "--dump-timeout", paramLabel = "DURATION", defaultValue = "30m",
      description = "How long a dump (and its fsync) may take. Default: ${DEFAULT-VALUE}.")
  String dumpTimeout;

  @Option(names = "--restore-probation", paramLabel = "DURATION", defaultValue = "5s",
      description = "How long a restored job must keep every process of its image before the restore counts"
          + " and the job is checkpointed again; a job that loses one is restored from the previous epoch."
          + " Default: ${DEFAULT-VALUE}.")
  String restoreProbation;

  LocalJob.Settings settings() {
    return Installation.settings(RunCommand.parse(prepareTimeout, "--prepare-timeout"),
        RunCommand.parse(dumpTimeout, "--dump-timeout"), RunCommand.parse(restoreProbation, "--restore-probation"));
  }
}
