package io.crmpi.local;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import io.crmpi.security.PrivateSockets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;
import java.util.logging.Logger;

/**
 * The running job's control socket (a Unix socket, root-only like the job
 * directory): other crmpi commands send one request line ("checkpoint") and
 * read the answer, whose last line starts with "OK " or "ERR ".
 */
public final class ControlServer implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(ControlServer.class.getName());
  private final Path path;
  private final ServerSocketChannel server;
  private final Function<String, String> handler;
  private final Thread acceptor;
  private final java.util.concurrent.atomic.AtomicInteger active = new java.util.concurrent.atomic.AtomicInteger();

  private ControlServer(Path path, ServerSocketChannel server, Function<String, String> handler) {
    this.path = path;
    this.server = server;
    this.handler = handler;
    this.acceptor = new Thread(this::acceptLoop, "crmpi-control");
    acceptor.setDaemon(true);
  }

  /** Listens on path; handler maps a request line to the answer's last line. */
  public static ControlServer start(Path path, Function<String, String> handler) throws IOException {
    ServerSocketChannel server = PrivateSockets.listen(path);
    ControlServer s = new ControlServer(path, server, handler);
    s.acceptor.start();
    return s;
  }

  private void acceptLoop() {
    while (server.isOpen()) {
      try {
        SocketChannel ch = server.accept();
        Thread t = new Thread(() -> serve(ch), "crmpi-control-request");
        t.setDaemon(true);
        t.start();
      } catch (IOException e) {
        if (server.isOpen()) {
          LOG.warning("control socket " + path + ": " + e);
        }
        return;
      }
    }
  }

  private void serve(SocketChannel ch) {
    active.incrementAndGet();
    try (ch) {
      String refusal = PrivateSockets.refusal(ch);
      if (refusal != null) {
        LOG.warning("socket " + path + ": refused a connection: " + refusal);
        Channels.newOutputStream(ch).write(("ERR refused: " + refusal + "\n").getBytes(StandardCharsets.UTF_8));
        return;
      }
      BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch),
          StandardCharsets.UTF_8));
      String request = in.readLine();
      String answer;
      try {
        answer = request == null ? "ERR empty request" : handler.apply(request.strip());
      } catch (RuntimeException e) {
        answer = "ERR " + e.getMessage();
      }
      OutputStream out = Channels.newOutputStream(ch);
      out.write((answer + "\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
    } catch (IOException e) {
      LOG.fine("control request failed: " + e);
    } finally {
      active.decrementAndGet();
    }
  }

  /** Stops accepting, and lets requests in progress write their answers (5 s at most). */
  @Override
  public void close() {
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (active.get() > 0 && System.nanoTime() < deadline) {
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    try {
      server.close();
      Files.deleteIfExists(path);
    } catch (IOException e) {
      LOG.fine("closing control socket: " + e);
    }
  }
}
