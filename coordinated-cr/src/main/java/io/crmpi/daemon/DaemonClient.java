package io.crmpi.daemon;

import io.crmpi.engine.ProgressListener;
import io.crmpi.wire.BadMessage;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;

/**
 * A connection to this node's crmpid: one request and its reply, or a
 * tree's lease. Where crmpid listens: CRMPI_DAEMON_SOCKET, else
 * {@value #DEFAULT_SOCKET}.
 */
public final class DaemonClient {
  public static final String DEFAULT_SOCKET = "/run/crmpi/crmpid.sock";
  public static final String SOCKET_VARIABLE = "CRMPI_DAEMON_SOCKET";
  private final Path socket;

  public DaemonClient(Path socket) {
    this.socket = socket;
  }

  /** The socket the environment names, or the default one. */
  public static DaemonClient fromEnvironment(java.util.Map<String, String> env) {
    String s = env.get(SOCKET_VARIABLE);
    return new DaemonClient(Path.of(s == null || s.isBlank() ? DEFAULT_SOCKET : s));
  }

  public Path socket() {
    return socket;
  }

  /** Opens a connection and sends request. */
  SocketChannel open(DaemonRequest request) throws IOException {
    SocketChannel ch;
    try {
      ch = SocketChannel.open(StandardProtocolFamily.UNIX);
      ch.connect(UnixDomainSocketAddress.of(socket));
    } catch (IOException e) {
      throw new IOException("cannot reach crmpid at " + socket + " (" + e.getMessage() + "): is it running?"
          + " 'systemctl status crmpid' (or scripts/setup.sh on a single machine) starts it; an ordinary user's"
          + " job needs it", e);
    }
    DaemonWire.write(ChannelStreams.out(ch), (Record) request);
    return ch;
  }

  /** Sends request and returns its reply; a refusal is an IOException with crmpid's message. */
  public DaemonReply call(DaemonRequest request) throws IOException {
    return call(request, ProgressListener.NONE);
  }

  /** Sends request and returns its reply, telling progress of each progress report before it. */
  DaemonReply call(DaemonRequest request, ProgressListener progress) throws IOException {
    try (SocketChannel ch = open(request)) {
      return answer(ChannelStreams.in(ch), request, progress);
    } catch (BadMessage e) {
      throw new IOException("crmpid sent a bad reply: " + e.getMessage());
    }
  }

  /**
   * The next reply on in that is not a progress report (those go to
   * progress); a refusal is an IOException with crmpid's message.
   */
  static DaemonReply answer(java.io.InputStream in, DaemonRequest request, ProgressListener progress)
      throws IOException {
    while (true) {
      DaemonReply reply = DaemonWire.readReply(in).orElseThrow(() -> new IOException(
          "crmpid closed the connection without an answer to " + request.getClass().getSimpleName()));
      if (reply instanceof DaemonReply.Progress p) {
        progress.at(p.bytes(), p.total());
      } else if (reply instanceof DaemonReply.Refused r) {
        throw new IOException("crmpid: " + r.message());
      } else {
        return reply;
      }
    }
  }

  /** Sends request and expects a reply of type want. */
  public <T extends DaemonReply> T call(DaemonRequest request, Class<T> want) throws IOException {
    return call(request, want, ProgressListener.NONE);
  }

  /** Sends request, tells progress how far it has come, and expects a reply of type want. */
  <T extends DaemonReply> T call(DaemonRequest request, Class<T> want, ProgressListener progress)
      throws IOException {
    DaemonReply reply = call(request, progress);
    if (!want.isInstance(reply)) {
      throw new IOException("crmpid answered " + request.getClass().getSimpleName() + " with "
          + reply.getClass().getSimpleName() + ", not " + want.getSimpleName());
    }
    return want.cast(reply);
  }
}
