package io.crmpi.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The control and launch sockets over real Unix sockets: typed requests in, and nothing else gets through. */
class ControlServerTest {
  @TempDir
  Path dir;

  private final List<Object> handled = new CopyOnWriteArrayList<>();

  private ControlAnswer handle(ControlCommand c) {
    handled.add(c);
    return c instanceof ControlCommand.Checkpoint ? new ControlAnswer.Ok("epoch 3 committed")
        : new ControlAnswer.Refused("not now");
  }

  /** Sends raw bytes and returns the raw answer line. */
  private static String raw(Path socket, byte[] request) throws IOException {
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(socket));
      OutputStream out = Channels.newOutputStream(ch);
      try {
        out.write(request);
        out.flush();
      } catch (IOException e) {
        // the server may refuse before reading it all: its answer still counts
      }
      InputStream in = Channels.newInputStream(ch);
      // One line, as every client reads: a server that refused before reading the whole request may reset
      // the connection after its answer.
      return new String(io.crmpi.wire.Lines.read(in, 1 << 16).orElse(new byte[0]), StandardCharsets.UTF_8);
    }
  }

  @Test
  void commandsReachTheHandlerTypedAndAnswersComeBackTyped() throws IOException {
    Path socket = dir.resolve("sockets/control");
    try (ControlServer s = ControlServer.start(socket, ControlWire.service(this::handle))) {
      assertEquals(new ControlAnswer.Ok("epoch 3 committed"),
          ControlWire.request(socket, new ControlCommand.Checkpoint()));
      assertEquals(new ControlAnswer.Refused("not now"), ControlWire.request(socket, new ControlCommand.Vacate()));
    }
    assertEquals(List.of(new ControlCommand.Checkpoint(), new ControlCommand.Vacate()), handled);
  }

  @Test
  void aBadOrOverlongRequestIsRefusedWithAReasonAndNeverReachesTheHandler() throws IOException {
    Path socket = dir.resolve("sockets/control");
    try (ControlServer s = ControlServer.start(socket, ControlWire.service(this::handle))) {
      String old = raw(socket, "checkpoint\n".getBytes(StandardCharsets.UTF_8));
      assertTrue(old.contains("Refused") && old.contains("bad request") && old.contains("malformed JSON"), old);
      String unknown = raw(socket, "{\"type\":\"Shutdown\",\"body\":{}}\n".getBytes(StandardCharsets.UTF_8));
      assertTrue(unknown.contains("unknown ControlCommand type 'Shutdown'"), unknown);
      byte[] big = new byte[ControlWire.MAX_REQUEST + 10];
      java.util.Arrays.fill(big, (byte) 'x');
      String overlong = raw(socket, big);
      assertTrue(overlong.contains("Refused") && overlong.contains("longer than 4096 bytes"), overlong);
      String empty = raw(socket, "\n".getBytes(StandardCharsets.UTF_8));
      assertTrue(empty.contains("Refused") && empty.contains("bad request"), empty);
      // and it keeps serving
      assertEquals(new ControlAnswer.Ok("epoch 3 committed"),
          ControlWire.request(socket, new ControlCommand.Checkpoint()));
    }
    assertEquals(List.of(new ControlCommand.Checkpoint()), handled);
  }

  @Test
  void theLaunchSocketTakesExactlyExecHostCommand() throws IOException {
    Path socket = dir.resolve("sockets/launch");
    LaunchService service = new LaunchService(r -> {
      if (r.host().equals("down")) {
        throw new IOException("job j has no node slot on host down");
      }
      handled.add(r);
    });
    try (ControlServer s = ControlServer.start(socket, service)) {
      assertEquals("OK", raw(socket, "EXEC\tn2\torted -mca x 1\n".getBytes(StandardCharsets.UTF_8)));
      assertEquals("ERR job j has no node slot on host down",
          raw(socket, "EXEC\tdown\ttrue\n".getBytes(StandardCharsets.UTF_8)));
      for (String bad : List.of("RUN\tn2\ttrue\n", "EXEC\tn2\n", "EXEC\tn2;reboot\ttrue\n", "EXEC\tn2\t \n",
          "EXEC\t\ttrue\n")) {
        String a = raw(socket, bad.getBytes(StandardCharsets.UTF_8));
        assertTrue(a.startsWith("ERR "), bad + " -> " + a);
      }
      String notUtf8 = raw(socket, new byte[] {'E', 'X', 'E', 'C', '\t', 'n', '\t', (byte) 0xff, '\n'});
      assertTrue(notUtf8.startsWith("ERR ") && notUtf8.contains("UTF-8"), notUtf8);
    }
    assertEquals(1, handled.size());
    LaunchRequest r = assertInstanceOf(LaunchRequest.class, handled.get(0));
    assertEquals(new LaunchRequest("n2", "orted -mca x 1"), r);
  }
}
