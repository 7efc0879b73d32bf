package io.crmpi.remote;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
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

  private static SecureChannel[] connect(Link link, String agentKey, String coordinatorKey) throws Exception {
    CompletableFuture<SecureChannel> agent = CompletableFuture.supplyAsync(() -> {
      try {
        return SecureChannel.agent(link.agentIn, link.agentOut, agentKey, "n2");
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    SecureChannel coordinator = SecureChannel.coordinator(link.coordinatorIn, link.coordinatorOut, coordinatorKey);
    return new SecureChannel[] {coordinator, agent.get(10, TimeUnit.SECONDS)};
  }

  @Test
  void messagesTravelBothWaysAfterTheHandshake() throws Exception {
    SecureChannel[] ends = connect(new Link(), KEY, KEY);
    assertEquals("n2", ends[0].host());
    ObjectNode m = Wire.message("call");
    m.put("id", 7);
    ends[0].send(m);
    ends[0].send(Wire.message("ping"));
    assertEquals(m, ends[1].receive());
    assertEquals("ping", ends[1].receive().path("op").asText());
    ends[1].send(Wire.message("pong"));
    assertEquals("pong", ends[0].receive().path("op").asText());
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
    SecureChannel[] ends = connect(link, KEY, KEY);
    ByteArrayOutputStream wire = new ByteArrayOutputStream();
    ObjectNode m = Wire.message("call");
    m.put("call", "kill");
    // Re-create the coordinator's sending state over a capturing stream: same keys, same sequence number.
    SecureChannel[] captured = connect(link = new Link(), KEY, KEY);
    OutputStream tap = new OutputStream() {
      @Override
      public void write(int b) {
        wire.write(b);
      }
    };
    java.lang.reflect.Field out = SecureChannel.class.getDeclaredField("out");
    out.setAccessible(true);
    out.set(captured[0], tap);
    captured[0].send(m);
    byte[] line = wire.toByteArray();

    java.lang.reflect.Field in = SecureChannel.class.getDeclaredField("in");
    in.setAccessible(true);
    in.set(captured[1], new ByteArrayInputStream(line));
    assertEquals(m, captured[1].receive());
    assertNull(captured[1].receive()); // end of stream

    in.set(captured[1], new ByteArrayInputStream(line)); // the same message again: a replay
    IOException replay = assertThrows(IOException.class, captured[1]::receive);
    assertTrue(replay.getMessage().contains("failed authentication"), replay.getMessage());

    byte[] changed = line.clone();
    int at = new String(line, StandardCharsets.US_ASCII).indexOf("kill");
    changed[at] = 'f';
    in.set(ends[1], new ByteArrayInputStream(changed));
    IOException tampered = assertThrows(IOException.class, ends[1]::receive);
    assertTrue(tampered.getMessage().contains("failed authentication"), tampered.getMessage());

    in.set(ends[1], new ByteArrayInputStream("{\"op\":\"bye\"}\n".getBytes(StandardCharsets.US_ASCII)));
    IOException plain = assertThrows(IOException.class, ends[1]::receive);
    assertTrue(plain.getMessage().contains("without authentication"), plain.getMessage());
  }

  @Test
  void aLineIsBoundedBeforeItIsBuffered() throws Exception {
    InputStream endless = new InputStream() {
      @Override
      public int read() {
        return 'x';
      }
    };
    IOException e = assertThrows(IOException.class, () -> SecureChannel.readLine(endless, 4096));
    assertTrue(e.getMessage().contains("longer than 4096 bytes"), e.getMessage());
    assertNull(SecureChannel.readLine(new ByteArrayInputStream(new byte[0]), 10));
    assertEquals("ab", new String(SecureChannel.readLine(new ByteArrayInputStream("ab\ncd".getBytes()), 10)));
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
