package io.crmpi.remote;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.crmpi.agent.NodeHandle;
import io.crmpi.agent.OutputSink;
import io.crmpi.engine.LaunchSpec;
import io.crmpi.store.NodeImage;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
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
  private SecureChannel channel;
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
      ObjectNode assign = channel.receive();
      if (assign == null || !assign.path("op").asText().equals("assign")) {
        throw new IOException("the coordinator refused this agent (wrong job key?)");
      }
      LaunchSpec spec = Wire.value(assign.path("spec"), LaunchSpec.class);
      slot = spec.node();
      agent = factory.create(spec, assign.path("engine").asText("criu"),
          Duration.ofMillis(assign.path("quiesceTimeoutMillis").asLong(30_000)),
          assign.path("faults").asText(""), this::output);
      agent.onTreeExit(e -> {
        ObjectNode m = Wire.message("exit");
        m.set("exit", Wire.MAPPER.valueToTree(e));
        send(m);
      });
      LOG.info("job " + spec.job() + ": agent of node " + slot + " on " + host + " ready");
      for (ObjectNode m = readOrLapse(); m != null; m = readOrLapse()) {
        String op = m.path("op").asText();
        if (op.equals("bye")) {
          break;
        } else if (op.equals("ping")) {
          send(Wire.message("pong"));
        } else if (op.equals("call")) {
          ObjectNode c = m;
          calls.submit(() -> call(c));
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

  /** The next message, or null when the coordinator closed the connection or let the lease lapse. */
  private ObjectNode readOrLapse() throws IOException {
    try {
      return channel.receive();
    } catch (SocketTimeoutException e) {
      LOG.warning("node " + slot + ": no word from the coordinator for " + LEASE.toSeconds()
          + " s: ending the node tree (its job goes on elsewhere)");
      return null;
    }
  }

  private void call(ObjectNode m) {
    ObjectNode result = Wire.message("result");
    result.put("id", m.path("id").asLong());
    try {
      switch (m.path("call").asText()) {
        case "request" -> result.set("reply", Wire.encode(agent.send(Wire.request(m.path("request"))).join()));
        case "launch" -> agent.launch();
        case "restore" -> agent.restore(Path.of(m.path("epochDir").asText()), m.path("epoch").asLong(),
            Wire.value(m.path("image"), NodeImage.class), msg -> log(msg));
        case "exec" -> agent.exec(Arrays.asList(Wire.value(m.path("command"), String[].class)));
        case "kill" -> agent.kill();
        case "fence" -> agent.fence();
        case "thaw" -> agent.thaw();
        case "processes" -> result.put("processes", agent.processes());
        default -> throw new IOException("unknown call '" + m.path("call").asText() + "'");
      }
    } catch (IOException | RuntimeException e) {
      result.put("error", String.valueOf(e.getMessage()));
    }
    send(result);
  }

  private void output(String stream, byte[] buf, int off, int len) {
    ObjectNode m = Wire.message("output");
    m.put("stream", stream);
    m.put("data", Base64.getEncoder().encodeToString(Arrays.copyOfRange(buf, off, off + len)));
    send(m);
  }

  private void log(String message) {
    ObjectNode m = Wire.message("log");
    m.put("message", message);
    send(m);
  }

  private void send(ObjectNode m) {
    try {
      channel.send(m);
    } catch (IOException e) {
      LOG.fine(() -> "node " + slot + ": cannot reach the coordinator: " + e.getMessage());
    }
  }

}
