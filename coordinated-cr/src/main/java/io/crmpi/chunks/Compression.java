package io.crmpi.chunks;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import java.io.IOException;
import java.util.logging.Logger;

/**
 * zstd for chunks, where it pays: a chunk is stored compressed only when
 * that saves at least an eighth of it (random or encrypted memory is
 * stored as it is, and costs no decompression on restore). Level 0 turns
 * compression off. When zstd's native library cannot be loaded here (a
 * platform zstd-jni has no build for, a temporary directory mounted
 * noexec), chunks are stored uncompressed and the log says why, once.
 */
final class Compression implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(Compression.class.getName());
  private static volatile Boolean available;
  private final ZstdCompressCtx ctx;
  private byte[] out = new byte[0];

  private Compression(ZstdCompressCtx ctx) {
    this.ctx = ctx;
  }

  /** A compressor at level (1 to 19; 0: none). */
  static Compression atLevel(int level) {
    if (level < 0 || level > 19) {
      throw new IllegalArgumentException("zstd level must be 0 (off) to 19: " + level);
    }
    if (level == 0 || !available()) {
      return new Compression(null);
    }
    ZstdCompressCtx c = new ZstdCompressCtx();
    c.setLevel(level);
    c.setChecksum(false); // the chunk id checks the bytes
    return new Compression(c);
  }

  /**
   * Compresses buf[0, len); returns the stored length in {@link #output()},
   * or -1 when the chunk is to be stored as it is.
   */
  int compress(byte[] buf, int len) {
    if (ctx == null) {
      return -1;
    }
    int bound = (int) Zstd.compressBound(len);
    if (out.length < bound) {
      out = new byte[bound];
    }
    int n = ctx.compressByteArray(out, 0, out.length, buf, 0, len);
    return n > 0 && n <= len - len / 8 ? n : -1;
  }

  byte[] output() {
    return out;
  }

  /** Decompresses a stored chunk into raw (of exactly rawLength bytes). */
  static void decompress(byte[] stored, int storedLength, byte[] raw, int rawLength) throws IOException {
    if (!available()) {
      throw new IOException("the chunk is compressed, and zstd's native library cannot be loaded here"
          + " (see the log)");
    }
    try (ZstdDecompressCtx d = new ZstdDecompressCtx()) {
      int n = d.decompressByteArray(raw, 0, rawLength, stored, 0, storedLength);
      if (n != rawLength) {
        throw new IOException("zstd gave " + n + " bytes, the chunk has " + rawLength);
      }
    } catch (RuntimeException e) {
      throw new IOException("cannot decompress the chunk: " + e.getMessage(), e);
    }
  }

  static boolean available() {
    Boolean a = available;
    if (a == null) {
      try {
        Zstd.compressBound(1);
        a = true;
      } catch (LinkageError e) {
        LOG.warning("zstd is not available (" + e + "): chunks are stored uncompressed. Its native library is"
            + " unpacked into java.io.tmpdir, which must allow executables; set -Djava.io.tmpdir or"
            + " ZstdNativePath to a directory that does");
        a = false;
      }
      available = a;
    }
    return a;
  }

  @Override
  public void close() {
    if (ctx != null) {
      ctx.close();
    }
  }
}
