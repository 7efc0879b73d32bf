package io.crmpi.remote;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.crmpi.agent.NodeHandle;
import io.crmpi.agent.OutputSink;
import io.crmpi.engine.LaunchSpec;
import io.crmpi.engine.TreeExit;
import io.crmpi.protocol.AgentReply;
import io.crmpi.protocol.AgentRequest;
import io.crmpi.store.NodeImage;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
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
  private final SecureChannel channel;
  private final OutputSink sink;
  private final Map<Long, CompletableFuture<ObjectNode>> calls = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong();
  private final AtomicBoolean lostOnce = new AtomicBoolean();
  private volatile Consumer<TreeExit> exitListener = e -> {};
  private volatile boolean running;
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
  void assign(LaunchSpec spec, String engine, Duration quiesceTimeout, String faults) throws IOException {
    ObjectNode m = Wire.message("assign");
    m.set("spec", Wire.MAPPER.valueToTree(spec));
    m.put("engine", engine);
    m.put("quiesceTimeoutMillis", quiesceTimeout.toMillis());
    m.put("faults", faults == null ? "" : faults);
    channel.send(m);
    reader.start();
    heartbeat.start();
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
    ObjectNode m = Wire.message("call");
    m.put("call", "request");
    m.set("request", Wire.encode(request));
    return call(m).thenApply(result -> {
      try {
        return Wire.reply(result.path("reply"));
      } catch (IOException e) {
        throw new CompletionException(e);
      }
    });
  }

  @Override
  public void launch() throws IOException {
    await(call(withCall("launch")), "launch");
    running = true;
  }

  @Override
  public void restore(Path epochDir, long epoch, NodeImage image, Consumer<String> log) throws IOException {
    ObjectNode m = withCall("restore");
    m.put("epochDir", epochDir.toString());
    m.put("epoch", epoch);
    m.set("image", Wire.MAPPER.valueToTree(image));
    await(call(m), "restore epoch " + epoch);
    running = true;
  }

  @Override
  public void fence() throws IOException {
    await(call(withCall("fence")), "fence its node tree");
  }

  @Override
  public void thaw() throws IOException {
    await(call(withCall("thaw")), "thaw its node tree");
  }

  @Override
  public void exec(List<String> command) throws IOException {
    ObjectNode m = withCall("exec");
    m.set("command", Wire.MAPPER.valueToTree(command));
    await(call(m), "start " + command.get(0));
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
      await(call(withCall("kill")), "kill");
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
      channel.send(Wire.message("bye"));
    } catch (IOException e) {
      LOG.fine(() -> "job " + job + " node " + slot + ": bye: " + e.getMessage());
    }
    closeSocket();
  }

  private ObjectNode withCall(String call) {
    ObjectNode m = Wire.message("call");
    m.put("call", call);
    return m;
  }

  private CompletableFuture<ObjectNode> call(ObjectNode m) {
    long id = ids.incrementAndGet();
    CompletableFuture<ObjectNode> f = new CompletableFuture<>();
    calls.put(id, f);
    m.put("id", id);
    try {
      if (closed) {
        throw new IOException("the connection to node " + slot + " (" + host + ") is closed");
      }
      channel.send(m);
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
    return await(call(withCall("processes")), "count its processes").path("processes").asInt(0);
  }

  private ObjectNode await(CompletableFuture<ObjectNode> f, String what) throws IOException {
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
      for (ObjectNode m = channel.receive(); m != null; m = channel.receive()) {
        lastHeard = System.nanoTime();
        try {
          handle(m);
        } catch (RuntimeException e) {
          // One bad message (say, output that is not base64) must not deafen the coordinator to the node.
          LOG.warning("job " + job + " node " + slot + " (" + host + "): ignored a bad '" + m.path("op").asText()
              + "' message: " + e);
        }
      }
    } catch (IOException e) {
      why = e.getMessage();
    }
    lost(why);
  }

  private void handle(ObjectNode m) throws IOException {
    switch (m.path("op").asText()) {
      case "result" -> {
        CompletableFuture<ObjectNode> f = calls.remove(m.path("id").asLong());
        if (f == null) {
          return;
        }
        if (m.hasNonNull("error")) {
          f.completeExceptionally(new IOException(m.get("error").asText()));
        } else {
          f.complete(m);
        }
      }
      case "exit" -> {
        running = false;
        exitListener.accept(Wire.value(m.path("exit"), TreeExit.class));
      }
      case "output" -> {
        byte[] data = Base64.getDecoder().decode(m.path("data").asText(""));
        sink.write(m.path("stream").asText("stdout"), data, 0, data.length);
      }
      case "log" -> LOG.info("job " + job + " node " + slot + " (" + host + "): " + m.path("message").asText());
      case "pong" -> { }
      default -> LOG.fine(() -> "job " + job + " node " + slot + ": unknown message " + m);
    }
  }

  private void heartbeatLoop() {
    while (!closed) {
      try {
        Thread.sleep(HEARTBEAT.toMillis());
        channel.send(Wire.message("ping"));
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
