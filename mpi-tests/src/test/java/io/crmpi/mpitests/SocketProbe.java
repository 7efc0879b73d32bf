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

  /**
   * Runs the probe as user (runuser) from its class file copied into
   * dir/probe (readable by everybody): sends line to socket and returns what
   * came back.
   */
  static String asUser(String user, Path dir, Path socket, String line) throws Exception {
    Path classes = dir.resolve("probe");
    Path pkg = classes.resolve("io/crmpi/mpitests");
    if (!java.nio.file.Files.exists(pkg.resolve("SocketProbe.class"))) {
      java.nio.file.Files.createDirectories(pkg);
      try (var in = SocketProbe.class.getResourceAsStream("SocketProbe.class")) {
        java.nio.file.Files.write(pkg.resolve("SocketProbe.class"), in.readAllBytes());
      }
      new ProcessBuilder("chmod", "-R", "a+rX", classes.toString()).inheritIO().start().waitFor();
    }
    Process p = new ProcessBuilder("runuser", "-u", user, "--",
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", classes.toString(),
        SocketProbe.class.getName(), socket.toString(), line).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("the probe hung: " + line);
    }
    return out;
  }

  public static void main(String[] args) throws Exception {
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(Path.of(args[0])));
      try {
        ch.write(ByteBuffer.wrap((args[1] + "\n").getBytes(StandardCharsets.UTF_8)));
      } catch (java.io.IOException e) {
        // A server that refuses at once may have answered and closed before the request went out:
        // its answer is still in the receive buffer.
      }
      ByteBuffer answer = ByteBuffer.allocate(512);
      int n = ch.read(answer);
      System.out.println(n <= 0 ? "(closed)" : new String(answer.array(), 0, n, StandardCharsets.UTF_8).strip());
    } catch (java.io.IOException e) {
      System.out.println("(closed: " + e.getMessage() + ")");
    }
  }
}
