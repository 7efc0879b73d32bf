package io.crmpi.cluster;

import io.crmpi.agent.OutputSink;
import io.crmpi.engine.LaunchSpec;
import io.crmpi.remote.AgentServer;
import io.crmpi.remote.RemoteAgent;
import io.crmpi.slurm.AgentStep;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import java.util.logging.Logger;

/**
 * The node slots of a multi-node job beyond the batch node: one crmpi agent
 * per other node of the allocation, started as one srun step, connected
 * back to the coordinator and given its slot (slot i+1 on the i-th other
 * host in allocation order).
 */
public final class RemoteSlots implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(RemoteSlots.class.getName());
  static final String TOKEN_VARIABLE = "CRMPI_AGENT_TOKEN";
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(90);

  private final AgentServer server;
  private final AgentStep step;
  private final List<RemoteAgent> agents;

  private RemoteSlots(AgentServer server, AgentStep step, List<RemoteAgent> agents) {
    this.server = server;
    this.step = step;
    this.agents = List.copyOf(agents);
  }

  /**
   * Starts the agents and assigns their slots.
   *
   * @param specForSlot what slot i's tree is (i >= 1)
   * @param crmpi the crmpi command on the nodes (the same installation path everywhere)
   * @param partnerDir with partner copies, the job's node-local directory
   *     (each agent opens its partner port there); else null
   */
  public static RemoteSlots start(String job, SlurmAllocation allocation, IntFunction<LaunchSpec> specForSlot,
      String engine, Duration quiesceTimeout, String faults, OutputSink sink, Path crmpi, OutputStream stepLog,
      Path partnerDir) throws IOException {
    List<String> hosts = allocation.remoteHosts();
    AgentServer server = AgentServer.listen(InetAddress.getByName(allocation.batchAddress()), job);
    AgentStep step = null;
    List<RemoteAgent> agents = new ArrayList<>();
    try {
      Map<String, String> env = new HashMap<>(System.getenv());
      env.put(TOKEN_VARIABLE, server.token());
      step = AgentStep.start(hosts.size(), List.of(crmpi.toString(), "agent", "--connect", server.endpoint()),
          env, stepLog);
      List<AgentServer.Hello> hellos = new ArrayList<>(server.awaitAgents(hosts.size(), CONNECT_TIMEOUT));
      for (int i = 0; i < hosts.size(); i++) {
        String host = hosts.get(i);
        AgentServer.Hello hello = hellos.stream().filter(h -> h.host().equals(host)).findFirst()
            .orElseThrow(() -> new IOException("no agent connected from " + host + " (agents came from "
                + hellos.stream().map(AgentServer.Hello::host).toList() + ")"));
        hellos.remove(hello);
        LaunchSpec spec = specForSlot.apply(i + 1);
        agents.add(AgentServer.assign(hello, spec.node(), spec, engine, quiesceTimeout, faults, partnerDir, sink));
        LOG.info("job " + job + ": node " + spec.node() + " is " + host
            + (spec.network() == null ? "" : " (job address " + spec.network().address() + ")"));
      }
      return new RemoteSlots(server, step, agents);
    } catch (IOException | RuntimeException e) {
      agents.forEach(RemoteAgent::close);
      if (step != null) {
        step.close();
      }
      server.close();
      throw e;
    }
  }

  public List<RemoteAgent> agents() {
    return agents;
  }

  /**
   * Slot 0 (the batch node's, in this JVM) with its partner port, on the
   * address the agents reach this node at, keeping copies under
   * localJobDir: the other slots' agents open theirs themselves.
   */
  public io.crmpi.remote.PartnerSlot withPartnerPort(io.crmpi.agent.NodeHandle slot0, Path localJobDir)
      throws IOException {
    return io.crmpi.remote.PartnerSlot.open(slot0, server.address(), server.token(), localJobDir);
  }

  /** Says bye to every agent (they kill their trees and exit), then ends the step. */
  @Override
  public void close() {
    agents.forEach(RemoteAgent::close);
    step.close();
    try {
      server.close();
    } catch (IOException e) {
      LOG.fine("closing the agent server: " + e.getMessage());
    }
  }
}
