package io.crmpi.daemon;

import io.crmpi.store.FileDigest;
import io.crmpi.wire.BadMessage;
import io.crmpi.wire.JsonLines;
import io.crmpi.wire.Lines;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * crmpid's wire: every message is one line of {@link JsonLines}, a record
 * of a sealed type ({@link DaemonRequest} or {@link DaemonReply}). A line
 * is read at most {@link #MAX_REQUEST} (requests) or {@link #MAX_REPLY}
 * bytes long before anything parses it (an overlong line is an
 * IOException), and the record's constructor validates it. Whatever is not
 * a well-formed message of the expected type is a {@link BadMessage} that
 * says what was wrong, and never reaches the daemon's logic.
 */
public final class DaemonWire {
  /** The longest request line: a restore lists every file of one node's image. */
  public static final int MAX_REQUEST = 1 << 20;
  /** The longest reply line (a persisted image's file list, an output chunk). */
  public static final int MAX_REPLY = 16 << 20;
  private static final int WARM_UP_ROUNDS = 3000;
  private static final JsonLines<DaemonRequest> REQUESTS = JsonLines.of("crmpid", DaemonRequest.class);
  private static final JsonLines<DaemonReply> REPLIES = JsonLines.of("crmpid", DaemonReply.class);

  private DaemonWire() {}

  /** Writes one message (a request or a reply) as a line and flushes. */
  public static void write(OutputStream out, Record message) throws IOException {
    byte[] line;
    if (message instanceof DaemonRequest r) {
      line = REQUESTS.encode(r);
    } else if (message instanceof DaemonReply r) {
      line = REPLIES.encode(r);
    } else {
      throw new IllegalArgumentException("not a crmpid message: " + message.getClass().getName());
    }
    synchronized (out) {
      out.write(line);
      out.write('\n');
      out.flush();
    }
  }

  /** Reads the next request; empty at a clean end of stream. */
  public static Optional<DaemonRequest> readRequest(InputStream in) throws IOException {
    return Lines.read(in, MAX_REQUEST).map(REQUESTS::decode);
  }

  /** Reads the next reply; empty at a clean end of stream. */
  public static Optional<DaemonReply> readReply(InputStream in) throws IOException {
    return Lines.read(in, MAX_REPLY).map(REPLIES::decode);
  }

  /**
   * Encodes and decodes the messages of a checkpoint (freeze, dump, thaw,
   * persist and their replies) until the JIT has compiled the codec.
   * crmpid and its clients exchange only a few messages a minute, so
   * without this every message of a checkpoint would run as interpreted
   * code, inside the window in which the job's ranks stand frozen.
   * Costs a few hundred milliseconds of one core, once; call it on a
   * background thread.
   */
  public static void warmUp() {
    TreeId tree = new TreeId("warm-up", "node0");
    List<Record> messages = List.of(new DaemonRequest.Freeze(tree), new DaemonRequest.Thaw(tree),
        new DaemonRequest.Dump(tree, Path.of("/nonexistent/warm-up"), 60_000), new DaemonRequest.Persist(tree, 1),
        new DaemonRequest.Seal(tree, 1),
        new DaemonReply.Done(), new DaemonReply.Dumped(Map.of("engine", "criu", "processes", "9")),
        new DaemonReply.Persisted(List.of(FileDigest.unsealed("pages-1.img", 4096)), Map.of()),
        new DaemonReply.Sealed(List.of(new FileDigest("pages-1.img", 4096, "0".repeat(64))),
            Map.of(ImageSeal.ATTRIBUTE, "0".repeat(64))));
    try {
      for (int i = 0; i < WARM_UP_ROUNDS; i++) {
        for (Record m : messages) {
          ByteArrayOutputStream out = new ByteArrayOutputStream();
          write(out, m);
          ByteArrayInputStream in = new ByteArrayInputStream(out.toByteArray());
          if (m instanceof DaemonRequest) {
            readRequest(in);
          } else {
            readReply(in);
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      throw new IllegalStateException("crmpid's codec cannot read its own messages: " + e, e);
    }
  }

  /** Decodes one line as a request or a reply; an unchecked {@link BadMessage} when it is none. */
  static <T> T decode(byte[] line, Class<T> sealed) {
    if (sealed == DaemonRequest.class) {
      return sealed.cast(REQUESTS.decode(line));
    }
    if (sealed == DaemonReply.class) {
      return sealed.cast(REPLIES.decode(line));
    }
    throw new IllegalArgumentException("not a crmpid message type: " + sealed.getName());
  }
}
