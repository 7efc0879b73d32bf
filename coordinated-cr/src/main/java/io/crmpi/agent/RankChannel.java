package io.crmpi.agent;

import io.crmpi.wire.BadMessage;
import io.crmpi.wire.Lines;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import io.crmpi.nativeio.Scheduling;
import io.crmpi.security.PrivateSockets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * The agent's side of libcrmpi's control channel: a Unix socket that the
 * ranks of this node connect to at MPI_Init (path in CRMPI_AGENT_SOCKET),
 * one text line per message ({@link RankMessage} in, {@link ToRank} out;
 * {@link RankWire} parses). {@link #quiesce} runs the quiesce of one epoch
 * (PREPARE, STATE, TARGET, SENT, EXPECT, READY, GO; see libcrmpi's
 * quiesce.c); when it returns, every rank has drained its messages and
 * closed its connection, so the tree can be dumped. The ranks reconnect
 * after the dump, or after a restore, and are told CONTINUE, RESTART or
 * ABORT.
 */
public final class RankChannel implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(RankChannel.class.getName());

  /** The newest libcrmpi ABI this agent speaks (CRMPI_ABI_VERSION in crmpi.h). */
  public static final int ABI_VERSION = 2;
  /**
   * The oldest libcrmpi ABI this agent speaks: ranks of ABI 1 (a checkpoint
   * taken by an earlier crmpi, restored by this one) wait for GO after READY
   * before they close their connection; ranks of ABI 2 close it at once.
   */
  public static final int OLDEST_ABI_VERSION = 1;

  /** What a rank that reconnects after an epoch is told. */
  public enum Outcome { CONTINUE, RESTART, ABORT }

  private final Path path;
  private final String job;
  private final Map<Integer, Rank> ranks = new ConcurrentHashMap<>();
  private final Map<Long, Outcome> outcomes = new ConcurrentHashMap<>();
  private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
  private volatile ServerSocketChannel server;
  private volatile int worldSize = -1;
  private volatile int finalized;
  private volatile String abiMismatch;

  private RankChannel(Path path, String job) {
    this.path = path;
    this.job = job;
  }

  /** Listens at path (replacing a stale socket file). */
  public static RankChannel listen(Path path, String job) throws IOException {
    RankChannel c = new RankChannel(path, job);
    c.open();
    Thread warmUp = new Thread(RankWire::warmUp, "crmpi-rank-wire-warm-up");
    warmUp.setDaemon(true);
    warmUp.setPriority(Thread.MIN_PRIORITY);
    warmUp.start();
    return c;
  }

  public Path path() {
    return path;
  }

  /** Whether any rank of this node carries libcrmpi. */
  public boolean hasRanks() {
    return worldSize > 0 || abiMismatch != null;
  }

  private synchronized void open() throws IOException {
    if (server != null && server.isOpen()) {
      return;
    }
    ServerSocketChannel s = PrivateSockets.listen(path);
    server = s;
    Thread t = new Thread(() -> acceptLoop(s), "crmpi-ranks-accept");
    t.setDaemon(true);
    t.start();
  }

  /** Stops accepting: a rank that tries to reconnect now waits until {@link #open}. */
  private synchronized void stopListening() throws IOException {
    if (server != null) {
      server.close();
      server = null;
    }
    Files.deleteIfExists(path);
  }

  private void acceptLoop(ServerSocketChannel s) {
    while (s.isOpen()) {
      try {
        SocketChannel ch = s.accept();
        Thread t = new Thread(() -> serve(ch), "crmpi-rank-connection");
        t.setDaemon(true);
        t.start();
      } catch (ClosedChannelException e) {
        return;
      } catch (IOException e) {
        if (s.isOpen()) {
          LOG.warning("job " + job + ": rank socket " + path + ": " + e);
        }
        return;
      }
    }
  }

  private void serve(SocketChannel ch) {
    Scheduling.askForShortSlice(); // a quiesce round waits for the slowest answer
    Rank rank = null;
    try (ch) {
      String refusal = PrivateSockets.refusal(ch);
      if (refusal != null) {
        LOG.warning("job " + job + ": rank socket " + path + ": refused a connection: " + refusal);
        return;
      }
      InputStream in = new java.io.BufferedInputStream(Channels.newInputStream(ch), 1 << 16);
      for (byte[] bytes; (bytes = Lines.read(in, RankWire.MAX_LINE).orElse(null)) != null; ) {
        RankMessage m;
        try {
          m = RankWire.parse(new String(bytes, StandardCharsets.UTF_8));
        } catch (BadMessage e) {
          if (rank == null) {
            throw e;
          }
          // A rank we know: keep its connection, so that it hears the ABORT of the quiesce this fails.
          LOG.warning("job " + job + ": bad message from rank " + rank.world + ": " + e.getMessage());
          events.add(new Event(rank, null, e.getMessage()));
          continue;
        }
        if (m instanceof RankMessage.ForeignHello h) {
          abiMismatch = "rank " + h.rank() + " runs libcrmpi ABI " + h.abi() + ", this crmpi speaks "
              + OLDEST_ABI_VERSION + " to " + ABI_VERSION;
          LOG.warning("job " + job + ": " + abiMismatch + ": its checkpoints will fail until libcrmpi and crmpi match");
          return;
        } else if (m instanceof RankMessage.Hello h) {
          rank = new Rank(h.rank(), h.abi(), ch);
          worldSize = h.size();
          ranks.put(rank.world, rank);
          if (h.resumeEpoch() > 0) {
            long epoch = h.resumeEpoch();
            rank.send(new ToRank.Outcome(outcomes.getOrDefault(epoch, Outcome.CONTINUE), epoch));
          }
        } else if (m instanceof RankMessage.Bye && rank != null) {
          ranks.remove(rank.world, rank);
          finalized++;
          rank = null;
        } else if (m instanceof RankMessage.OfEpoch e && rank != null) {
          events.add(new Event(rank, e, null));
        }
      }
    } catch (IOException e) {
      LOG.fine("job " + job + ": rank connection: " + e);
    } catch (BadMessage e) {
      LOG.warning("job " + job + ": bad message from " + (rank == null ? "a rank" : "rank " + rank.world)
          + ", connection dropped: " + e.getMessage());
    }
    if (rank != null) {
      ranks.remove(rank.world, rank);
      events.add(new Event(rank, null, null));
    }
  }

  /**
   * Quiesces every rank of the node for epoch; on success every rank has
   * closed its connection and the tree can be frozen and dumped. On failure
   * (timeout, a declined checkpoint, a rank gone) the ranks are told to go
   * on and an IOException says why. Returns how many ranks, and how long each round took.
   */
  public Quiesced quiesce(long epoch, String statePath, Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    List<Rank> members = new ArrayList<>(ranks.values());
    if (abiMismatch != null) {
      throw new IOException(abiMismatch);
    }
    if (members.size() + finalized < worldSize) {
      throw new IOException("only " + members.size() + " of " + worldSize
          + " ranks are connected to the agent (still starting, or some do not carry libcrmpi)");
    }
    if (members.isEmpty()) {
      return Quiesced.NONE;
    }
    events.clear();
    Scheduling.askForShortSlice();
    try {
      long t0 = System.nanoTime();
      broadcast(members, new ToRank.Prepare(epoch, statePath));
      Map<String, Long> targets = new LinkedHashMap<>();
      for (RankMessage m : collect(members, RankMessage.State.class, epoch, deadline).values()) {
        ((RankMessage.State) m).entered().forEach((gid, n) -> targets.merge(gid, n, Math::max));
      }
      long t1 = System.nanoTime();
      Map<Rank, RankMessage.Sent> sentReports = collectSent(members, epoch, deadline, targets);
      Map<Flow, Long> sent = new HashMap<>();
      sentReports.forEach((rank, report) -> report.counts().forEach(c ->
          sent.put(new Flow(c.gid(), rank.world, c.peer()), c.messages())));
      long t2 = System.nanoTime();
      // From here a rank may close its connection (after its READY) and try to reconnect: nobody may answer
      // it before the dump is over, and if the epoch fails, it hears ABORT.
      outcomes.put(epoch, Outcome.ABORT);
      stopListening();
      for (Rank r : members) {
        List<RankMessage.Count> expect = new ArrayList<>();
        sent.forEach((flow, n) -> {
          if (flow.dst() == r.world) {
            expect.add(new RankMessage.Count(flow.gid(), flow.src(), n));
          }
        });
        r.send(new ToRank.Expect(epoch, expect));
      }
      Set<Rank> closed = collectReady(members, epoch, deadline);
      long t3 = System.nanoTime();
      List<Rank> waiting = new ArrayList<>();
      for (Rank r : members) {
        if (closed.contains(r)) {
          continue;
        }
        if (r.abi == 1) {
          r.send(new ToRank.Go(epoch)); // only GO makes it close
        }
        waiting.add(r); // ABI 2: closing already
      }
      awaitDisconnected(waiting, deadline);
      return new Quiesced(members.size(), t1 - t0, t2 - t1, t3 - t2, System.nanoTime() - t3);
    } catch (IOException e) {
      abort(epoch);
      throw e;
    } catch (RuntimeException e) {
      // A report that does not fit (say, a count for a rank that does not exist): the ranks must still be
      // let go, and the epoch aborts.
      abort(epoch);
      throw new IOException("a rank sent a malformed report during the quiesce of epoch " + epoch + ": " + e, e);
    }
  }

  /** After the dump (or a failed one): listen again; reconnecting ranks of epoch hear outcome. */
  public void resume(long epoch, Outcome outcome) throws IOException {
    outcomes.put(epoch, outcome);
    open();
  }

  /** Tells every connected rank that epoch is off, and any that reconnects later. */
  public void abort(long epoch) throws IOException {
    outcomes.put(epoch, Outcome.ABORT);
    for (Rank r : ranks.values()) {
      try {
        r.send(new ToRank.Abort(epoch));
      } catch (IOException e) {
        // it is reconnecting: it will hear ABORT then
      }
    }
    open();
  }

  /** Before a restore from epoch: the restored ranks reconnect and hear RESTART. */
  public void expectRestart(long epoch) throws IOException {
    outcomes.put(epoch, Outcome.RESTART);
    ranks.clear();
    finalized = 0;
    open();
  }

  /** Forgets the ranks of a tree that ended (a new one will say HELLO). */
  public void treeEnded() {
    abiMismatch = null;
    ranks.clear();
    worldSize = -1;
    finalized = 0;
  }

  /**
   * Sends the targets and collects every rank's SENT for the latest round. A
   * rank inside a critical section that must pass a target asks to RAISE it:
   * the targets go out again (a new round) and every rank reports anew.
   */
  private Map<Rank, RankMessage.Sent> collectSent(List<Rank> members, long epoch, long deadline,
      Map<String, Long> targets) throws IOException {
    int round = 0;
    Map<Rank, RankMessage.Sent> got = new HashMap<>();
    while (true) {
      if (got.isEmpty()) {
        round++;
        broadcast(members, new ToRank.Target(epoch, targets));
      }
      while (got.size() < members.size()) {
        Event e = next(members, epoch, deadline, "SENT", members.size() - got.size());
        RankMessage m = e.message();
        if (m instanceof RankMessage.Raise r && targets.getOrDefault(r.gid(), 0L) < r.collectives()) {
          targets.put(r.gid(), r.collectives());
          got.clear();
          break;
        }
        if (m instanceof RankMessage.Sent s && s.round() == round) {
          got.put(e.rank(), s);
        }
      }
      if (got.size() == members.size()) {
        return got;
      }
    }
  }

  private static void broadcast(List<Rank> members, ToRank message) throws IOException {
    for (Rank r : members) {
      r.send(message);
    }
  }

  /** Waits for one message of kind for epoch from every member. */
  private Map<Rank, RankMessage> collect(List<Rank> members, Class<? extends RankMessage> kind, long epoch,
      long deadline) throws IOException {
    Map<Rank, RankMessage> got = new HashMap<>();
    while (got.size() < members.size()) {
      Event e = next(members, epoch, deadline, kind.getSimpleName().toUpperCase(java.util.Locale.ROOT),
          members.size() - got.size());
      if (kind.isInstance(e.message())) {
        got.put(e.rank(), e.message());
      }
    }
    return got;
  }

  /**
   * Waits for every member's READY. Returns the members that closed their
   * connection after it already (ABI 2 ranks do so at once); a rank that
   * closes before its READY fails the quiesce.
   */
  private Set<Rank> collectReady(List<Rank> members, long epoch, long deadline) throws IOException {
    Set<Rank> ready = new HashSet<>();
    Set<Rank> closed = new HashSet<>();
    while (ready.size() < members.size()) {
      Event e = next(members, epoch, deadline, "READY", members.size() - ready.size(), ready);
      if (e.message() == null) {
        closed.add(e.rank());
      } else if (e.message() instanceof RankMessage.Ready) {
        ready.add(e.rank());
      }
    }
    return closed;
  }

  private void awaitDisconnected(List<Rank> members, long deadline) throws IOException {
    Set<Rank> open = new HashSet<>(members);
    while (!open.isEmpty()) {
      Event e = poll(deadline, "disconnect", open.size());
      if (e.message() == null && e.malformed() == null) {
        open.remove(e.rank());
      }
    }
  }

  /**
   * The next message of this epoch from a rank. A rank that disconnects or
   * declines ends the quiesce (an IOException); messages of other epochs
   * are skipped.
   */
  private Event next(List<Rank> members, long epoch, long deadline, String what, int missing) throws IOException {
    return next(members, epoch, deadline, what, missing, Set.of());
  }

  /** As above; the disconnect of a rank in mayClose is returned (a message-less event), not an error. */
  private Event next(List<Rank> members, long epoch, long deadline, String what, int missing, Set<Rank> mayClose)
      throws IOException {
    for (;;) {
      Event e = poll(deadline, what, missing);
      if (e.malformed() != null) {
        throw new IOException("rank " + e.rank().world + " sent a malformed report during the quiesce of epoch "
            + epoch + ": " + e.malformed());
      }
      if (e.message() == null && mayClose.contains(e.rank())) {
        return e;
      }
      if (e.message() == null) {
        throw new IOException("rank " + e.rank().world + " disconnected during the quiesce (" + what + ")");
      }
      if (e.message().epoch() != epoch) {
        continue;
      }
      if (e.message() instanceof RankMessage.Declined d) {
        throw new IOException("rank " + e.rank().world + " declined the checkpoint: " + d.why());
      }
      return e;
    }
  }

  private Event poll(long deadline, String what, int missing) throws IOException {
    try {
      long left = deadline - System.nanoTime();
      Event e = left > 0 ? events.poll(left, TimeUnit.NANOSECONDS) : null;
      if (e == null) {
        throw new IOException("quiesce timed out waiting for " + what + " from " + missing
            + " rank(s) (a rank in a long computation or a critical section?)");
      }
      return e;
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted during the quiesce");
    }
  }

  @Override
  public void close() throws IOException {
    stopListening();
  }

  /** A message from a rank; or why a line of it did not parse; or (both null) its disconnect. */
  private record Event(Rank rank, RankMessage.OfEpoch message, String malformed) {}

  /** Messages on communicator gid from world rank src to world rank dst. */
  private record Flow(String gid, int src, int dst) {}

  private static final class Rank {
    final int world;
    final int abi;
    final SocketChannel ch;

    Rank(int world, int abi, SocketChannel ch) {
      this.world = world;
      this.abi = abi;
      this.ch = ch;
    }

    synchronized void send(ToRank message) throws IOException {
      ByteBuffer b = ByteBuffer.wrap((message.line() + "\n").getBytes(StandardCharsets.UTF_8));
      while (b.hasRemaining()) {
        ch.write(b);
      }
    }
  }
}
