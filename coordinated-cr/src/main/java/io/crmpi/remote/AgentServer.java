package io.crmpi.remote;

import io.crmpi.agent.OutputSink;
import io.crmpi.engine.LaunchSpec;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.logging.Logger;

/**
 * The coordinator's end of the agents' connections: a TCP listener on the
 * coordinator node's cluster address. Every agent ({@code crmpi agent})
 * connects, proves it belongs to the job with the job's one-time token and
 * names its host; the coordinator then assigns it a node slot.
 */
public final class AgentServer implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(AgentServer.class.getName());
  private static final int HELLO_TIMEOUT_MS = 10_000;
  private final ServerSocket server;
  private final String token;
  private final String job;

  /** An agent that has said hello: its host and its open connection. */
  public record Hello(String host, Socket socket, SecureChannel<ToAgent, FromAgent> channel) {}

  private AgentServer(ServerSocket server, String token, String job) {
    this.server = server;
    this.token = token;
    this.job = job;
  }

  /** Listens on address (port chosen by the system) with a fresh random token. */
  public static AgentServer listen(InetAddress address, String job) throws IOException {
    ServerSocket s = new ServerSocket();
    s.bind(new InetSocketAddress(address, 0), 64);
    byte[] t = new byte[24];
    new SecureRandom().nextBytes(t);
    return new AgentServer(s, HexFormat.of().formatHex(t), job);
  }

  /** host:port that agents connect to. */
  public String endpoint() {
    return server.getInetAddress().getHostAddress() + ":" + server.getLocalPort();
  }

  /** The secret agents present (passed to them in their environment, never on a command line). */
  public String token() {
    return token;
  }

  /**
   * Waits for count agents to connect, or fails after timeout naming how
   * many came. Connections with a wrong token are refused and logged.
   */
  public List<Hello> awaitAgents(int count, Duration timeout) throws IOException {
    List<Hello> hellos = new ArrayList<>();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (hellos.size() < count) {
      long left = (deadline - System.nanoTime()) / 1_000_000;
      if (left <= 0) {
        hellos.forEach(h -> closeQuietly(h.socket()));
        throw new IOException(hellos.size() + " of " + count + " node agents connected within "
            + timeout.toSeconds() + " s" + (hellos.isEmpty() ? "" : " (from "
            + String.join(", ", hellos.stream().map(Hello::host).toList()) + ")"));
      }
      server.setSoTimeout((int) Math.min(left, Integer.MAX_VALUE));
      Socket s;
      try {
        s = server.accept();
      } catch (SocketTimeoutException e) {
        continue;
      }
      try {
        hellos.add(hello(s));
      } catch (IOException e) {
        LOG.warning("job " + job + ": refused an agent connection from " + s.getRemoteSocketAddress() + ": "
            + e.getMessage());
        closeQuietly(s);
      }
    }
    return hellos;
  }

  private Hello hello(Socket s) throws IOException {
    s.setSoTimeout(HELLO_TIMEOUT_MS);
    s.setTcpNoDelay(true);
    s.setKeepAlive(true);
    SecureChannel<ToAgent, FromAgent> channel = SecureChannel.coordinator(s.getInputStream(), s.getOutputStream(), token);
    s.setSoTimeout(0);
    return new Hello(channel.host(), s, channel);
  }

  /** Makes the agent that said hello the holder of a slot, and sends it its assignment. */
  public static RemoteAgent assign(Hello hello, String slot, LaunchSpec spec, String engine,
      Duration quiesceTimeout, String faults, OutputSink sink) throws IOException {
    return assign(hello, slot, spec, engine, quiesceTimeout, faults, null, sink);
  }

  /**
   * The same; with partnerDir (the job's node-local directory) the agent
   * also opens its partner port, where it keeps its partners' copies.
   */
  public static RemoteAgent assign(Hello hello, String slot, LaunchSpec spec, String engine,
      Duration quiesceTimeout, String faults, java.nio.file.Path partnerDir, OutputSink sink) throws IOException {
    RemoteAgent agent = new RemoteAgent(slot, hello, spec.job(), sink);
    agent.assign(spec, engine, quiesceTimeout, faults, partnerDir);
    return agent;
  }

  /** The address agents connect to (the coordinator node's partner port listens there too). */
  public InetAddress address() {
    return server.getInetAddress();
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      LOG.fine("closing " + s + ": " + e.getMessage());
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
