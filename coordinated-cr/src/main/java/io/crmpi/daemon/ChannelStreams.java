package io.crmpi.daemon;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;

/**
 * Streams over a blocking Unix socket channel that one thread can read
 * while another writes. (Channels.newOutputStream would wait for the
 * channel's blocking lock, which a pending read holds; writing through
 * the channel itself does not.)
 */
final class ChannelStreams {
  private ChannelStreams() {}

  static InputStream in(SocketChannel ch) {
    return new BufferedInputStream(Channels.newInputStream(ch), 65536);
  }

  static OutputStream out(SocketChannel ch) {
    return new BufferedOutputStream(new OutputStream() {
      @Override
      public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(b, off, len);
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
      }
    }, 65536);
  }
}
