package io.crmpi.slurm;

import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;
import org.apache.commons.exec.CommandLine;
import org.apache.commons.exec.DefaultExecuteResultHandler;
import org.apache.commons.exec.DefaultExecutor;
import org.apache.commons.exec.ExecuteWatchdog;
import org.apache.commons.exec.PumpStreamHandler;

/**
 * The job step that runs one crmpi node agent on each node of the
 * allocation but the batch node: {@code srun --relative=1
 * --ntasks-per-node=1 --overlap ... crmpi agent}. The agents connect back to
 * the coordinator; the step ends when they do.
 */
public final class AgentStep implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(AgentStep.class.getName());
  private final ExecuteWatchdog watchdog;
  private final DefaultExecuteResultHandler result;

  private AgentStep(ExecuteWatchdog watchdog, DefaultExecuteResultHandler result) {
    this.watchdog = watchdog;
    this.result = result;
  }

  /**
   * Starts the step.
   *
   * @param nodes how many agents (the allocation's nodes minus the batch node)
   * @param agentCommand the command of one agent (crmpi agent ...)
   * @param environment the step's environment (it carries the agents' job token)
   * @param log where the step's own output goes (the agents log there)
   */
  public static AgentStep start(int nodes, List<String> agentCommand, Map<String, String> environment,
      OutputStream log) throws IOException {
    List<String> argv = new ArrayList<>(List.of("srun", "--nodes=" + nodes, "--ntasks=" + nodes,
        "--ntasks-per-node=1", "--relative=1", "--overlap", "--kill-on-bad-exit=0",
        "--job-name=crmpi-agents", "--input=none"));
    argv.addAll(agentCommand);
    CommandLine cmd = new CommandLine(argv.get(0));
    cmd.addArguments(argv.subList(1, argv.size()).toArray(String[]::new), false);
    DefaultExecutor exec = DefaultExecutor.builder().get();
    exec.setStreamHandler(new PumpStreamHandler(log));
    ExecuteWatchdog watchdog = ExecuteWatchdog.builder().setTimeout(ExecuteWatchdog.INFINITE_TIMEOUT_DURATION)
        .get();
    exec.setWatchdog(watchdog);
    DefaultExecuteResultHandler result = new DefaultExecuteResultHandler();
    exec.execute(cmd, environment, result);
    LOG.info("started " + nodes + " node agent(s): " + String.join(" ", argv.subList(0, 10)) + " ...");
    return new AgentStep(watchdog, result);
  }

  /** Whether the step still runs. */
  public boolean isRunning() {
    return !result.hasResult();
  }

  /** Waits briefly for the step to end on its own (its agents were told bye), else ends it. */
  @Override
  public void close() {
    try {
      result.waitFor(java.time.Duration.ofSeconds(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (!result.hasResult()) {
      watchdog.destroyProcess();
    }
  }
}
