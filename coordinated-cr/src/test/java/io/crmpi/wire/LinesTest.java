package io.crmpi.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class LinesTest {
  private static InputStream in(String s) {
    return new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void returnsEachLineWithoutItsNewlineAndStopsThere() throws IOException {
    InputStream in = in("abc\n\nxyz\n");
    assertArrayEquals("abc".getBytes(StandardCharsets.UTF_8), Lines.read(in, 10).orElseThrow());
    assertArrayEquals(new byte[0], Lines.read(in, 10).orElseThrow());
    assertArrayEquals("xyz".getBytes(StandardCharsets.UTF_8), Lines.read(in, 10).orElseThrow());
    assertTrue(Lines.read(in, 10).isEmpty());
  }

  @Test
  void aCleanEndIsEmptyAndAnEndInsideALineIsAnError() throws IOException {
    assertTrue(Lines.read(InputStream.nullInputStream(), 10).isEmpty());
    IOException e = assertThrows(IOException.class, () -> Lines.read(in("x"), 10));
    assertTrue(e.getMessage().contains("in the middle of a message"), e.getMessage());
  }

  @Test
  void aLineOfExactlyTheLimitIsAcceptedAndOneByteMoreIsRefused() throws IOException {
    assertEquals(10, Lines.read(in("0123456789\n"), 10).orElseThrow().length);
    IOException e = assertThrows(IOException.class, () -> Lines.read(in("0123456789A\n"), 10));
    assertTrue(e.getMessage().contains("longer than 10 bytes"), e.getMessage());
  }

  @Test
  void anEndlessLineIsRefusedAfterTheLimitWithoutReadingFurther() {
    int[] read = {0};
    InputStream endless = new InputStream() {
      @Override
      public int read() {
        read[0]++;
        return 'x';
      }
    };
    assertThrows(IOException.class, () -> Lines.read(endless, 1000));
    assertEquals(1001, read[0]);
  }
}
