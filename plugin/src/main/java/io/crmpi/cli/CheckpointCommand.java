package io.crmpi.cli;

import io.crmpi.local.ControlCommand;
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
    return ControlRequest.send(state, name, new ControlCommand.Checkpoint());
  }
}
