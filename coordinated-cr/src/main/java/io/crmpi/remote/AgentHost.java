package io.crmpi.remote;

import io.crmpi.agent.NodeHandle;
import io.crmpi.agent.OutputSink;
import io.crmpi.engine.LaunchSpec;
import io.crmpi.wire.BadMessage;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.logging.Logger;

/**
 * The remote end of a node slot: runs in {@code crmpi agent} on a compute
 * node, connects to the coordinator, receives its slot's assignment and
 * carries out the coordinator's calls on a local node agent. When the
 * coordinator goes away (bye, or the connection breaks) the tree is killed
 * and {@link #serve} returns: an agent never outlives its job.
 */
public final class AgentHost {
  private static final Logger LOG = Logger.getLogger(AgentHost.class.getName());
  static final Duration LEASE = Duration.ofSeconds(20);

  /** Builds the local agent of the assigned slot. */
  public interface Factory {
    NodeHandle create(LaunchSpec spec, String engine, Duration quiesceTimeout, String faults, OutputSink sink)
        throws IOException;
  }

  private final Socket socket;
  private SecureChannel<FromAgent, ToAgent> channel;
  private final ExecutorService calls = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "crmpi-agent-call");
    t.setDaemon(true);
    return t;
  });
  private NodeHandle agent;
  private String slot = "?";

  private AgentHost(Socket socket) throws IOException {
    this.socket = socket;
  }

  /** Connects to endpoint (host:port) as host, and serves the job until it ends. */
  public static void serve(String endpoint, String token, String host, Factory factory) throws IOException {
    int colon = endpoint.lastIndexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("coordinator endpoint must be HOST:PORT, not '" + endpoint + "'");
    }
    Socket s = new Socket();
    s.connect(new InetSocketAddress(endpoint.substring(0, colon), Integer.parseInt(endpoint.substring(colon + 1))),
        30_000);
    s.setTcpNoDelay(true);
    s.setKeepAlive(true);
    // The lease: the coordinator pings every 5 s and gives a silent node up after 30 s. An agent that has
    // not heard from it for LEASE ends its tree first, so that a partitioned node's copy of the job is
    // gone before the job is restored elsewhere.
    s.setSoTimeout((int) LEASE.toMillis());
    new AgentHost(s).run(token, host, factory);
  }

  private void run(String token, String host, Factory factory) throws IOException {
    try {
      channel = SecureChannel.agent(socket.getInputStream(), socket.getOutputStream(), token, host);
      ToAgent first = channel.receive();
      if (!(first instanceof ToAgent.Assign assign)) {
        throw new IOException(first == null ? "the coordinator refused this agent (wrong job key?)"
            : "the coordinator sent " + first.getClass().getSimpleName() + " before the slot's assignment");
      }
      LaunchSpec spec = assign.spec();
      slot = spec.node();
      agent = factory.create(spec, assign.engine(), Duration.ofMillis(assign.quiesceTimeoutMillis()),
          assign.faults(), this::output);
      if (assign.partnerDir() != null) {
        try {
          PartnerSlot partners = PartnerSlot.open(agent, socket.getLocalAddress(), token, assign.partnerDir());
          agent = partners;
          send(new FromAgent.Listening(partners.partnerEndpoint()));
        } catch (IOException e) {
          // The job runs on without partner copies; the coordinator hears why.
          log("node " + slot + " cannot open its partner port: " + e.getMessage());
        }
      }
      agent.onTreeExit(e -> send(new FromAgent.Exited(e)));
      LOG.info("job " + spec.job() + ": agent of node " + slot + " on " + host + " ready");
      for (ToAgent m = readOrLapse(); m != null; m = readOrLapse()) {
        if (m instanceof ToAgent.Bye) {
          break;
        } else if (m instanceof ToAgent.Ping) {
          send(new FromAgent.Pong());
        } else if (m instanceof ToAgent.Call c) {
          calls.submit(() -> send(call(c)));
        } else {
          LOG.warning("node " + slot + ": ignored a second " + m.getClass().getSimpleName() + " from the coordinator");
        }
      }
    } finally {
      if (agent != null) {
        agent.kill();
        agent.close();
      }
      calls.shutdownNow();
      socket.close();
    }
  }

  /**
   * The next message, or null when the coordinator closed the connection,
   * let the lease lapse, or sent a message that authenticated but does not
   * decode.
   */
  private ToAgent readOrLapse() throws IOException {
    try {
      return channel.receive();
    } catch (SocketTimeoutException e) {
      LOG.warning("node " + slot + ": no word from the coordinator for " + LEASE.toSeconds()
          + " s: ending the node tree (its job goes on elsewhere)");
      return null;
    } catch (BadMessage e) {
      // Authenticated but undecodable: another crmpi version, or a bug. The tree ends; the job goes on elsewhere.
      LOG.warning("node " + slot + ": the coordinator sent a message this agent cannot decode ("
          + e.getMessage() + "): ending the node tree (another crmpi version?)");
      return null;
    }
  }

  private FromAgent.Answer call(ToAgent.Call c) {
    long id = c.id();
    try {
      if (c instanceof ToAgent.Send s) {
        return new FromAgent.Replied(id, agent.send(s.request()).join());
      } else if (c instanceof ToAgent.CountProcesses) {
        return new FromAgent.Counted(id, agent.processes());
      } else if (c instanceof ToAgent.Launch) {
        agent.launch();
      } else if (c instanceof ToAgent.Restore r) {
        agent.restore(r.epochDirs(), r.epoch(), r.image(), r.partner(), this::log);
      } else if (c instanceof ToAgent.Exec e) {
        agent.exec(e.command());
      } else if (c instanceof ToAgent.Kill) {
        agent.kill();
      } else if (c instanceof ToAgent.Fence) {
        agent.fence();
      } else if (c instanceof ToAgent.Thaw) {
        agent.thaw();
      } else {
        throw new IllegalStateException("unhandled call " + c.getClass().getSimpleName());
      }
      return new FromAgent.Done(id);
    } catch (IOException | RuntimeException e) {
      return new FromAgent.CallFailed(id, String.valueOf(e.getMessage()));
    }
  }

  private void output(String stream, byte[] buf, int off, int len) {
    send(new FromAgent.Output(stream, Arrays.copyOfRange(buf, off, off + len)));
  }

  private void log(String message) {
    send(new FromAgent.Log(message));
  }

  private void send(FromAgent m) {
    try {
      channel.send(m);
    } catch (IOException e) {
      LOG.fine(() -> "node " + slot + ": cannot reach the coordinator: " + e.getMessage());
    } catch (RuntimeException e) {
      // A message this agent cannot encode is a bug; the coordinator must not wait out its timeout for it.
      LOG.warning("node " + slot + ": cannot encode " + m.getClass().getSimpleName() + ": " + e);
      if (m instanceof FromAgent.Answer a && !(m instanceof FromAgent.CallFailed)) {
        send(new FromAgent.CallFailed(a.id(), "the agent of node " + slot + " cannot encode its answer: " + e));
      }
    }
  }

}
