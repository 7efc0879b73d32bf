package io.crmpi.local;

import io.crmpi.security.PrivateSockets;
import io.crmpi.wire.Lines;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.logging.Logger;

/**
 * A running job's Unix socket for one-line requests from its owner: the
 * control socket (other crmpi commands; {@link ControlWire}) and the launch
 * socket (crmpi-rsh; {@link LaunchService}). It lives in the owner's
 * private directory ({@link PrivateSockets}); every connection's peer
 * credentials are checked, and the request line is bounded, before the
 * {@link LineService} sees it.
 */
public final class ControlServer implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(ControlServer.class.getName());
  private final Path path;
  private final ServerSocketChannel server;
  private final LineService service;
  private final Thread acceptor;
  private final java.util.concurrent.atomic.AtomicInteger active = new java.util.concurrent.atomic.AtomicInteger();

  private ControlServer(Path path, ServerSocketChannel server, LineService service) {
    this.path = path;
    this.server = server;
    this.service = service;
    this.acceptor = new Thread(this::acceptLoop, "crmpi-control");
    acceptor.setDaemon(true);
  }

  /** Listens on path, answering each request through service. */
  static ControlServer start(Path path, LineService service) throws IOException {
    ServerSocketChannel server = PrivateSockets.listen(path);
    ControlServer s = new ControlServer(path, server, service);
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
      OutputStream out = Channels.newOutputStream(ch);
      String refusal = PrivateSockets.refusal(ch);
      byte[] answer;
      if (refusal != null) {
        LOG.warning("socket " + path + ": refused a connection: " + refusal);
        answer = service.refusal(refusal);
      } else {
        try {
          answer = Lines.read(Channels.newInputStream(ch), service.maxRequest()).map(service::answer)
              .orElseGet(() -> service.refusal("empty request"));
        } catch (IOException e) {
          LOG.warning("socket " + path + ": refused a request: " + e.getMessage());
          answer = service.refusal(e.getMessage());
        }
      }
      write(out, answer);
    } catch (IOException e) {
      LOG.fine("control request failed: " + e);
    } finally {
      active.decrementAndGet();
    }
  }

  private static void write(OutputStream out, byte[] answer) throws IOException {
    out.write(answer);
    out.write('\n');
    out.flush();
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
