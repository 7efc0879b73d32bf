package io.crmpi.workdir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 over a byte range of a file, read without following a symlink. */
final class Sha256 {
  private static final int BUFFER = 1 << 20;

  private Sha256() {}

  static MessageDigest start() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("no SHA-256 in this JVM", e);
    }
  }

  /** Feeds bytes [from, to) of file into md; throws when the file is shorter than to. */
  static void update(MessageDigest md, Path file, long from, long to) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
      ByteBuffer buf = ByteBuffer.allocate(BUFFER);
      long at = from;
      while (at < to) {
        buf.clear().limit((int) Math.min(BUFFER, to - at));
        int n = ch.read(buf, at);
        if (n < 0) {
          throw new IOException(file + " is shorter than " + to + " bytes");
        }
        md.update(buf.array(), 0, n);
        at += n;
      }
    }
  }

  /** SHA-256 of the first length bytes of file. */
  static String ofPrefix(Path file, long length) throws IOException {
    MessageDigest md = start();
    update(md, file, 0, length);
    return hex(md);
  }

  static String hex(MessageDigest md) {
    return HexFormat.of().formatHex(md.digest());
  }
}
