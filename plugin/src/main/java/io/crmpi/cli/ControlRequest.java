package io.crmpi.cli;

import io.crmpi.local.ControlAnswer;
import io.crmpi.local.ControlCommand;
import io.crmpi.local.ControlWire;
import io.crmpi.local.ExitCodes;
import io.crmpi.local.JobDirectory;
import io.crmpi.local.JobException;
import java.io.IOException;
import java.nio.file.Path;

/** Sends one request to a running job and turns the answer into output and an exit code. */
final class ControlRequest {
  private ControlRequest() {}

  static int send(StateDirOption state, String name, ControlCommand command) throws IOException {
    JobDirectory dir = state.existing(name);
    name = dir.name();
    if (!dir.isLocked()) {
      throw new JobException("job '" + name + "' is not running ('crmpi status " + name + "' shows how it ended)",
          ExitCodes.USAGE);
    }
    Path socket = dir.readState().map(s -> Path.of(s.controlSocket())).orElse(dir.controlSocket());
    ControlAnswer answer;
    try {
      answer = ControlWire.request(socket, command);
    } catch (IOException e) {
      throw new JobException("cannot reach job '" + name + "' at " + socket + ": " + e.getMessage(), ExitCodes.ERROR);
    }
    if (answer instanceof ControlAnswer.Ok) {
      System.out.println(answer.message());
      return ExitCodes.OK;
    }
    System.err.println("crmpi: " + answer.message());
    return ExitCodes.CHECKPOINT_ABORTED;
  }
}
