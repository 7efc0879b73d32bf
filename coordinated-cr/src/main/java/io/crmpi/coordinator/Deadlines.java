package io.crmpi.coordinator;

import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Where the coordinator's timeouts come from: a phase schedules a canceller
 * that fails whatever has not answered when it runs. In production a
 * shared timer thread runs them; a test injects its own and fires them
 * when it chooses, without sleeping.
 */
@FunctionalInterface
public interface Deadlines {
  /** Runs action after delay, unless the returned handle is cancelled first. */
  Cancellable after(Duration delay, Runnable action);

  /** A scheduled canceller that is no longer needed. */
  @FunctionalInterface
  interface Cancellable {
    void cancel();
  }

  /** Real time, on one daemon timer thread shared by every coordinator of the JVM. */
  static Deadlines system() {
    return SystemDeadlines.INSTANCE;
  }

  /** The system timer. */
  final class SystemDeadlines implements Deadlines {
    static final SystemDeadlines INSTANCE = new SystemDeadlines();
    private final java.util.concurrent.ScheduledThreadPoolExecutor timer =
        new java.util.concurrent.ScheduledThreadPoolExecutor(1, r -> {
          Thread t = new Thread(r, "crmpi-deadlines");
          t.setDaemon(true);
          return t;
        });

    private SystemDeadlines() {
      // A cancelled canceller leaves the queue at once, with the answers it holds (a 30-minute dump timeout).
      timer.setRemoveOnCancelPolicy(true);
    }

    @Override
    public Cancellable after(Duration delay, Runnable action) {
      ScheduledFuture<?> f = timer.schedule(action, delay.toNanos(), TimeUnit.NANOSECONDS);
      return () -> f.cancel(false);
    }
  }
}
