package io.crmpi.chunks;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.zip.CRC32C;

/**
 * Cuts a file into content-defined chunks of whole pages. A chunk ends
 * after a page whose CRC32C has its low bit zero (one page in two, so
 * chunks average about 8 KiB), or at 16 pages, or at the end of the file.
 * Because a cut depends only on the page before it, a CRIU page image in
 * which a mapping grew or a page appeared (everything after it shifted by
 * whole pages) still cuts where it did, and only the chunks around the
 * change are new. Chunks are small because a job that changes single pages
 * all over its memory makes every chunk holding one of them new: with 3% of
 * the pages changed at random, 8 KiB chunks write about 14% of the image,
 * 32 KiB ones 39% (docs/benchmark-chunks.md). An all-zero page is not a cut
 * (its CRC32C is 0x98f94189), so a zeroed region becomes 16-page chunks
 * that all share one id.
 */
public final class PageChunker {
  public static final int PAGE = 4096;
  static final int MAX_PAGES = 16;
  static final int MAX_BYTES = MAX_PAGES * PAGE;
  private static final int CUT_MASK = 0x1;
  private static final int BLOCK = 1 << 20;

  /** Hears each chunk: its bytes are buf[0, len), valid only during the call. */
  @FunctionalInterface
  public interface Sink {
    void chunk(byte[] buf, int len) throws IOException;
  }

  private PageChunker() {}

  /**
   * Reads in to its end and hands every chunk to sink, in order. The file is
   * read a MiB at a time (a read per page was 256 system calls per MiB on
   * the flush's path); where the reads end has no bearing on the chunks.
   */
  public static void split(ReadableByteChannel in, Sink sink) throws IOException {
    byte[] buf = new byte[MAX_BYTES];
    ByteBuffer block = ByteBuffer.allocate(BLOCK).flip();
    CRC32C crc = new CRC32C();
    int len = 0;
    boolean eof = false;
    while (true) {
      int pageStart = len;
      while (len < pageStart + PAGE && !eof) {
        if (!block.hasRemaining()) {
          block.clear();
          eof = in.read(block) < 0;
          block.flip();
          continue;
        }
        int n = Math.min(pageStart + PAGE - len, block.remaining());
        block.get(buf, len, n);
        len += n;
      }
      if (len - pageStart == PAGE) {
        crc.reset();
        crc.update(buf, pageStart, PAGE);
        if ((crc.getValue() & CUT_MASK) == 0 || len == MAX_BYTES) {
          sink.chunk(buf, len);
          len = 0;
        }
      }
      if (eof) {
        if (len > 0) {
          sink.chunk(buf, len);
        }
        return;
      }
    }
  }
}
