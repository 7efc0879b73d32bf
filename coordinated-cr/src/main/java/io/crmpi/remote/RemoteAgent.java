package io.crmpi.remote;

import io.crmpi.agent.NodeHandle;
import io.crmpi.agent.OutputSink;
import io.crmpi.engine.LaunchSpec;
import io.crmpi.engine.TreeExit;
import io.crmpi.protocol.AgentReply;
import io.crmpi.protocol.AgentRequest;
import io.crmpi.store.NodeImage;
import io.crmpi.wire.BadMessage;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * The coordinator's handle on a node slot whose agent runs on another node
 * (started by {@code crmpi agent}): every call is a message on the agent's
 * connection, answered by id. The connection breaking (the node died or was
 * cut off) or falling silent past the heartbeat limit ends the slot's tree
 * with {@link TreeExit#NODE_LOST}.
 */
public final class RemoteAgent implements NodeHandle {
  private static final Logger LOG = Logger.getLogger(RemoteAgent.class.getName());
  static final Duration HEARTBEAT = Duration.ofSeconds(5);
  static final Duration SILENCE_LIMIT = Duration.ofSeconds(30);
  private static final Duration CALL_TIMEOUT = Duration.ofMinutes(15);

  private final String slot;
  private final String host;
  private final String job;
  private final Socket socket;
  private final SecureChannel<ToAgent, FromAgent> channel;
  private final OutputSink sink;
  private final Map<Long, CompletableFuture<FromAgent.Answer>> calls = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong();
  private final AtomicBoolean lostOnce = new AtomicBoolean();
  private volatile Consumer<TreeExit> exitListener = e -> {};
  private volatile boolean running;
  /** Where the agent's partner port listens (it says so after its assignment); null until then, or without one. */
  private volatile String partnerEndpoint;
  private final CompletableFuture<String> listening = new CompletableFuture<>();
  private static final Duration PARTNER_PORT_WAIT = Duration.ofSeconds(30);
  private volatile boolean closed;
  private volatile long lastHeard = System.nanoTime();
  private final Thread reader;
  private final Thread heartbeat;

  RemoteAgent(String slot, AgentServer.Hello hello, String job, OutputSink sink) {
    this.slot = slot;
    this.host = hello.host();
    this.job = job;
    this.socket = hello.socket();
    this.channel = hello.channel();
    this.sink = sink;
    this.reader = new Thread(this::readLoop, "crmpi-remote-" + slot);
    this.reader.setDaemon(true);
    this.heartbeat = new Thread(this::heartbeatLoop, "crmpi-heartbeat-" + slot);
    this.heartbeat.setDaemon(true);
  }

  /** Sends the slot's assignment (what its tree runs) and starts listening. */
  void assign(LaunchSpec spec, String engine, Duration quiesceTimeout, String faults, Path partnerDir)
      throws IOException {
    channel.send(new ToAgent.Assign(spec, engine, quiesceTimeout.toMillis(), faults, partnerDir));
    reader.start();
    heartbeat.start();
    if (partnerDir != null) {
      awaitPartnerPort();
    }
  }

  /**
   * Waits for the agent to say where its partner port listens, so that a
   * restore right after the assignment knows every port. An agent that does
   * not say so in time (its port could not open) only has no partner copies.
   */
  private void awaitPartnerPort() {
    try {
      listening.get(PARTNER_PORT_WAIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      LOG.warning("job " + job + ": node " + slot + " (" + host + ") did not open its partner port within "
          + PARTNER_PORT_WAIT.toSeconds() + " s: its partners' copies are not kept there");
    }
  }

  @Override
  public String node() {
    return slot;
  }

  /** The host the slot's agent runs on. */
  public String host() {
    return host;
  }

  @Override
  public CompletableFuture<AgentReply> send(AgentRequest request) {
    return call(id -> new ToAgent.Send(id, request)).thenApply(answer -> {
      if (answer instanceof FromAgent.Replied r) {
        return r.reply();
      }
      throw new IllegalStateException("node " + slot + " answered a request with "
          + answer.getClass().getSimpleName());
    });
  }

  @Override
  public void launch() throws IOException {
    await(call(ToAgent.Launch::new), "launch");
    running = true;
  }

  @Override
  public void restore(List<Path> epochDirs, long epoch, NodeImage image, Consumer<String> log) throws IOException {
    restore(epochDirs, epoch, image, null, log);
  }

  @Override
  public void restore(List<Path> epochDirs, long epoch, NodeImage image, io.crmpi.protocol.PartnerSource partner,
      Consumer<String> log) throws IOException {
    await(call(id -> new ToAgent.Restore(id, epochDirs, epoch, image, partner)), "restore epoch " + epoch);
    running = true;
  }

  @Override
  public String partnerEndpoint() {
    return partnerEndpoint;
  }

  @Override
  public void fence() throws IOException {
    await(call(ToAgent.Fence::new), "fence its node tree");
  }

  @Override
  public void thaw() throws IOException {
    await(call(ToAgent.Thaw::new), "thaw its node tree");
  }

  @Override
  public void exec(List<String> command) throws IOException {
    await(call(id -> new ToAgent.Exec(id, command)), "start " + command.get(0));
  }

  @Override
  public boolean reachable() {
    return !lostOnce.get() && !closed;
  }

  @Override
  public boolean isRunning() {
    return running && !closed;
  }

  @Override
  public void kill() {
    if (closed) {
      return;
    }
    try {
      await(call(ToAgent.Kill::new), "kill");
    } catch (IOException e) {
      LOG.fine(() -> "job " + job + " node " + slot + ": kill: " + e.getMessage());
    }
    running = false;
  }

  @Override
  public void onTreeExit(Consumer<TreeExit> listener) {
    this.exitListener = listener;
  }

  /** Ends the connection; the agent kills its tree and exits. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      channel.send(new ToAgent.Bye());
    } catch (IOException e) {
      LOG.fine(() -> "job " + job + " node " + slot + ": bye: " + e.getMessage());
    }
    closeSocket();
  }

  private CompletableFuture<FromAgent.Answer> call(java.util.function.LongFunction<ToAgent.Call> make) {
    long id = ids.incrementAndGet();
    CompletableFuture<FromAgent.Answer> f = new CompletableFuture<>();
    calls.put(id, f);
    try {
      if (closed) {
        throw new IOException("the connection to node " + slot + " (" + host + ") is closed");
      }
      channel.send(make.apply(id));
    } catch (IOException e) {
      calls.remove(id);
      f.completeExceptionally(e);
    }
    return f;
  }

  @Override
  public int processes() throws IOException {
    if (closed) {
      return 0;
    }
    FromAgent.Answer a = await(call(ToAgent.CountProcesses::new), "count its processes");
    if (a instanceof FromAgent.Counted c) {
      return c.processes();
    }
    throw new IOException("node " + slot + " answered a process count with " + a.getClass().getSimpleName());
  }

  private FromAgent.Answer await(CompletableFuture<FromAgent.Answer> f, String what) throws IOException {
    try {
      return f.get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted: " + what + " on node " + slot);
    } catch (TimeoutException e) {
      throw new IOException("node " + slot + " (" + host + ") did not " + what + " within "
          + CALL_TIMEOUT.toMinutes() + " min");
    } catch (ExecutionException e) {
      throw new IOException("node " + slot + " (" + host + "): " + e.getCause().getMessage(), e.getCause());
    }
  }

  private void readLoop() {
    String why = "the connection closed";
    try {
      for (;;) {
        FromAgent m;
        try {
          m = channel.receive();
        } catch (BadMessage e) {
          // Authenticated, so from this job's agent, yet not a message this coordinator knows: another crmpi
          // version, or a bug. The node is lost at once; skipping it could leave a call waiting for an answer
          // that will never decode.
          why = "it sent a message this coordinator cannot decode (" + e.getMessage() + "): is it another crmpi"
              + " version?";
          break;
        }
        if (m == null) {
          break;
        }
        lastHeard = System.nanoTime();
        try {
          handle(m);
        } catch (RuntimeException e) {
          LOG.warning("job " + job + " node " + slot + " (" + host + "): handling its "
              + m.getClass().getSimpleName() + ": " + e);
        }
      }
    } catch (IOException e) {
      why = e.getMessage();
    }
    lost(why);
  }

  private void handle(FromAgent m) {
    if (m instanceof FromAgent.Answer a) {
      CompletableFuture<FromAgent.Answer> f = calls.remove(a.id());
      if (f == null) {
        return;
      }
      if (a instanceof FromAgent.CallFailed failed) {
        f.completeExceptionally(new IOException(failed.error()));
      } else {
        f.complete(a);
      }
    } else if (m instanceof FromAgent.Exited e) {
      running = false;
      exitListener.accept(e.exit());
    } else if (m instanceof FromAgent.Output o) {
      sink.write(o.stream(), o.data(), 0, o.data().length);
    } else if (m instanceof FromAgent.Listening l) {
      partnerEndpoint = l.endpoint();
      listening.complete(l.endpoint());
      LOG.fine(() -> "job " + job + " node " + slot + " (" + host + "): partner port at " + l.endpoint());
    } else if (m instanceof FromAgent.Log l) {
      LOG.info("job " + job + " node " + slot + " (" + host + "): " + BadMessage.quote(l.message()));
    }
  }

  private void heartbeatLoop() {
    while (!closed) {
      try {
        Thread.sleep(HEARTBEAT.toMillis());
        channel.send(new ToAgent.Ping());
      } catch (InterruptedException e) {
        return;
      } catch (IOException e) {
        lost(e.getMessage());
        return;
      }
      if (System.nanoTime() - lastHeard > SILENCE_LIMIT.toNanos()) {
        lost("no answer for " + SILENCE_LIMIT.toSeconds() + " s");
        return;
      }
    }
  }

  private void lost(String why) {
    IOException e = new IOException("node " + slot + " (" + host + ") lost: " + why);
    calls.values().forEach(f -> f.completeExceptionally(e));
    calls.clear();
    listening.completeExceptionally(e);
    if (closed || !lostOnce.compareAndSet(false, true)) {
      return;
    }
    closed = true;
    running = false;
    closeSocket();
    LOG.warning("job " + job + ": " + e.getMessage());
    exitListener.accept(new TreeExit(TreeExit.NODE_LOST, false));
  }

  private void closeSocket() {
    try {
      socket.close();
    } catch (IOException e) {
      LOG.fine(() -> "closing the connection to " + slot + ": " + e.getMessage());
    }
    heartbeat.interrupt();
  }
}
