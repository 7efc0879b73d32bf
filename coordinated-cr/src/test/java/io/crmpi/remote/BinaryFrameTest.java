package io.crmpi.remote;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crmpi.wire.LineInput;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The partner wire's binary frames (file data without base64 or JSON):
 * they arrive as {@link PartnerMessage.Data} between ordinary messages; a
 * changed header, a replay or a frame on the agent wire fails
 * authentication, a changed data byte fails the CRC32C, and each ends the
 * connection.
 */
class BinaryFrameTest {
  private static final String KEY = "b".repeat(48);

  private record Ends(SecureChannel<PartnerMessage, PartnerMessage> client,
      SecureChannel<PartnerMessage, PartnerMessage> server) {}

  private static Ends connect() throws Exception {
    try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Socket c = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
      Socket s = listener.accept();
      c.setSoTimeout(10_000);
      s.setSoTimeout(10_000);
      CompletableFuture<SecureChannel<PartnerMessage, PartnerMessage>> client = CompletableFuture.supplyAsync(() -> {
        try {
          return SecureChannel.partnerClient(c.getInputStream(), c.getOutputStream(), KEY, "node0");
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      SecureChannel<PartnerMessage, PartnerMessage> server =
          SecureChannel.partnerServer(s.getInputStream(), s.getOutputStream(), KEY);
      return new Ends(client.get(10, TimeUnit.SECONDS), server);
    }
  }

  /** Redirects what end sends into a buffer, and returns it. */
  private static ByteArrayOutputStream tap(SecureChannel<?, ?> end) throws Exception {
    ByteArrayOutputStream wire = new ByteArrayOutputStream();
    java.lang.reflect.Field out = SecureChannel.class.getDeclaredField("out");
    out.setAccessible(true);
    out.set(end, (OutputStream) wire);
    return wire;
  }

  private static void feed(SecureChannel<?, ?> end, byte[] bytes) throws Exception {
    java.lang.reflect.Field in = SecureChannel.class.getDeclaredField("in");
    in.setAccessible(true);
    in.set(end, new LineInput((InputStream) new ByteArrayInputStream(bytes)));
  }

  @Test
  void framesArriveAsDataBetweenMessagesByteForByte() throws Exception {
    Ends ends = connect();
    byte[] data = new byte[SecureChannel.MAX_BLOB];
    new Random(5).nextBytes(data);
    data[100] = '\n'; // newlines in a frame are data, not line ends
    ends.client().send(new PartnerMessage.FileStart("image/pages-1.img", data.length + 10));
    ends.client().sendBlob(data, 0, data.length);
    ends.client().sendBlob(data, 5, 10);
    ends.client().send(new PartnerMessage.End());
    assertInstanceOf(PartnerMessage.FileStart.class, ends.server().receive());
    assertArrayEquals(data, assertInstanceOf(PartnerMessage.Data.class, ends.server().receive()).bytes());
    assertArrayEquals(java.util.Arrays.copyOfRange(data, 5, 15),
        assertInstanceOf(PartnerMessage.Data.class, ends.server().receive()).bytes());
    assertEquals(new PartnerMessage.End(), ends.server().receive());
  }

  @Test
  void aChangedOrReplayedFrameEndsTheConnection() throws Exception {
    Ends ends = connect();
    ByteArrayOutputStream wire = tap(ends.client());
    ends.client().sendBlob(new byte[] {1, 2, 3, 4}, 0, 4);
    byte[] frame = wire.toByteArray();
    byte[] changed = frame.clone();
    changed[changed.length - 1] ^= 1;
    feed(ends.server(), changed);
    IOException e = assertThrows(IOException.class, ends.server()::receive);
    assertTrue(e.getMessage().contains("arrived corrupt"), e.getMessage());

    Ends other = connect();
    ByteArrayOutputStream otherWire = tap(other.client());
    other.client().sendBlob(new byte[] {1, 2, 3, 4}, 0, 4);
    byte[] header = otherWire.toByteArray().clone();
    int crcEnd = header.length - 4 - 2; // the header line's last digit: before its newline and the 4 data bytes
    header[crcEnd] = (byte) (header[crcEnd] == '0' ? '1' : '0');
    feed(other.server(), header);
    IOException forged = assertThrows(IOException.class, other.server()::receive);
    assertTrue(forged.getMessage().contains("failed authentication"), forged.getMessage());

    Ends fresh = connect();
    ByteArrayOutputStream again = tap(fresh.client());
    fresh.client().sendBlob(new byte[] {1, 2, 3, 4}, 0, 4);
    byte[] twice = new byte[again.size() * 2];
    System.arraycopy(again.toByteArray(), 0, twice, 0, again.size());
    System.arraycopy(again.toByteArray(), 0, twice, again.size(), again.size());
    feed(fresh.server(), twice);
    assertInstanceOf(PartnerMessage.Data.class, fresh.server().receive());
    IOException replay = assertThrows(IOException.class, fresh.server()::receive);
    assertTrue(replay.getMessage().contains("failed authentication"), replay.getMessage());
  }

  @Test
  void anOversizedFrameIsRefusedBeforeItsBytesAreRead() throws Exception {
    Ends ends = connect();
    feed(ends.server(), ("ab".repeat(32) + " :" + (SecureChannel.MAX_BLOB + 1) + ":00000000\n").getBytes());
    IOException e = assertThrows(IOException.class, ends.server()::receive);
    assertTrue(e.getMessage().contains("bad header"), e.getMessage());
  }
}
