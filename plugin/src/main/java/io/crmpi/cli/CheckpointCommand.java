package io.crmpi.cli;

import io.crmpi.local.ControlClient;
import io.crmpi.local.ExitCodes;
import io.crmpi.local.JobDirectory;
import io.crmpi.local.JobException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code crmpi checkpoint}: asks a running job for a checkpoint now and waits for its outcome. */
@Command(name = "checkpoint", description = "Take a checkpoint of a running job now.")
final class CheckpointCommand implements Callable<Integer> {
  @Mixin StateDirOption state;

  @Parameters(index = "0", paramLabel = "NAME", description = "The job's name.")
  String name;

  @Override
  public Integer call() throws Exception {
    JobDirectory dir = state.existing(name);
    if (!dir.isLocked()) {
      throw new JobException("job '" + name + "' is not running ('crmpi status " + name + "' shows how it ended)",
          ExitCodes.USAGE);
    }
    Path socket = dir.readState().map(s -> Path.of(s.controlSocket())).orElse(dir.controlSocket());
    String answer;
    try {
      answer = ControlClient.request(socket, "checkpoint");
    } catch (IOException e) {
      throw new JobException("cannot reach job '" + name + "' at " + socket + ": " + e.getMessage(), ExitCodes.ERROR);
    }
    if (answer.startsWith("OK ")) {
      System.out.println(answer.substring(3));
      return ExitCodes.OK;
    }
    System.err.println("crmpi: " + answer.replaceFirst("^ERR ", ""));
    return ExitCodes.CHECKPOINT_ABORTED;
  }
}
