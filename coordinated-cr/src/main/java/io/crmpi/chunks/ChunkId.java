package io.crmpi.chunks;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A chunk's content address: the SHA-256 of its uncompressed bytes, as
 * four longs so that it is a value (equal ids are equal records). A
 * cryptographic hash, not a 64-bit one: the chunks of a long job number in
 * the millions, and the id is what a restore trusts a chunk by.
 */
public record ChunkId(long a, long b, long c, long d) {
  public static final int BYTES = 32;

  /** The id of len bytes of buf from off. */
  public static ChunkId of(byte[] buf, int off, int len) {
    MessageDigest sha = sha256();
    sha.update(buf, off, len);
    return fromBytes(sha.digest());
  }

  public static ChunkId fromBytes(byte[] digest) {
    if (digest.length != BYTES) {
      throw new IllegalArgumentException("a chunk id has 32 bytes, not " + digest.length);
    }
    ByteBuffer b = ByteBuffer.wrap(digest);
    return new ChunkId(b.getLong(), b.getLong(), b.getLong(), b.getLong());
  }

  public byte[] toBytes() {
    return ByteBuffer.allocate(BYTES).putLong(a).putLong(b).putLong(c).putLong(d).array();
  }

  /** The id in hex, as logs and error messages print it. */
  @Override
  public String toString() {
    return HexFormat.of().formatHex(toBytes());
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JVM has no SHA-256", e);
    }
  }
}
