package io.crmpi.cli;

import io.crmpi.agent.NodeAgent;
import io.crmpi.agent.RankChannel;
import io.crmpi.engine.Engine;
import io.crmpi.engine.LaunchSpec;
import io.crmpi.fault.Faults;
import io.crmpi.local.ExitCodes;
import io.crmpi.local.JobException;
import io.crmpi.remote.AgentHost;
import java.io.IOException;
import java.nio.file.Files;
import io.crmpi.workdir.WorkdirWatch;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.logging.Logger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code crmpi agent}: the node agent of one node of a multi-node job. The
 * coordinator starts it on every other node of the allocation (one srun
 * task per node); it is not meant to be run by hand.
 */
@Command(name = "agent", description = "Serve one node of a multi-node job (started by crmpi run through srun).")
final class AgentCommand implements Callable<Integer> {
  private static final Logger LOG = Logger.getLogger(AgentCommand.class.getName());

  @Option(names = "--connect", paramLabel = "HOST:PORT", required = true,
      description = "The coordinator's agent endpoint.")
  String endpoint;

  @Override
  public Integer call() throws Exception {
    String token = System.getenv("CRMPI_AGENT_TOKEN");
    if (token == null || token.isBlank()) {
      throw new JobException("CRMPI_AGENT_TOKEN is not set: crmpi agent is started by 'crmpi run' in a"
          + " multi-node Slurm job, not by hand", ExitCodes.USAGE);
    }
    String host = System.getenv().getOrDefault("SLURMD_NODENAME",
        Files.readString(Path.of("/proc/sys/kernel/hostname")).strip());
    AgentHost.serve(endpoint, token, host, (spec, engineName, quiesce, faults, sink) -> {
      Engine engine = io.crmpi.local.Engines.forThisUser(engineName, Installation.crmpiNs());
      RankChannel ranks = RankChannel.listen(rankSocket(spec), spec.job());
      WorkdirWatch workdir = new WorkdirWatch(spec.job(), spec.workdir(), Set.of(), java.time.Clock.systemUTC(),
          WorkdirWatch.INTERVAL);
      return new NodeAgent(spec, engine, sink, faults.isEmpty() ? Faults.none() : Faults.parse(faults, Faults.Role.AGENT), workdir,
          System::nanoTime, ranks, quiesce).withProgress(what -> io.crmpi.local.ProgressMeter.standardError(what, 0));
    });
    LOG.info("agent on " + host + ": the job's coordinator is gone; exiting");
    return ExitCodes.OK;
  }

  private static Path rankSocket(LaunchSpec spec) throws IOException {
    String s = spec.environment().get("CRMPI_AGENT_SOCKET");
    if (s == null) {
      throw new IOException("the assignment names no CRMPI_AGENT_SOCKET");
    }
    Files.createDirectories(Path.of(s).getParent());
    return Path.of(s);
  }
}
