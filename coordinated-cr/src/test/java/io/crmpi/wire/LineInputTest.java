package io.crmpi.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** LineInput reads what Lines.read reads, a block at a time, with the same bounds. */
class LineInputTest {
  /** A stream that hands out at most a few bytes per read, as a socket may. */
  private static InputStream trickle(byte[] bytes, int most) {
    return new ByteArrayInputStream(bytes) {
      @Override
      public synchronized int read(byte[] b, int off, int len) {
        return super.read(b, off, Math.min(len, most));
      }
    };
  }

  @Test
  void linesOfEveryLengthComeBackWholeWhateverTheReadsReturn() throws IOException {
    Random random = new Random(3);
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    byte[][] lines = new byte[40][];
    for (int i = 0; i < lines.length; i++) {
      lines[i] = new byte[i == 7 ? 300_000 : random.nextInt(100_000)];
      for (int j = 0; j < lines[i].length; j++) {
        lines[i][j] = (byte) ('a' + random.nextInt(26));
      }
      all.write(lines[i]);
      all.write('\n');
    }
    for (int most : new int[] {1, 7, 65536, Integer.MAX_VALUE}) {
      LineInput in = new LineInput(trickle(all.toByteArray(), most));
      for (byte[] line : lines) {
        assertArrayEquals(line, in.readLine(1 << 20).orElseThrow());
      }
      assertEquals(Optional.empty(), in.readLine(1 << 20));
    }
  }

  @Test
  void aLineBeyondTheLimitIsRefusedBeforeItIsHeld() {
    byte[] big = new byte[200_001];
    java.util.Arrays.fill(big, (byte) 'x');
    IOException e = assertThrows(IOException.class, () -> new LineInput(new ByteArrayInputStream(big))
        .readLine(100_000));
    assertTrue(e.getMessage().contains("longer than 100000 bytes"), e.getMessage());
  }

  @Test
  void aLineCutOffByTheEndOfTheStreamIsAnError() throws IOException {
    LineInput in = new LineInput(new ByteArrayInputStream("ab\ncd".getBytes()));
    assertArrayEquals("ab".getBytes(), in.readLine(10).orElseThrow());
    IOException e = assertThrows(IOException.class, () -> in.readLine(10));
    assertEquals("the connection ended in the middle of a message", e.getMessage());
  }
}
