package io.crmpi.coordinator;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One daemon thread that works through the epochs it is asked for, one at
 * a time, newest first: a request that a newer one overtook before its turn
 * came is skipped (the newer epoch holds the job's newest state). The
 * background work of committed epochs (flushes, partner copies) runs here.
 */
final class NewestEpochWorker implements AutoCloseable {
  private final ExecutorService thread;
  private final AtomicLong wanted = new AtomicLong();
  private volatile boolean closed;

  NewestEpochWorker(String threadName) {
    this.thread = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, threadName);
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * Runs work for epoch on the thread once the work before it ended, unless
   * a newer epoch was asked for meanwhile or the worker was closed; then
   * skipped runs instead (on the thread).
   */
  void request(long epoch, Runnable work, Runnable skipped) {
    wanted.accumulateAndGet(epoch, Math::max);
    thread.execute(() -> {
      if (closed || wanted.get() != epoch) {
        skipped.run();
        return;
      }
      work.run();
    });
  }

  /**
   * Runs work for epoch on the thread once the work before it ended, and
   * waits for it: never skipped, and work asked for older epochs meanwhile
   * is.
   */
  <T> T runNow(long epoch, Callable<T> work) throws ExecutionException, InterruptedException {
    wanted.accumulateAndGet(epoch, Math::max);
    Future<T> f = thread.submit(work);
    return f.get();
  }

  /** Set by {@link #close}: work that runs then was stopped, not broken. */
  boolean closed() {
    return closed;
  }

  /** Work that runs is interrupted and left to end on its own; none starts after this. */
  @Override
  public void close() {
    closed = true;
    thread.shutdownNow();
  }
}
