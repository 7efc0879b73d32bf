package io.crmpi.remote;

import io.crmpi.store.DurableFiles;
import io.crmpi.wire.BadMessage;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.logging.Logger;

/**
 * The client side of partner copies (storage level L2): puts this node's
 * part of an epoch to another node's {@link PartnerPort}, and gets it back
 * from there when this node's own copy is lost. One connection per call,
 * authenticated with the job key; the calls block until done, with a
 * connect timeout of 10 s and a read timeout of 60 s.
 */
public final class PartnerLink {
  private static final Logger LOG = Logger.getLogger(PartnerLink.class.getName());
  private static final int CONNECT_TIMEOUT_MS = 10_000;
  private static final int READ_TIMEOUT_MS = 60_000;
  private static final int REFUSAL_WAIT_MS = 2_000;

  private PartnerLink() {}

  /**
   * Sends the directory source (this node's part of an epoch) to the
   * partner at endpoint, which keeps it as its copy of (node, epoch),
   * replacing an older copy of the same (node, epoch). Returns the bytes of
   * file data sent. Only when this returns is the copy durable (fsynced)
   * and complete at the partner.
   */
  public static long put(String endpoint, String jobKey, String node, long epoch, Path source) throws IOException {
    CopyTree tree = CopyTree.of(source);
    PartnerMessage.Put request = new PartnerMessage.Put(node, epoch, tree.dirs(), tree.files(), tree.bytes());
    String what = "node " + node + "'s part of epoch " + epoch;
    try (Socket s = connect(endpoint)) {
      SecureChannel<PartnerMessage, PartnerMessage> channel = handshake(s, endpoint, jobKey, node);
      channel.send(request);
      PartnerMessage ready = reply(channel, endpoint, what);
      if (!(ready instanceof PartnerMessage.Ready)) {
        throw unexpected(endpoint, ready);
      }
      try {
        tree.send(channel);
      } catch (IOException e) {
        throw refusalOr(s, channel, endpoint, what, e);
      }
      PartnerMessage done = reply(channel, endpoint, what);
      if (!(done instanceof PartnerMessage.Ok ok)) {
        throw unexpected(endpoint, done);
      }
      if (ok.bytes() != tree.bytes()) {
        throw new IOException("the partner at " + endpoint + " kept " + ok.bytes() + " bytes of " + what + ", not the "
            + tree.bytes() + " sent");
      }
      return ok.bytes();
    }
  }

  /**
   * Fetches the partner's copy of (node, epoch) into target, which must
   * not exist: written into a sibling partial directory named {@code
   * .<target name>.partial-<random alnum>} (parents created), fsynced, then
   * renamed to target. Fails, leaving neither target nor the partial
   * directory, when the partner holds no such copy or the transfer breaks.
   */
  public static void get(String endpoint, String jobKey, String node, long epoch, Path target) throws IOException {
    PartnerMessage.Get request = new PartnerMessage.Get(node, epoch);
    String what = "node " + node + "'s part of epoch " + epoch;
    if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException(target + " exists: not fetching " + what + " from the partner over it");
    }
    try (Socket s = connect(endpoint)) {
      SecureChannel<PartnerMessage, PartnerMessage> channel = handshake(s, endpoint, jobKey, node);
      channel.send(request);
      PartnerMessage answer = reply(channel, endpoint, what);
      if (answer instanceof PartnerMessage.NoCopy) {
        throw new IOException("the partner at " + endpoint + " holds no copy of " + what);
      }
      if (!(answer instanceof PartnerMessage.Holding holding)) {
        throw unexpected(endpoint, answer);
      }
      Path parent = target.toAbsolutePath().getParent();
      Files.createDirectories(parent, CopyReceiver.DIR_MODE);
      Path partial = CopyReceiver.partialBeside(target.toAbsolutePath());
      try {
        // Not fsynced: the restore reads it at once and verifies it first (CopyReceiver).
        CopyReceiver.receive(channel, partial, holding.dirs(), holding.files(), holding.bytes(), false);
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
          throw new IOException(target + " appeared while " + what + " was fetched from the partner: kept as it is");
        }
        Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (IOException e) {
        throw new IOException("fetching " + what + " from the partner at " + endpoint + " failed: " + e.getMessage(),
            e);
      } finally {
        DurableFiles.deleteTree(partial);
      }
    }
  }

  private static Socket connect(String endpoint) throws IOException {
    int colon = endpoint == null ? -1 : endpoint.lastIndexOf(':');
    if (colon <= 0) {
      throw new IOException("bad partner endpoint '" + endpoint + "' (want host:port)");
    }
    String host = endpoint.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(endpoint.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IOException("bad port in partner endpoint '" + endpoint + "' (want host:port)");
    }
    Socket s = new Socket();
    try {
      s.connect(new InetSocketAddress(host, port), CONNECT_TIMEOUT_MS);
      s.setSoTimeout(READ_TIMEOUT_MS);
      s.setTcpNoDelay(true);
      return s;
    } catch (IOException | IllegalArgumentException e) {
      s.close();
      throw new IOException("cannot connect to the partner at " + endpoint + ": " + e.getMessage(), e);
    }
  }

  private static SecureChannel<PartnerMessage, PartnerMessage> handshake(Socket s, String endpoint, String jobKey,
      String node) throws IOException {
    try {
      return SecureChannel.partnerClient(s.getInputStream(), s.getOutputStream(), jobKey, node);
    } catch (IOException | IllegalArgumentException e) {
      throw new IOException("the handshake with the partner at " + endpoint + " failed: " + e.getMessage(), e);
    }
  }

  /** The partner's next answer: a refusal or the end of the connection is an IOException naming what was asked. */
  private static PartnerMessage reply(SecureChannel<PartnerMessage, PartnerMessage> channel, String endpoint,
      String what) throws IOException {
    PartnerMessage m;
    try {
      m = channel.receive();
    } catch (BadMessage e) {
      throw new IOException("the partner at " + endpoint + " answered with a bad message: " + e.getMessage());
    }
    if (m == null) {
      throw new IOException("the partner at " + endpoint + " closed the connection while handling " + what);
    }
    if (m instanceof PartnerMessage.Refused r) {
      throw new IOException("the partner at " + endpoint + " refused " + what + ": " + BadMessage.quote(r.why()));
    }
    return m;
  }

  /**
   * A failure to send the copy, or the refusal that caused it: a partner
   * that refuses in the middle of a copy stops reading, so the sender's
   * writes fail while the reason may wait unread on the connection.
   */
  private static IOException refusalOr(Socket s, SecureChannel<PartnerMessage, PartnerMessage> channel,
      String endpoint, String what, IOException e) {
    try {
      s.setSoTimeout(REFUSAL_WAIT_MS);
      if (channel.receive() instanceof PartnerMessage.Refused r) {
        return new IOException("the partner at " + endpoint + " refused " + what + ": " + BadMessage.quote(r.why()), e);
      }
    } catch (IOException | RuntimeException none) {
      LOG.fine("no refusal after a failed send to " + endpoint + ": " + none.getMessage());
    }
    return new IOException("sending " + what + " to the partner at " + endpoint + " failed: " + e.getMessage(), e);
  }

  private static IOException unexpected(String endpoint, PartnerMessage m) {
    return new IOException("the partner at " + endpoint + " answered " + m.getClass().getSimpleName()
        + " out of turn: not a crmpi partner of this version?");
  }
}
