package io.crmpi.wire;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;

/**
 * Reads the newline-terminated lines every crmpi wire is made of, bounded
 * before anything is buffered: a peer cannot make the reader hold more than
 * the channel's limit, whatever it sends.
 */
public final class Lines {
  private Lines() {}

  /**
   * The next line without its newline; empty at the end of the stream
   * before any byte. A line longer than max bytes, or one cut off by the end
   * of the stream, is an IOException.
   */
  public static Optional<byte[]> read(InputStream in, int max) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream(256);
    for (;;) {
      int b = in.read();
      if (b < 0) {
        if (line.size() == 0) {
          return Optional.empty();
        }
        throw new IOException("the connection ended in the middle of a message");
      }
      if (b == '\n') {
        return Optional.of(line.toByteArray());
      }
      if (line.size() >= max) {
        throw new IOException("message longer than " + max + " bytes: refused");
      }
      line.write(b);
    }
  }
}
