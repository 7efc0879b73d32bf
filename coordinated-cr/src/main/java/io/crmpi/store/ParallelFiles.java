package io.crmpi.store;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Runs one task per file on a few threads (each rank's image is a file of
 * its own, and one thread left the other cores idle while a restore or a
 * flush waited). The first failure is thrown as the task's IOException;
 * every task has ended when {@link #map} returns or throws, so nothing
 * writes after it.
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
      for (T item : items) {
        futures.add(pool.submit(() -> task.apply(item)));
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
      throw new IOException(threadName + " interrupted");
    } finally {
      pool.shutdownNow();
      try {
        pool.awaitTermination(1, TimeUnit.MINUTES);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
