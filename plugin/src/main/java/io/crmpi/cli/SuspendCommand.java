package io.crmpi.cli;

import io.crmpi.local.ControlCommand;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * {@code crmpi suspend}: checkpoints a running job (local mode) and stops
 * it, keeping its node-local copy, so that its CPUs and memory are free
 * until {@code crmpi resume} restores it. When the checkpoint aborts, the
 * job keeps running.
 */
@Command(name = "suspend", description = "Checkpoint a running job and stop it on this machine; 'crmpi resume'"
    + " restores it (from its node-local copy with --local-dir).")
final class SuspendCommand implements Callable<Integer> {
  @Mixin StateDirOption state;

  @Parameters(index = "0", paramLabel = "NAME", description = "The job's name.")
  String name;

  @Override
  public Integer call() throws Exception {
    return ControlRequest.send(state, name, new ControlCommand.Suspend());
  }
}
