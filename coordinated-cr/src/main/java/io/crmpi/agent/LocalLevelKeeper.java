package io.crmpi.agent;

import io.crmpi.engine.ProgressDisplay;
import io.crmpi.fault.FaultPoint;
import io.crmpi.fault.Faults;
import io.crmpi.protocol.AgentReply;
import io.crmpi.protocol.AgentRequest;
import io.crmpi.store.NodeLocalLevel;
import java.io.IOException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * A node's node-local level: flushes its copy of an epoch to the state
 * directory, on a thread of its own beside the checkpoints (a long flush
 * never holds up the next prepare), and prunes the copies retention no
 * longer keeps, never the one being flushed unless that flush is cancelled
 * first.
 */
final class LocalLevelKeeper implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(LocalLevelKeeper.class.getName());

  private final String job;
  private final String node;
  private final Faults faults;
  private final LongSupplier nanoTime;
  private final Supplier<ProgressDisplay> progress;
  private final ExecutorService flusher;
  /** The epoch being flushed (0: none): its node-local copy is not pruned meanwhile. */
  private volatile long flushing;
  /** A flush of this epoch stops at its next piece: its node-local copy is to be removed. */
  private volatile long cancelFlushOf;

  LocalLevelKeeper(String job, String node, Faults faults, LongSupplier nanoTime, Supplier<ProgressDisplay> progress) {
    this.job = job;
    this.node = node;
    this.faults = faults;
    this.nanoTime = nanoTime;
    this.progress = progress;
    this.flusher = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "crmpi-flush-" + node);
      t.setDaemon(true);
      return t;
    });
  }

  /** The thread flushes run on. */
  ExecutorService flusher() {
    return flusher;
  }

  AgentReply flush(AgentRequest.Flush f) throws IOException {
    long start = nanoTime.getAsLong();
    flushing = f.epoch();
    try (ProgressDisplay.Meter meter = progress.get().open("job " + job + " epoch " + f.epoch() + ": node "
        + node + " flushing to the state directory")) {
      long[] done = {0};
      LevelFlush.Result r = LevelFlush.flush(f.localEpochDir(), f.sharedEpochDir(), f.previousLocal(),
          f.previousShared(), "nodes/" + node, n -> meter.at(done[0] += n, 0), () -> cancelFlushOf == f.epoch(),
          new LevelFlush.Format(f.chunks(), f.zstdLevel()), f.epoch());
      faults.check(FaultPoint.FLUSH, f.epoch()); // written, not yet counted: the worst moment to fail
      long ms = (nanoTime.getAsLong() - start) / 1_000_000;
      LOG.fine(() -> "job " + job + " epoch " + f.epoch() + ": node " + node + " flushed "
          + r.copiedBytes() + " bytes (" + r.linkedBytes() + " linked) in " + ms + " ms");
      return new AgentReply.Flushed(node, f.epoch(), r.copiedBytes(), r.linkedBytes(), ms);
    } finally {
      flushing = 0;
    }
  }

  AgentReply prune(AgentRequest.Prune p) throws IOException {
    Set<Long> keep = new HashSet<>(p.keep());
    long busy = flushing;
    if (busy > 0 && !keep.contains(busy)) {
      // A flush of a copy that goes (the job is over, or retention passed it) stops; the copy goes after it.
      cancelFlushOf = busy;
      try {
        flusher.submit(() -> { }).get(60, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        keep.add(busy);
      } catch (ExecutionException | TimeoutException | RejectedExecutionException e) {
        keep.add(busy); // still flushing: kept, for the next prune
      }
    }
    List<Long> removed = NodeLocalLevel.at(p.localJobDir()).prune(keep);
    if (!removed.isEmpty()) {
      LOG.fine(() -> "job " + job + " epoch " + p.epoch() + ": node " + node
          + " removed its node-local copies of epochs " + removed);
    }
    return new AgentReply.Pruned(node, p.epoch(), removed);
  }

  @Override
  public void close() {
    flusher.shutdownNow();
  }
}
