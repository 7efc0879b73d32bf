package io.crmpi.cli;

import io.crmpi.local.ExitCodes;
import io.crmpi.local.JobException;
import io.crmpi.local.Logs;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The crmpi command: {@code run}, {@code restart}, {@code status},
 * {@code checkpoint}, {@code vacate}, {@code manifest}, {@code rm} and {@code gc}. Errors are one line on stderr
 * with a non-zero exit code ({@link ExitCodes}).
 */
@Command(name = "crmpi", mixinStandardHelpOptions = true, version = "crmpi 0.1.0",
    description = "Coordinated checkpoint/restart for MPI jobs (CRIU, Open MPI, Slurm).",
    subcommands = {RunCommand.class, AgentCommand.class, DaemonCommand.class, RestartCommand.class, StatusCommand.class, CheckpointCommand.class, VacateCommand.class, SuspendCommand.class,
        ManifestCommand.class, ReportCommand.class, RmCommand.class, GcCommand.class, CommandLine.HelpCommand.class})
public final class Main {
  public static void main(String[] args) {
    io.crmpi.local.VacateSignal.hold(); // first: a SIGUSR1 that came while the JVM started waits, blocked
    System.exit(execute(args));
  }

  static int execute(String[] args) {
    Logs.console(System.getenv("CRMPI_VERBOSE") != null);
    CommandLine cli = new CommandLine(new Main());
    cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
      if (e instanceof JobException je) {
        cmd.getErr().println("crmpi: " + je.getMessage());
        return je.exitCode();
      }
      if (e instanceof IllegalArgumentException) {
        cmd.getErr().println("crmpi: " + e.getMessage());
        return ExitCodes.USAGE;
      }
      cmd.getErr().println("crmpi: " + e.getMessage());
      if (System.getenv("CRMPI_VERBOSE") != null) {
        e.printStackTrace(cmd.getErr());
      }
      return ExitCodes.ERROR;
    });
    cli.setParameterExceptionHandler((e, a) -> {
      e.getCommandLine().getErr().println("crmpi: " + e.getMessage());
      e.getCommandLine().getErr().println("Try 'crmpi " + e.getCommandLine().getCommandName()
          + " --help'.");
      return ExitCodes.USAGE;
    });
    return cli.execute(args);
  }
}
