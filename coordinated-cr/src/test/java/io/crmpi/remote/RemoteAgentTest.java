package io.crmpi.remote;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crmpi.agent.NodeHandle;
import io.crmpi.agent.OutputSink;
import io.crmpi.engine.JobNetwork;
import io.crmpi.engine.LaunchSpec;
import io.crmpi.engine.TreeExit;
import io.crmpi.protocol.AgentReply;
import io.crmpi.protocol.AgentRequest;
import io.crmpi.store.FileDigest;
import io.crmpi.store.NodeImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The coordinator and a remote agent over a real loopback connection. */
class RemoteAgentTest {
  private static final LaunchSpec SPEC = new LaunchSpec("job-7", "node1", List.of("sleep", "infinity"),
      Path.of("/work"), Map.of("A", "1"), Path.of("/state/run/node1"),
      new JobNetwork("cr0123abcd1", "crbr0", "10.213.4.2/16"));

  private final RecordingNode node = new RecordingNode();
  private final LinkedBlockingQueue<Object> assigned = new LinkedBlockingQueue<>();
  private final ByteArrayOutputStream output = new ByteArrayOutputStream();
  private final OutputSink sink = (stream, buf, off, len) -> {
    synchronized (output) {
      output.write(buf, off, len);
    }
  };
  private AgentServer server;
  private Thread host;

  @AfterEach
  void close() throws Exception {
    if (server != null) {
      server.close();
    }
    if (host != null) {
      host.interrupt();
    }
  }

  private RemoteAgent connect() throws Exception {
    server = AgentServer.listen(InetAddress.getLoopbackAddress(), "job-7");
    String token = server.token();
    host = new Thread(() -> {
      try {
        AgentHost.serve(server.endpoint(), token, "n2", (spec, engine, quiesce, faults, out) -> {
          assigned.add(spec);
          assigned.add(engine);
          node.sink = out;
          return node;
        });
      } catch (IOException e) {
        assigned.add(e);
      }
    });
    host.setDaemon(true);
    host.start();
    List<AgentServer.Hello> hellos = server.awaitAgents(1, Duration.ofSeconds(10));
    assertEquals("n2", hellos.get(0).host());
    return AgentServer.assign(hellos.get(0), "node1", SPEC, "criu", Duration.ofSeconds(3), "", sink);
  }

  @Test
  void theAssignmentAndEveryCallReachTheRemoteNode() throws Exception {
    RemoteAgent agent = connect();
    assertEquals(SPEC, assigned.poll(10, TimeUnit.SECONDS));
    assertEquals("criu", assigned.poll(10, TimeUnit.SECONDS));
    assertEquals("node1", agent.node());
    assertEquals("n2", agent.host());

    agent.launch();
    assertTrue(agent.isRunning());
    agent.exec(List.of("/bin/sh", "-c", "orted -mca x \"a b\""));
    AgentReply reply = agent.send(new AgentRequest.Prepare(3)).get(10, TimeUnit.SECONDS);
    assertEquals(new AgentReply.Prepared("node1", 3), reply);
    AgentReply persisted = agent.send(new AgentRequest.Persist(3)).get(10, TimeUnit.SECONDS);
    assertInstanceOf(AgentReply.Persisted.class, persisted);
    assertEquals(RecordingNode.IMAGE, ((AgentReply.Persisted) persisted).image());
    agent.fence();
    agent.restore(java.util.List.of(Path.of("/state/epochs/3")), 3, RecordingNode.IMAGE, m -> { });
    agent.thaw();
    assertEquals(7, agent.processes());
    agent.kill();
    assertEquals(List.of("launch", "exec [/bin/sh, -c, orted -mca x \"a b\"]", "Prepare", "Persist",
        "fence", "restore 3 /state/epochs/3 " + RecordingNode.IMAGE.imageDir(), "thaw", "processes", "kill"),
        node.calls);
  }

  @Test
  void outputAndTreeExitsComeBack() throws Exception {
    RemoteAgent agent = connect();
    LinkedBlockingQueue<TreeExit> exits = new LinkedBlockingQueue<>();
    agent.onTreeExit(exits::add);
    assigned.poll(10, TimeUnit.SECONDS);
    agent.launch();
    node.sink.write("stdout", "hello\n".getBytes(), 0, 6);
    node.exit.accept(new TreeExit(3, false));
    assertEquals(new TreeExit(3, false), exits.poll(10, TimeUnit.SECONDS));
    synchronized (output) {
      assertEquals("hello\n", output.toString());
    }
  }

  @Test
  void aRemoteFailureIsAnExceptionNamingTheNode() throws Exception {
    RemoteAgent agent = connect();
    node.failLaunch = true;
    IOException e = assertThrows(IOException.class, agent::launch);
    assertTrue(e.getMessage().contains("node1") && e.getMessage().contains("no tree for you"), e.getMessage());
  }

  /** A node's end driven by the test itself: the raw socket, connected to the server. */
  private java.net.Socket rawNode() throws IOException {
    int colon = server.endpoint().lastIndexOf(':');
    return new java.net.Socket(InetAddress.getLoopbackAddress(), Integer.parseInt(server.endpoint().substring(colon + 1)));
  }

  private record Connected(AgentServer.Hello hello, SecureChannel<FromAgent, ToAgent> node) {}

  /** Both ends of the handshake over raw: the server's view of the agent, and the node's channel. */
  private Connected handshake(java.net.Socket raw) throws Exception {
    CompletableFuture<SecureChannel<FromAgent, ToAgent>> node = CompletableFuture.supplyAsync(() -> {
      try {
        return SecureChannel.agent(raw.getInputStream(), raw.getOutputStream(), server.token(), "n3");
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    AgentServer.Hello hello = server.awaitAgents(1, Duration.ofSeconds(10)).get(0);
    return new Connected(hello, node.get(10, TimeUnit.SECONDS));
  }

  @Test
  void aBrokenConnectionIsALostNode() throws Exception {
    server = AgentServer.listen(InetAddress.getLoopbackAddress(), "job-7");
    try (java.net.Socket raw = rawNode()) {
      RemoteAgent agent = AgentServer.assign(handshake(raw).hello(), "node1", SPEC, "criu", Duration.ofSeconds(3),
          "", sink);
      LinkedBlockingQueue<TreeExit> exits = new LinkedBlockingQueue<>();
      agent.onTreeExit(exits::add);
      CompletableFuture<AgentReply> pending = agent.send(new AgentRequest.Prepare(5)); // never answered
      raw.close(); // the node dies
      TreeExit exit = exits.poll(10, TimeUnit.SECONDS);
      assertTrue(exit != null && exit.nodeLost(), "no lost-node exit: " + exit);
      assertTrue(pending.isCompletedExceptionally(), "a call in flight was left hanging");
      assertTrue(!agent.isRunning());
    }
  }

  @Test
  void aMessageFromTheNodeThatDoesNotDecodeLosesTheNodeAtOnceAndFailsItsCalls() throws Exception {
    server = AgentServer.listen(InetAddress.getLoopbackAddress(), "job-7");
    try (java.net.Socket raw = rawNode()) {
      Connected connected = handshake(raw);
      SecureChannel<FromAgent, ToAgent> node = connected.node();
      RemoteAgent agent = AgentServer.assign(connected.hello(), "node1", SPEC, "criu", Duration.ofSeconds(3), "",
          sink);
      LinkedBlockingQueue<TreeExit> exits = new LinkedBlockingQueue<>();
      agent.onTreeExit(exits::add);
      node.send(new FromAgent.Output("stdout", "before\n".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
      CompletableFuture<AgentReply> pending = agent.send(new AgentRequest.Prepare(5));
      // Authenticated, but not a message of this version (say, an answer in a newer format): no call may wait
      // 15 minutes for an answer that will never decode.
      node.sendRaw("{\"type\":\"Output\",\"body\":{\"stream\":\"stdout\",\"data\":\"%% not base64 %%\"}}"
          .getBytes(java.nio.charset.StandardCharsets.UTF_8));
      TreeExit exit = exits.poll(10, TimeUnit.SECONDS);
      assertTrue(exit != null && exit.nodeLost(), "no lost-node exit: " + exit);
      assertTrue(pending.isCompletedExceptionally(), "a call in flight was left waiting");
      synchronized (output) {
        assertEquals("before\n", output.toString());
      }
    }
  }

  @Test
  void anAgentWithTheWrongTokenIsRefused() throws Exception {
    server = AgentServer.listen(InetAddress.getLoopbackAddress(), "job-7");
    Thread t = new Thread(() -> {
      try {
        AgentHost.serve(server.endpoint(), "0".repeat(48), "n9", (spec, engine, quiesce, faults, out) -> node);
      } catch (IOException e) {
        assigned.add(e);
      }
    });
    t.setDaemon(true);
    t.start();
    IOException e = assertThrows(IOException.class, () -> server.awaitAgents(1, Duration.ofSeconds(2)));
    assertTrue(e.getMessage().contains("0 of 1 node agents connected"), e.getMessage());
    Object hostSide = assigned.poll(10, TimeUnit.SECONDS);
    assertInstanceOf(IOException.class, hostSide);
  }

  @Test
  void anOversizedOrMalformedHelloIsRefusedAndTheServerKeepsServing() throws Exception {
    server = AgentServer.listen(InetAddress.getLoopbackAddress(), "job-7");
    int port = Integer.parseInt(server.endpoint().substring(server.endpoint().lastIndexOf(':') + 1));
    try (java.net.Socket big = new java.net.Socket(InetAddress.getLoopbackAddress(), port);
        java.net.Socket junk = new java.net.Socket(InetAddress.getLoopbackAddress(), port)) {
      big.getOutputStream().write(new byte[64 << 10]); // 64 KiB without a newline, before any authentication
      junk.getOutputStream().write("{\"op\":\"hello\",\"host\":\"n3\",\"nonce\":\"zz\"}\n".getBytes());
      Thread t = new Thread(() -> {
        try {
          AgentHost.serve(server.endpoint(), server.token(), "n2", (spec, engine, quiesce, faults, out) -> node);
        } catch (IOException e) {
          assigned.add(e);
        }
      });
      t.setDaemon(true);
      t.start();
      List<AgentServer.Hello> hellos = server.awaitAgents(1, Duration.ofSeconds(20));
      assertEquals("n2", hellos.get(0).host());
      hellos.forEach(h -> {
        try {
          h.socket().close();
        } catch (IOException e) {
          // closing
        }
      });
    }
  }

  /** A node handle that records the calls it gets. */
  static final class RecordingNode implements NodeHandle {
    static final NodeImage IMAGE = new NodeImage("node1", "nodes/node1/image",
        List.of(new FileDigest("pages-1.img", 4096, "a".repeat(64))), null, null, List.of(),
        Map.of("stdout", "pipe:[12]"));
    final List<String> calls = new CopyOnWriteArrayList<>();
    volatile OutputSink sink;
    volatile Consumer<TreeExit> exit = e -> { };
    volatile boolean failLaunch;

    @Override
    public String node() {
      return "node1";
    }

    @Override
    public CompletableFuture<AgentReply> send(AgentRequest request) {
      calls.add(request.getClass().getSimpleName());
      if (request instanceof AgentRequest.Persist p) {
        return CompletableFuture.completedFuture(new AgentReply.Persisted("node1", p.epoch(), IMAGE, 5));
      }
      return CompletableFuture.completedFuture(new AgentReply.Prepared("node1", request.epoch()));
    }

    @Override
    public void launch() throws IOException {
      if (failLaunch) {
        throw new IOException("no tree for you");
      }
      calls.add("launch");
    }

    @Override
    public void restore(java.util.List<Path> epochDirs, long epoch, NodeImage image, Consumer<String> log) {
      calls.add("restore " + epoch + " " + epochDirs.get(0) + " " + image.imageDir());
    }

    @Override
    public void exec(List<String> command) {
      calls.add("exec " + command);
    }

    @Override
    public boolean isRunning() {
      return true;
    }

    @Override
    public void kill() {
      calls.add("kill");
    }

    @Override
    public void fence() {
      calls.add("fence");
    }

    @Override
    public void thaw() {
      calls.add("thaw");
    }

    @Override
    public int processes() {
      calls.add("processes");
      return 7;
    }

    @Override
    public void onTreeExit(Consumer<TreeExit> listener) {
      exit = listener;
    }

    @Override
    public void close() {
    }
  }
}
