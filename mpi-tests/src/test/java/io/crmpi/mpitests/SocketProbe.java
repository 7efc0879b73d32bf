package io.crmpi.mpitests;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Run as another user by the multi-user tests: connects to a job's Unix
 * socket, sends one line and prints the answer (or "(closed)"), like an
 * attacker with a second account would.
 */
public final class SocketProbe {
  private SocketProbe() {}

  public static void main(String[] args) throws Exception {
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(Path.of(args[0])));
      ch.write(ByteBuffer.wrap((args[1] + "\n").getBytes(StandardCharsets.UTF_8)));
      ByteBuffer answer = ByteBuffer.allocate(512);
      int n = ch.read(answer);
      System.out.println(n <= 0 ? "(closed)" : new String(answer.array(), 0, n, StandardCharsets.UTF_8).strip());
    } catch (java.io.IOException e) {
      System.out.println("(closed: " + e.getMessage() + ")");
    }
  }
}
