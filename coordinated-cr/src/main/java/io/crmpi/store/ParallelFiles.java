package io.crmpi.store;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs one task per file on a few threads (each rank's image is a file of
 * its own, and one thread left the other cores idle while a restore or a
 * flush waited). The first failure is thrown as the task's IOException;
 * every task has ended when {@link #map} returns or throws, so nothing
 * writes after it. After a failure the tasks not yet begun are skipped and
 * those under way end on their own: they are not interrupted, because a
 * task may be writing to a socket (a progress report to a client), and an
 * interrupt closes the channel it lands on, with the answer the client
 * still waits for.
 */
public final class ParallelFiles {
  /** Files worked on at once at most. */
  public static final int MAX_THREADS = 4;

  /** One file's work. */
  @FunctionalInterface
  public interface Task<T, R> {
    R apply(T item) throws IOException;
  }

  private ParallelFiles() {}

  /** The results of task over items, in their order; threadName names the threads. */
  public static <T, R> List<R> map(List<T> items, String threadName, Task<T, R> task) throws IOException {
    if (items.isEmpty()) {
      return List.of();
    }
    int threads = Math.max(1, Math.min(MAX_THREADS, Math.min(items.size(),
        Runtime.getRuntime().availableProcessors())));
    ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, threadName);
      t.setDaemon(true);
      return t;
    });
    try {
      List<Future<R>> futures = new ArrayList<>();
      AtomicBoolean failed = new AtomicBoolean();
      for (T item : items) {
        futures.add(pool.submit(() -> {
          if (failed.get()) {
            return null; // another file failed: the result is thrown away
          }
          try {
            return task.apply(item);
          } catch (IOException | RuntimeException e) {
            failed.set(true);
            throw e;
          }
        }));
      }
      List<R> results = new ArrayList<>();
      for (Future<R> f : futures) {
        try {
          results.add(f.get());
        } catch (ExecutionException e) {
          if (e.getCause() instanceof IOException io) {
            throw io;
          }
          throw new IOException(threadName + " failed: " + e.getCause(), e.getCause());
        }
      }
      return results;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      pool.shutdownNow(); // the caller gives up: its tasks are stopped
      throw new IOException(threadName + " interrupted");
    } finally {
      pool.shutdown();
      try {
        if (!pool.awaitTermination(10, TimeUnit.MINUTES)) {
          pool.shutdownNow();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        pool.shutdownNow();
      }
    }
  }
}
