package io.crmpi.agent;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import io.crmpi.security.PrivateSockets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * The agent's side of libcrmpi's control channel: a Unix socket that the
 * ranks of this node connect to at MPI_Init (path in CRMPI_AGENT_SOCKET),
 * one text line per message. {@link #quiesce} runs the quiesce of one epoch
 * (PREPARE, STATE, TARGET, SENT, EXPECT, READY, GO; see libcrmpi's
 * quiesce.c); when it returns, every rank has drained its messages and
 * closed its connection, so the tree can be dumped. The ranks reconnect
 * after the dump, or after a restore, and are told CONTINUE, RESTART or
 * ABORT.
 */
public final class RankChannel implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(RankChannel.class.getName());

  /** The libcrmpi ABI this agent speaks (CRMPI_ABI_VERSION in crmpi.h). */
  public static final int ABI_VERSION = 1;

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
    Rank rank = null;
    try (ch) {
      String refusal = PrivateSockets.refusal(ch);
      if (refusal != null) {
        LOG.warning("job " + job + ": rank socket " + path + ": refused a connection: " + refusal);
        return;
      }
      BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch),
          StandardCharsets.UTF_8));
      for (String line; (line = in.readLine()) != null; ) {
        String[] f = line.split(" ");
        if (f[0].equals("HELLO") && f.length >= 6) {
          if (Integer.parseInt(f[1]) != ABI_VERSION) {
            LOG.warning("job " + job + ": rank " + f[3] + " runs libcrmpi ABI " + f[1] + ", this crmpi speaks "
                + ABI_VERSION + ": its checkpoints will fail until libcrmpi and crmpi match");
            abiMismatch = "rank " + f[3] + " runs libcrmpi ABI " + f[1] + ", this crmpi speaks " + ABI_VERSION;
            return;
          }
          rank = new Rank(Integer.parseInt(f[3]), ch);
          worldSize = Integer.parseInt(f[4]);
          ranks.put(rank.world, rank);
          if (f[5].equals("RESUME") && f.length >= 7) {
            long epoch = Long.parseLong(f[6]);
            Outcome o = outcomes.getOrDefault(epoch, Outcome.CONTINUE);
            rank.send(o.name() + " " + epoch);
          }
        } else if (f[0].equals("BYE") && rank != null) {
          ranks.remove(rank.world, rank);
          finalized++;
          rank = null;
        } else if (rank != null) {
          events.add(new Event(rank, line));
        }
      }
    } catch (IOException e) {
      LOG.fine("job " + job + ": rank connection: " + e);
    } catch (RuntimeException e) {
      LOG.warning("job " + job + ": bad message from a rank, connection dropped: " + e);
    }
    if (rank != null) {
      ranks.remove(rank.world, rank);
      events.add(new Event(rank, "EOF"));
    }
  }

  /**
   * Quiesces every rank of the node for epoch; on success every rank has
   * closed its connection and the tree can be frozen and dumped. On failure
   * (timeout, a declined checkpoint, a rank gone) the ranks are told to go
   * on and an IOException says why. Returns the number of ranks quiesced.
   */
  public int quiesce(long epoch, String statePath, Duration timeout) throws IOException {
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
      return 0;
    }
    events.clear();
    try {
      broadcast(members, "PREPARE " + epoch + " " + (statePath == null ? "-" : statePath));
      Map<String, Long> targets = new LinkedHashMap<>();
      for (Map.Entry<Rank, String> e : collect(members, "STATE", epoch, deadline).entrySet()) {
        for (String kv : words(e.getValue())) {
          String[] p = kv.split("=");
          targets.merge(p[0], Long.parseLong(p[1]), Math::max);
        }
      }
      Map<Rank, String> sentLines = collectSent(members, epoch, deadline, targets);

      Map<Flow, Long> sent = new HashMap<>();
      for (Map.Entry<Rank, String> e : sentLines.entrySet()) {
        for (String kv : words(e.getValue()).subList(1, words(e.getValue()).size())) {
          int colon = kv.lastIndexOf(':');
          int eq = kv.indexOf('=');
          sent.put(new Flow(kv.substring(0, colon), e.getKey().world, Integer.parseInt(kv.substring(colon + 1, eq))),
              Long.parseLong(kv.substring(eq + 1)));
        }
      }
      for (Rank r : members) {
        StringBuilder expect = new StringBuilder("EXPECT " + epoch);
        sent.forEach((flow, n) -> {
          if (flow.dst() == r.world) {
            expect.append(' ').append(flow.gid()).append(':').append(flow.src()).append('=').append(n);
          }
        });
        r.send(expect.toString());
      }
      collect(members, "READY", epoch, deadline);
      outcomes.put(epoch, Outcome.ABORT);
      stopListening();
      broadcast(members, "GO " + epoch);
      awaitDisconnected(members, deadline);
      return members.size();
    } catch (IOException e) {
      abort(epoch);
      throw e;
    } catch (RuntimeException e) {
      // A report that does not parse: the ranks must still be let go, and the epoch aborts.
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
        r.send("ABORT " + epoch);
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
  private Map<Rank, String> collectSent(List<Rank> members, long epoch, long deadline, Map<String, Long> targets)
      throws IOException {
    int round = 0;
    Map<Rank, String> got = new HashMap<>();
    while (true) {
      if (got.isEmpty()) {
        round++;
        StringBuilder target = new StringBuilder("TARGET " + epoch);
        targets.forEach((gid, n) -> target.append(' ').append(gid).append('=').append(n));
        broadcast(members, target.toString());
      }
      while (got.size() < members.size()) {
        Event e = next(deadline, "SENT", members.size() - got.size());
        String[] f = e.line().split(" ");
        if (f[0].equals("EOF")) {
          throw new IOException("rank " + e.rank().world + " disconnected during the quiesce (SENT)");
        }
        if (f.length < 3 || Long.parseLong(f[1]) != epoch) {
          continue;
        }
        if (f[0].equals("RAISE")) {
          String[] p = f[2].split("=");
          long n = Long.parseLong(p[1]);
          if (targets.getOrDefault(p[0], 0L) < n) {
            targets.put(p[0], n);
            got.clear();
            break;
          }
        } else if (f[0].equals("SENT") && Integer.parseInt(f[2]) == round) {
          got.put(e.rank(), e.line());
        } else if (f[0].equals("DECLINED")) {
          throw new IOException("rank " + e.rank().world + " declined the checkpoint");
        }
      }
      if (got.size() == members.size()) {
        return got;
      }
    }
  }

  private static List<String> words(String line) {
    String[] f = line.split(" ");
    List<String> w = new ArrayList<>();
    for (int i = 2; i < f.length; i++) {
      if (!f[i].isEmpty()) {
        w.add(f[i]);
      }
    }
    return w;
  }

  private static void broadcast(List<Rank> members, String line) throws IOException {
    for (Rank r : members) {
      r.send(line);
    }
  }

  /** Waits for one message of kind for epoch from every member. */
  private Map<Rank, String> collect(List<Rank> members, String kind, long epoch, long deadline) throws IOException {
    Map<Rank, String> got = new HashMap<>();
    while (got.size() < members.size()) {
      Event e = next(deadline, kind, members.size() - got.size());
      String[] f = e.line().split(" ", 3);
      if (f[0].equals("EOF")) {
        throw new IOException("rank " + e.rank().world + " disconnected during the quiesce (" + kind + ")");
      }
      if (f.length < 2 || Long.parseLong(f[1]) != epoch) {
        continue;
      }
      if (f[0].equals("DECLINED")) {
        throw new IOException("rank " + e.rank().world + " declined the checkpoint: "
            + (f.length > 2 ? f[2] : ""));
      }
      if (f[0].equals(kind)) {
        got.put(e.rank(), e.line());
      }
    }
    return got;
  }

  private void awaitDisconnected(List<Rank> members, long deadline) throws IOException {
    int open = members.size();
    while (open > 0) {
      Event e = next(deadline, "disconnect", open);
      if (e.line().equals("EOF")) {
        open--;
      }
    }
  }

  private Event next(long deadline, String what, int missing) throws IOException {
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

  private record Event(Rank rank, String line) {}

  /** Messages on communicator gid from world rank src to world rank dst. */
  private record Flow(String gid, int src, int dst) {}

  private static final class Rank {
    final int world;
    final SocketChannel ch;

    Rank(int world, SocketChannel ch) {
      this.world = world;
      this.ch = ch;
    }

    synchronized void send(String line) throws IOException {
      ByteBuffer b = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
      while (b.hasRemaining()) {
        ch.write(b);
      }
    }
  }
}
