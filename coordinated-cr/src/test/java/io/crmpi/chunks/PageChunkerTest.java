package io.crmpi.chunks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/** Where {@link PageChunker} cuts, against the rule written out page by page. */
class PageChunkerTest {
  private static final int PAGE = PageChunker.PAGE;

  @Test
  void cutsAfterEveryPageWhoseCrcHasItsLowBitClearOrAtSixteenPagesWhateverTheReadsReturn() throws IOException {
    Random random = new Random(7);
    for (int size : new int[] {0, 1, PAGE - 1, PAGE, 3 * PAGE + 17, 300 * PAGE, (3 << 20) + 5 * PAGE + 123}) {
      byte[] file = new byte[size];
      random.nextBytes(file);
      // a zeroed stretch: pages that are never a cut, so chunks of 16 pages
      Arrays.fill(file, Math.min(size, 2 * PAGE), Math.min(size, 40 * PAGE), (byte) 0);
      List<byte[]> expected = byTheRule(file);
      assertSameChunks(expected, chunks(new Chunks(file, Integer.MAX_VALUE, random)), "one read, " + size);
      assertSameChunks(expected, chunks(new Chunks(file, 4097, random)), "reads of up to a page, " + size);
      assertSameChunks(expected, chunks(new Chunks(file, 3 << 20, random)), "reads of any size, " + size);
    }
  }

  @Test
  void theChunksPutTogetherAreTheFile() throws IOException {
    byte[] file = new byte[(5 << 20) + 77];
    new Random(3).nextBytes(file);
    ByteBuffer joined = ByteBuffer.allocate(file.length);
    for (byte[] c : chunks(new Chunks(file, 100_000, new Random(4)))) {
      assertTrue(c.length <= PageChunker.MAX_BYTES);
      joined.put(c);
    }
    assertArrayEquals(file, joined.array());
  }

  /** The chunks of file as the class comment states the rule, one page after another. */
  private static List<byte[]> byTheRule(byte[] file) {
    List<byte[]> out = new ArrayList<>();
    int start = 0;
    for (int page = 0; page + PAGE <= file.length; page += PAGE) {
      CRC32C crc = new CRC32C();
      crc.update(file, page, PAGE);
      if ((crc.getValue() & 1) == 0 || page + PAGE - start == 16 * PAGE) {
        out.add(Arrays.copyOfRange(file, start, page + PAGE));
        start = page + PAGE;
      }
    }
    if (start < file.length) {
      out.add(Arrays.copyOfRange(file, start, file.length));
    }
    return out;
  }

  private static List<byte[]> chunks(ReadableByteChannel in) throws IOException {
    List<byte[]> out = new ArrayList<>();
    PageChunker.split(in, (buf, len) -> out.add(Arrays.copyOf(buf, len)));
    return out;
  }

  private static void assertSameChunks(List<byte[]> expected, List<byte[]> actual, String what) {
    assertEquals(expected.size(), actual.size(), what + ": number of chunks");
    for (int i = 0; i < expected.size(); i++) {
      assertArrayEquals(expected.get(i), actual.get(i), what + ": chunk " + i);
    }
  }

  /** A channel over bytes whose reads return a random number of bytes, up to max. */
  private static final class Chunks implements ReadableByteChannel {
    private final byte[] data;
    private final int max;
    private final Random random;
    private int pos;

    Chunks(byte[] data, int max, Random random) {
      this.data = data;
      this.max = max;
      this.random = random;
    }

    @Override
    public int read(ByteBuffer dst) {
      if (pos == data.length) {
        return -1;
      }
      int n = Math.min(Math.min(dst.remaining(), data.length - pos), 1 + random.nextInt(Math.min(max, 1 << 30)));
      dst.put(data, pos, n);
      pos += n;
      return n;
    }

    @Override
    public boolean isOpen() {
      return true;
    }

    @Override
    public void close() {}
  }
}
