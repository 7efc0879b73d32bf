package io.crmpi.remote;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class SecureChannelTest {
  private static final String KEY = "a".repeat(48);

  /** Two ends of a loopback TCP connection. */
  private static final class Link {
    final InputStream agentIn;
    final OutputStream agentOut;
    final InputStream coordinatorIn;
    final OutputStream coordinatorOut;
    java.net.Socket agentSocket;

    Link() throws IOException {
      try (java.net.ServerSocket server = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
        java.net.Socket agent = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), server.getLocalPort());
        java.net.Socket coordinator = server.accept();
        agentSocket = agent;
        coordinator.setSoTimeout(10_000);
        agent.setSoTimeout(10_000);
        agentIn = agent.getInputStream();
        agentOut = agent.getOutputStream();
        coordinatorIn = coordinator.getInputStream();
        coordinatorOut = coordinator.getOutputStream();
      }
    }
  }

  /** Both ends of one connection. */
  private record Ends(SecureChannel<ToAgent, FromAgent> coordinator, SecureChannel<FromAgent, ToAgent> agent) {}

  private static Ends connect(Link link, String agentKey, String coordinatorKey) throws Exception {
    CompletableFuture<SecureChannel<FromAgent, ToAgent>> agent = CompletableFuture.supplyAsync(() -> {
      try {
        return SecureChannel.agent(link.agentIn, link.agentOut, agentKey, "n2");
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    SecureChannel<ToAgent, FromAgent> coordinator =
        SecureChannel.coordinator(link.coordinatorIn, link.coordinatorOut, coordinatorKey);
    return new Ends(coordinator, agent.get(10, TimeUnit.SECONDS));
  }

  @Test
  void messagesTravelBothWaysAfterTheHandshake() throws Exception {
    Ends ends = connect(new Link(), KEY, KEY);
    assertEquals("n2", ends.coordinator().host());
    ends.coordinator().send(new ToAgent.Kill(7));
    ends.coordinator().send(new ToAgent.Ping());
    assertEquals(new ToAgent.Kill(7), ends.agent().receive());
    assertEquals(new ToAgent.Ping(), ends.agent().receive());
    ends.agent().send(new FromAgent.Pong());
    assertEquals(new FromAgent.Pong(), ends.coordinator().receive());
  }

  @Test
  void aBinaryFrameOnTheAgentWireEndsTheConnection() throws Exception {
    Ends ends = connect(new Link(), KEY, KEY);
    ends.agent().sendBlob(new byte[] {'{', '}'}, 0, 2);
    IOException e = assertThrows(IOException.class, ends.coordinator()::receive);
    assertTrue(e.getMessage().contains("on a wire that carries none"), e.getMessage());
  }

  @Test
  void anAgentWithAnotherKeyIsRefusedByTheCoordinator() throws Exception {
    Link link = new Link();
    CompletableFuture<Throwable> agentSide = CompletableFuture.supplyAsync(() -> {
      try {
        SecureChannel.agent(link.agentIn, link.agentOut, "b".repeat(48), "n2");
        return null;
      } catch (IOException e) {
        try {
          link.agentSocket.close(); // as AgentHost does
        } catch (IOException closing) {
          // closed
        }
        return e;
      }
    });
    IOException e = assertThrows(IOException.class,
        () -> SecureChannel.coordinator(link.coordinatorIn, link.coordinatorOut, KEY));
    // The agent finds out first: the coordinator's proof does not match its key.
    assertTrue(String.valueOf(agentSide.get(10, TimeUnit.SECONDS)).contains("did not prove"),
        String.valueOf(agentSide.get()));
    assertTrue(e.getMessage().contains("did not prove"), e.getMessage());
  }

  @Test
  void aChangedReplayedOrUnauthenticatedMessageIsRefused() throws Exception {
    // The coordinator's end writes into a buffer that the test then feeds, altered, to the agent's end.
    Link link = new Link();
    Ends ends = connect(link, KEY, KEY);
    ByteArrayOutputStream wire = new ByteArrayOutputStream();
    ToAgent m = new ToAgent.Kill(3);
    // Re-create the coordinator's sending state over a capturing stream: same keys, same sequence number.
    Ends captured = connect(link = new Link(), KEY, KEY);
    OutputStream tap = new OutputStream() {
      @Override
      public void write(int b) {
        wire.write(b);
      }
    };
    java.lang.reflect.Field out = SecureChannel.class.getDeclaredField("out");
    out.setAccessible(true);
    out.set(captured.coordinator(), tap);
    captured.coordinator().send(m);
    byte[] line = wire.toByteArray();

    java.lang.reflect.Field in = SecureChannel.class.getDeclaredField("in");
    in.setAccessible(true);
    in.set(captured.agent(), new io.crmpi.wire.LineInput(new ByteArrayInputStream(line)));
    assertEquals(m, captured.agent().receive());
    assertNull(captured.agent().receive()); // end of stream

    in.set(captured.agent(), new io.crmpi.wire.LineInput(new ByteArrayInputStream(line))); // the same message again: a replay
    IOException replay = assertThrows(IOException.class, captured.agent()::receive);
    assertTrue(replay.getMessage().contains("failed authentication"), replay.getMessage());

    byte[] changed = line.clone();
    int at = new String(line, StandardCharsets.US_ASCII).indexOf("Kill");
    changed[at] = 'F';
    in.set(ends.agent(), new io.crmpi.wire.LineInput(new ByteArrayInputStream(changed)));
    IOException tampered = assertThrows(IOException.class, ends.agent()::receive);
    assertTrue(tampered.getMessage().contains("failed authentication"), tampered.getMessage());

    in.set(ends.agent(), new io.crmpi.wire.LineInput(new ByteArrayInputStream("{\"type\":\"Bye\",\"body\":{}}\n".getBytes(StandardCharsets.US_ASCII))));
    IOException plain = assertThrows(IOException.class, ends.agent()::receive);
    assertTrue(plain.getMessage().contains("without authentication"), plain.getMessage());
  }

  @Test
  void aMessageThatAuthenticatesButDoesNotDecodeIsABadMessageAndTheChannelStaysInStep() throws Exception {
    Ends ends = connect(new Link(), KEY, KEY);
    ends.coordinator().sendRaw("{\"type\":\"Kill\",\"body\":{\"id\":0}}".getBytes(StandardCharsets.UTF_8));
    ends.coordinator().sendRaw("{\"type\":\"Format\",\"body\":{}}".getBytes(StandardCharsets.UTF_8));
    ends.coordinator().send(new ToAgent.Thaw(4));
    io.crmpi.wire.BadMessage zero = assertThrows(io.crmpi.wire.BadMessage.class, ends.agent()::receive);
    assertTrue(zero.getMessage().contains("call id <= 0"), zero.getMessage());
    io.crmpi.wire.BadMessage unknown = assertThrows(io.crmpi.wire.BadMessage.class, ends.agent()::receive);
    assertTrue(unknown.getMessage().contains("unknown ToAgent type 'Format'"), unknown.getMessage());
    assertEquals(new ToAgent.Thaw(4), ends.agent().receive());
  }

  @Test
  void aMalformedHandshakeMessageIsRefusedBeforeAnyKeyIsUsed() throws Exception {
    Link link = new Link();
    link.agentOut.write("{\"type\":\"Hello\",\"body\":{\"host\":\"n2;rm -rf\",\"nonce\":\"00\"}}\n"
        .getBytes(StandardCharsets.UTF_8));
    IOException e = assertThrows(IOException.class,
        () -> SecureChannel.coordinator(link.coordinatorIn, link.coordinatorOut, KEY));
    assertTrue(e.getMessage().contains("bad handshake message") && e.getMessage().contains("host"), e.getMessage());
  }

  @Test
  void aShortJobKeyIsRefused() {
    Link[] link = new Link[1];
    IOException e = assertThrows(IOException.class, () -> {
      link[0] = new Link();
      connect(link[0], "short", "short");
    });
    assertTrue(e.getMessage().contains("shorter than 32") || String.valueOf(e.getCause()).contains("shorter than 32"),
        e.toString());
  }
}
