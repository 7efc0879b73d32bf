package io.crmpi.wire;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Optional;

/**
 * {@link Lines#read}, for a connection that carries long lines (partner
 * copies send a MiB per line): a buffer of its own, scanned for the newline
 * a block at a time instead of a synchronized read per byte. Bounded the
 * same way: no line longer than the caller's limit is ever held.
 */
public final class LineInput implements Closeable {
  private final InputStream in;
  private final byte[] buf = new byte[64 << 10];
  private int pos;
  private int end;

  public LineInput(InputStream in) {
    this.in = in;
  }

  /** As {@link Lines#read}: the next line without its newline, empty at the end of the stream. */
  public Optional<byte[]> readLine(int max) throws IOException {
    ByteArrayOutputStream partial = null;
    for (;;) {
      if (pos == end) {
        int n = in.read(buf, 0, buf.length);
        if (n < 0) {
          if (partial == null || partial.size() == 0) {
            return Optional.empty();
          }
          throw new IOException("the connection ended in the middle of a message");
        }
        pos = 0;
        end = n;
      }
      int i = pos;
      while (i < end && buf[i] != '\n') {
        i++;
      }
      int len = i - pos;
      int held = partial == null ? 0 : partial.size();
      if ((long) held + len > max) {
        throw new IOException("message longer than " + max + " bytes: refused");
      }
      if (i < end) {
        byte[] line;
        if (partial == null) {
          line = Arrays.copyOfRange(buf, pos, i);
        } else {
          partial.write(buf, pos, len);
          line = partial.toByteArray();
        }
        pos = i + 1;
        return Optional.of(line);
      }
      if (partial == null) {
        partial = new ByteArrayOutputStream(Math.max(256, 2 * len));
      }
      partial.write(buf, pos, len);
      pos = end;
    }
  }

  /** The next n bytes, whatever they are (a binary frame after its header line). */
  public byte[] readExactly(int n) throws IOException {
    byte[] b = new byte[n];
    int have = Math.min(n, end - pos);
    System.arraycopy(buf, pos, b, 0, have);
    pos += have;
    while (have < n) {
      int r = in.read(b, have, n - have);
      if (r < 0) {
        throw new IOException("the connection ended in the middle of a message");
      }
      have += r;
    }
    return b;
  }

  @Override
  public void close() throws IOException {
    in.close();
  }
}
