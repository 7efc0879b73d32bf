package io.crmpi.coordinator;

import io.crmpi.protocol.AgentChannel;
import io.crmpi.protocol.AgentReply;
import io.crmpi.protocol.AgentRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * The flushes of committed epochs from the node-local level to the state
 * directory, one at a time on a thread of their own, while the job runs
 * and checkpoints on. Only the newest epoch asked for is flushed: one that
 * a newer request overtook before it started is skipped (the newer epoch
 * holds the job's newest state). {@link #flushNow} flushes on the caller's
 * behalf and waits (a vacate, and commits at the shared level).
 */
final class FlushQueue implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(FlushQueue.class.getName());
  private final String job;
  private final List<AgentChannel> agents;
  private final Duration timeout;
  private final StoragePlan storage;
  private final Deadlines deadlines;
  private final java.util.function.LongSupplier nanoTime;
  private final NewestEpochWorker worker;
  /** The last epoch flushed everywhere: its files are linked instead of copied where unchanged. */
  private volatile Path[] lastFlushed;
  private volatile FlushOutcome lastOutcome;

  FlushQueue(String job, List<AgentChannel> agents, StoragePlan storage, Deadlines deadlines,
      java.util.function.LongSupplier nanoTime) {
    this.job = job;
    this.agents = List.copyOf(agents);
    this.storage = storage;
    this.timeout = storage.flushTimeout();
    this.deadlines = deadlines;
    this.nanoTime = nanoTime;
    this.worker = new NewestEpochWorker("crmpi-flush-" + job);
  }

  /** Flushes epoch in the background, unless a newer one is asked for first; done hears how it went. */
  void request(long epoch, Path local, Path shared, Consumer<FlushOutcome> done) {
    worker.request(epoch, () -> {
      FlushOutcome outcome = flush(epoch, local, shared);
      if (worker.closed() && !outcome.ok()) {
        LOG.fine(() -> "job " + job + " epoch " + epoch + ": flush stopped, the job is ending");
        return;
      }
      done.accept(outcome);
    }, () -> LOG.fine(() -> "job " + job + " epoch " + epoch + ": flush skipped, a newer epoch is to be flushed"
        + " (or the job is ending)"));
  }

  /** Flushes epoch once the flush running (if any) ended, and waits for it. */
  FlushOutcome flushNow(long epoch, Path local, Path shared) {
    try {
      return worker.runNow(epoch, () -> flush(epoch, local, shared));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return FlushOutcome.failed(epoch, "interrupted");
    } catch (ExecutionException e) {
      return FlushOutcome.failed(epoch, String.valueOf(e.getCause()));
    } catch (java.util.concurrent.RejectedExecutionException e) {
      return FlushOutcome.failed(epoch, "the job is shutting down");
    }
  }

  /** Takes local and shared as the epoch flushed last (from an earlier run of the job), if none is yet. */
  void flushedBefore(Path local, Path shared) {
    if (lastFlushed == null) {
      lastFlushed = new Path[] {local, shared};
    }
  }

  /** The newest flush's outcome, or null before the first. */
  FlushOutcome last() {
    return lastOutcome;
  }

  private FlushOutcome flush(long epoch, Path local, Path shared) {
    long start = nanoTime.getAsLong();
    Path[] previous = lastFlushed;
    Broadcast.Phase phase = Broadcast.send(agents, a -> new AgentRequest.Flush(epoch, local, shared,
        previous == null ? null : previous[0], previous == null ? null : previous[1], storage.chunks(),
        storage.zstdLevel()), timeout, deadlines);
    FlushOutcome outcome;
    if (phase.ok(AgentReply.Flushed.class)) {
      long bytes = 0;
      long linked = 0;
      for (AgentReply r : phase.replies().values()) {
        bytes += ((AgentReply.Flushed) r).bytes();
        linked += ((AgentReply.Flushed) r).linkedBytes();
      }
      outcome = new FlushOutcome(epoch, bytes, linked, (nanoTime.getAsLong() - start) / 1_000_000, null);
      lastFlushed = new Path[] {local, shared};
    } else {
      outcome = FlushOutcome.failed(epoch, phase.problem());
    }
    lastOutcome = outcome;
    return outcome;
  }

  @Override
  public void close() {
    worker.close();
  }
}
