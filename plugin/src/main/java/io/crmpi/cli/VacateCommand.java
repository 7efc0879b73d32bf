package io.crmpi.cli;

import io.crmpi.local.ControlCommand;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * {@code crmpi vacate}: checkpoints a running job and ends it, as before a
 * preemption or a walltime limit (SIGUSR1 to crmpi does the same). When the
 * checkpoint aborts, the job keeps running.
 */
@Command(name = "vacate", description = "Checkpoint a running job and end it; 'crmpi restart' resumes it.")
final class VacateCommand implements Callable<Integer> {
  @Mixin StateDirOption state;

  @Parameters(index = "0", paramLabel = "NAME", description = "The job's name.")
  String name;

  @Override
  public Integer call() throws Exception {
    return ControlRequest.send(state, name, new ControlCommand.Vacate());
  }
}
