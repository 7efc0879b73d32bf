package io.crmpi.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's side of the quiesce protocol against hand-written ranks that
 * speak libcrmpi's line protocol over the real Unix socket.
 */
class RankChannelTest {
  @TempDir Path tmp;

  /** A rank as libcrmpi would behave, scripted by the test. */
  private static final class FakeRank implements AutoCloseable {
    final int world;
    final SocketChannel ch;
    final BufferedReader in;
    final OutputStream out;
    final List<String> received = new ArrayList<>();

    FakeRank(Path socket, int world, int size, String how) throws IOException {
      this(socket, world, size, how, RankChannel.ABI_VERSION);
    }

    FakeRank(Path socket, int world, int size, String how, int abi) throws IOException {
      this.world = world;
      ch = SocketChannel.open(StandardProtocolFamily.UNIX);
      ch.connect(UnixDomainSocketAddress.of(socket));
      in = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8));
      out = Channels.newOutputStream(ch);
      send("HELLO " + abi + " " + (1000 + world) + " " + world + " " + size + " " + how);
    }

    void send(String line) throws IOException {
      out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
    }

    String expect(String kind) throws IOException {
      String line = in.readLine();
      received.add(line);
      assertTrue(line != null && line.startsWith(kind), "expected " + kind + ", got " + line);
      return line;
    }

    @Override
    public void close() throws IOException {
      ch.close();
    }
  }

  private static CompletableFuture<Integer> quiesceAsync(RankChannel channel, long epoch) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return channel.quiesce(epoch, null, Duration.ofSeconds(10)).ranks();
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
    });
  }

  private static void awaitConnected(RankChannel c, int n) throws InterruptedException {
    for (int i = 0; i < 200 && !c.hasRanks(); i++) {
      Thread.sleep(10);
    }
    Thread.sleep(50 * n);
  }

  @Test
  void aMalformedReportAbortsTheQuiesceAndReleasesEveryRank() throws Exception {
    Path socket = tmp.resolve("ranks.sock");
    try (RankChannel channel = RankChannel.listen(socket, "job");
        FakeRank r0 = new FakeRank(socket, 0, 2, "NEW");
        FakeRank r1 = new FakeRank(socket, 1, 2, "NEW")) {
      awaitConnected(channel, 2);
      CompletableFuture<Integer> q = quiesceAsync(channel, 7);
      r0.expect("PREPARE 7");
      r1.expect("PREPARE 7");
      r0.send("STATE 7 w");
      r1.send("STATE 7 w=6");
      java.util.concurrent.ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(
          java.util.concurrent.ExecutionException.class, () -> q.get(10, TimeUnit.SECONDS));
      assertTrue(String.valueOf(e.getCause()).contains("malformed report during the quiesce of epoch 7"),
          String.valueOf(e.getCause()));
      r0.expect("ABORT 7");
      r1.expect("ABORT 7");
    }
  }

  @Test
  void aQuiesceComputesTargetsAndExpectationsFromEveryRank() throws Exception {
    Path socket = tmp.resolve("ranks.sock");
    try (RankChannel channel = RankChannel.listen(socket, "job");
        FakeRank r0 = new FakeRank(socket, 0, 2, "NEW");
        FakeRank r1 = new FakeRank(socket, 1, 2, "NEW")) {
      awaitConnected(channel, 2);
      CompletableFuture<Integer> q = quiesceAsync(channel, 7);
      r0.expect("PREPARE 7");
      r1.expect("PREPARE 7");
      r0.send("STATE 7 w=5 w.1=2");
      r1.send("STATE 7 w=6 w.1=2");
      assertEquals("TARGET 7 w.1=2 w=6", sorted(r0.expect("TARGET 7")));
      assertEquals("TARGET 7 w.1=2 w=6", sorted(r1.expect("TARGET 7")));
      r0.send("SENT 7 1 w:1=10 w.1:1=3");
      r1.send("SENT 7 1 w:0=4");
      assertEquals("EXPECT 7 w:1=4", r0.expect("EXPECT 7"));
      assertEquals("EXPECT 7 w.1:0=3 w:0=10", sorted(r1.expect("EXPECT 7")));
      // Nobody listens from EXPECT on: a rank that closes after its READY cannot reconnect before the dump.
      assertThrows(IOException.class, () -> new FakeRank(socket, 0, 2, "RESUME 7").close());
      r0.send("READY 7");
      r0.close(); // ABI 2: closes right after READY, no GO
      r1.send("READY 7");
      r1.close();
      assertEquals(2, q.get(10, TimeUnit.SECONDS));
      channel.resume(7, RankChannel.Outcome.CONTINUE);
      try (FakeRank again = new FakeRank(socket, 0, 2, "RESUME 7")) {
        again.expect("CONTINUE 7");
      }
    }
  }

  @Test
  void aRankThatClosesAfterReadyHearsTheAbortWhenItReconnects() throws Exception {
    Path socket = tmp.resolve("ranks.sock");
    try (RankChannel channel = RankChannel.listen(socket, "job");
        FakeRank r0 = new FakeRank(socket, 0, 2, "NEW");
        FakeRank r1 = new FakeRank(socket, 1, 2, "NEW")) {
      awaitConnected(channel, 2);
      CompletableFuture<Integer> q = quiesceAsync(channel, 4);
      r0.expect("PREPARE 4");
      r1.expect("PREPARE 4");
      r0.send("STATE 4 w=1");
      r1.send("STATE 4 w=1");
      r0.expect("TARGET 4");
      r1.expect("TARGET 4");
      r0.send("SENT 4 1");
      r1.send("SENT 4 1");
      r0.expect("EXPECT 4");
      r1.expect("EXPECT 4");
      r0.send("READY 4");
      r0.close();
      r1.close(); // gone before its READY: the quiesce fails
      java.util.concurrent.ExecutionException e = assertThrows(java.util.concurrent.ExecutionException.class,
          () -> q.get(10, TimeUnit.SECONDS));
      assertTrue(String.valueOf(e.getCause()).contains("rank 1 disconnected during the quiesce (READY)"),
          String.valueOf(e.getCause()));
      try (FakeRank again = new FakeRank(socket, 0, 2, "RESUME 4")) {
        again.expect("ABORT 4");
      }
    }
  }

  @Test
  void ranksOfAbiOneCloseOnlyAfterGo() throws Exception {
    Path socket = tmp.resolve("ranks.sock");
    try (RankChannel channel = RankChannel.listen(socket, "job");
        FakeRank r0 = new FakeRank(socket, 0, 2, "NEW", 1);
        FakeRank r1 = new FakeRank(socket, 1, 2, "NEW", 1)) {
      awaitConnected(channel, 2);
      CompletableFuture<Integer> q = quiesceAsync(channel, 7);
      r0.expect("PREPARE 7");
      r1.expect("PREPARE 7");
      r0.send("STATE 7 w=5 w.1=2");
      r1.send("STATE 7 w=6 w.1=2");
      assertEquals("TARGET 7 w.1=2 w=6", sorted(r0.expect("TARGET 7")));
      assertEquals("TARGET 7 w.1=2 w=6", sorted(r1.expect("TARGET 7")));
      r0.send("SENT 7 1 w:1=10 w.1:1=3");
      r1.send("SENT 7 1 w:0=4");
      assertEquals("EXPECT 7 w:1=4", r0.expect("EXPECT 7"));
      assertEquals("EXPECT 7 w.1:0=3 w:0=10", sorted(r1.expect("EXPECT 7")));
      r0.send("READY 7");
      r1.send("READY 7");
      r0.expect("GO 7");
      r1.expect("GO 7");
      r0.close();
      r1.close();
      assertEquals(2, q.get(10, TimeUnit.SECONDS));
    }
  }

  @Test
  void aRaisedTargetStartsANewRoundOfReports() throws Exception {
    Path socket = tmp.resolve("ranks.sock");
    try (RankChannel channel = RankChannel.listen(socket, "job");
        FakeRank r0 = new FakeRank(socket, 0, 2, "NEW", 1);
        FakeRank r1 = new FakeRank(socket, 1, 2, "NEW", 2)) {
      awaitConnected(channel, 2);
      CompletableFuture<Integer> q = quiesceAsync(channel, 3);
      r0.expect("PREPARE");
      r1.expect("PREPARE");
      r0.send("STATE 3 w=5");
      r1.send("STATE 3 w=5");
      r0.expect("TARGET 3 w=5");
      r1.expect("TARGET 3 w=5");
      r0.send("SENT 3 1 w:1=1");
      r1.send("RAISE 3 w=6"); // inside a critical section, it must enter collective 6
      assertEquals("TARGET 3 w=6", r0.expect("TARGET"));
      assertEquals("TARGET 3 w=6", r1.expect("TARGET"));
      r0.send("SENT 3 2 w:1=2");
      r1.send("SENT 3 2");
      assertEquals("EXPECT 3 w:0=2", r1.expect("EXPECT"));
      r0.expect("EXPECT");
      r0.send("READY 3");
      r1.send("READY 3");
      r1.close(); // ABI 2
      r0.expect("GO"); // ABI 1
      r0.close();
      assertEquals(2, q.get(10, TimeUnit.SECONDS));
    }
  }

  @Test
  void aDeclineOrATimeoutAbortsAndReconnectingRanksHearTheOutcome() throws Exception {
    Path socket = tmp.resolve("ranks.sock");
    try (RankChannel channel = RankChannel.listen(socket, "job");
        FakeRank r0 = new FakeRank(socket, 0, 1, "NEW")) {
      awaitConnected(channel, 1);
      CompletableFuture<Void> q = CompletableFuture.runAsync(() -> {
        IOException e = assertThrows(IOException.class, () -> channel.quiesce(1, null, Duration.ofSeconds(10)));
        assertTrue(e.getMessage().contains("declined"), e.getMessage());
      });
      r0.expect("PREPARE 1");
      r0.send("DECLINED 1 not now");
      r0.expect("ABORT 1");
      q.get(10, TimeUnit.SECONDS);

      IOException timeout = assertThrows(IOException.class, () -> channel.quiesce(2, null, Duration.ofMillis(300)));
      assertTrue(timeout.getMessage().contains("timed out waiting for STATE"), timeout.getMessage());
      r0.expect("PREPARE 2");
      r0.expect("ABORT 2");

      channel.resume(5, RankChannel.Outcome.CONTINUE);
      try (FakeRank again = new FakeRank(socket, 0, 1, "RESUME 5")) {
        again.expect("CONTINUE 5");
      }
      channel.expectRestart(6);
      try (FakeRank restored = new FakeRank(socket, 0, 1, "RESUME 6")) {
        restored.expect("RESTART 6");
      }
    }
  }

  @Test
  void aRankOfAnotherAbiIsRefusedWithAClearReason() throws Exception {
    Path socket = tmp.resolve("ranks.sock");
    try (RankChannel channel = RankChannel.listen(socket, "job");
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(socket));
      Channels.newOutputStream(ch).write("HELLO 99 1 0 1 NEW\n".getBytes(StandardCharsets.UTF_8));
      for (int i = 0; i < 200 && !channel.hasRanks(); i++) {
        Thread.sleep(10);
      }
      IOException e = assertThrows(IOException.class, () -> channel.quiesce(1, null, Duration.ofSeconds(1)));
      assertTrue(e.getMessage().contains("ABI 99"), e.getMessage());
    }
  }

  @Test
  void withoutLibcrmpiRanksThereIsNothingToQuiesce() throws Exception {
    try (RankChannel channel = RankChannel.listen(tmp.resolve("ranks.sock"), "job")) {
      assertFalse(channel.hasRanks());
      assertEquals(0, channel.quiesce(1, null, Duration.ofSeconds(1)).ranks());
    }
  }

  /** The words after "KIND EPOCH", sorted, so that map order does not matter. */
  private static String sorted(String line) {
    String[] f = line.split(" ");
    List<String> rest = new ArrayList<>(List.of(f).subList(2, f.length));
    rest.sort(null);
    return f[0] + " " + f[1] + (rest.isEmpty() ? "" : " " + String.join(" ", rest));
  }
}
