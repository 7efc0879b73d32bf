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
  static String asUser(String user, Path dir, Path socket, String... lines) throws Exception {
    Path classes = dir.resolve("probe");
    Path pkg = classes.resolve("io/crmpi/mpitests");
    if (!java.nio.file.Files.exists(pkg.resolve("SocketProbe.class"))) {
      java.nio.file.Files.createDirectories(pkg);
      try (var in = SocketProbe.class.getResourceAsStream("SocketProbe.class")) {
        java.nio.file.Files.write(pkg.resolve("SocketProbe.class"), in.readAllBytes());
      }
      new ProcessBuilder("chmod", "-R", "a+rX", classes.toString()).inheritIO().start().waitFor();
    }
    java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("runuser", "-u", user, "--",
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", classes.toString(),
        SocketProbe.class.getName(), socket.toString()));
    cmd.addAll(java.util.List.of(lines));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("the probe hung: " + String.join(" | ", lines));
    }
    return out;
  }

  /**
   * Sends each of args[1..] on a connection of its own to the socket
   * args[0] and prints one answer per line. An argument --bytes=N sends N
   * bytes of 'x' before its newline (a line too long for any wire).
   */
  public static void main(String[] args) throws Exception {
    for (int i = 1; i < args.length; i++) {
      System.out.println(probe(Path.of(args[0]), args[i]));
    }
  }

  private static String probe(Path socket, String line) {
    byte[] bytes = line.startsWith("--bytes=")
        ? ("x".repeat(Integer.parseInt(line.substring("--bytes=".length()))) + "\n").getBytes(StandardCharsets.UTF_8)
        : (line + "\n").getBytes(StandardCharsets.UTF_8);
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(socket));
      try {
        ch.write(ByteBuffer.wrap(bytes));
      } catch (java.io.IOException e) {
        // A server that refuses at once may have answered and closed before the request went out:
        // its answer is still in the receive buffer.
      }
      ch.shutdownOutput();
      ByteBuffer answer = ByteBuffer.allocate(512);
      int n = ch.read(answer);
      return n <= 0 ? "(closed)" : new String(answer.array(), 0, n, StandardCharsets.UTF_8).strip()
          .replace('\n', ' ');
    } catch (java.io.IOException e) {
      return "(closed: " + e.getMessage() + ")";
    }
  }
}
