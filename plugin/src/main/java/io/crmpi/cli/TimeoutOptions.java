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

  LocalJob.Settings settings() {
    return Installation.settings(RunCommand.parse(prepareTimeout, "--prepare-timeout"),
        RunCommand.parse(dumpTimeout, "--dump-timeout"));
  }
}
