package io.crmpi.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ParallelFilesTest {
  @TempDir
  Path dir;

  @Test
  void theResultsComeInTheItemsOrder() throws IOException {
    assertEquals(List.of(2, 4, 6, 8, 10), ParallelFiles.map(List.of(1, 2, 3, 4, 5), "t", i -> i * 2));
  }

  /**
   * crmpid's staging reports progress to its client from these tasks: a
   * failing file must not interrupt a task in the middle of such a report,
   * which would close the client's socket before crmpid can answer it.
   */
  @Test
  void aFailureNeitherInterruptsTheTasksUnderWayNorClosesTheSocketTheyWriteTo() throws Exception {
    Path socket = dir.resolve("s.sock");
    try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      server.bind(UnixDomainSocketAddress.of(socket));
      try (SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(socket));
          SocketChannel served = server.accept()) {
        CountDownLatch writing = new CountDownLatch(1);
        List<String> ran = new CopyOnWriteArrayList<>();
        IOException e = assertThrows(IOException.class, () -> ParallelFiles.map(List.of("bad", "slow", "late1",
            "late2", "late3", "late4"), "t", item -> {
              if (item.equals("slow")) {
                writing.countDown();
                for (int i = 0; i < 20; i++) {
                  served.write(ByteBuffer.wrap(("progress " + i + "\n").getBytes()));
                  sleep(25);
                }
              } else if (item.equals("bad")) {
                awaitLatch(writing);
                throw new IOException("cannot read image file pages-2.img: Input/output error");
              }
              ran.add(item);
              return item;
            }));
        assertEquals("cannot read image file pages-2.img: Input/output error", e.getMessage());
        assertTrue(ran.contains("slow"), "the task under way was cut short: " + ran);
        assertTrue(served.isOpen(), "the socket the task wrote to was closed");
        served.write(ByteBuffer.wrap("refused\n".getBytes()));
        served.close();
        String got = new String(readAll(client));
        assertTrue(got.endsWith("progress 19\nrefused\n"), got);
        assertFalse(Thread.currentThread().isInterrupted());
      }
    } finally {
      Files.deleteIfExists(socket);
    }
  }

  private static byte[] readAll(SocketChannel ch) throws IOException {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    ByteBuffer b = ByteBuffer.allocate(4096);
    while (ch.read(b) > 0) {
      out.write(b.array(), 0, b.position());
      b.clear();
    }
    return out.toByteArray();
  }

  private static void awaitLatch(CountDownLatch l) throws IOException {
    try {
      assertTrue(l.await(10, TimeUnit.SECONDS));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted");
    }
  }

  private static void sleep(long ms) throws IOException {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted");
    }
  }
}
